import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { openDataFile } from './data_file.js';
import type { Candidate } from './types.js';

/**
 * One WebDataset shard read as a stream with tar-stream: members are grouped into samples by key, the
 * path up to the first dot of the file name (`a/000042.jpg` and `a/000042.txt` → key `a/000042`), as
 * webdataset's `base_plus_ext` does. Consecutive members with one key are one sample. `.tar.gz`/`.tgz`
 * shards are gunzipped on the way.
 */

/** Image members by preference, as open_clip's `image="jpg;png;jpeg;webp"`. */
export const WEBDATASET_IMAGE_EXTENSIONS = ['jpg', 'png', 'jpeg', 'webp'] as const;
/** Captions: `.txt`, else a `.json` with a `caption` or `text` field. */
export const WEBDATASET_CAPTION_EXTENSIONS = ['txt', 'json'] as const;

const KEPT = new Set<string>([...WEBDATASET_IMAGE_EXTENSIONS, ...WEBDATASET_CAPTION_EXTENSIONS]);
/** Caption members larger than this are not text anyone wrote by hand. */
const MAX_CAPTION_BYTES = 2 ** 20;

/** A sample's members read so far; only images and captions keep their bytes. */
interface Group {
  key: string;
  members: Map<string, Uint8Array | { size: number }>;
  exts: string[];
}

/** One sample of a shard: its position in the shard and what it became. */
export interface ShardSample {
  ordinal: number;
  key: string;
  candidate: Candidate;
}

type TarEntry = Readable & { header: tar.Header };

function splitName(name: string): { key: string; ext: string } | null {
  const m = /^((?:.*\/|)[^./][^.]*)\.([^/]*)$/.exec(name.replace(/^\.\//, ''));
  return m ? { key: m[1], ext: m[2].toLowerCase() } : null;
}

async function drain(entry: TarEntry): Promise<void> {
  entry.resume();
  await new Promise<void>((res, rej) => {
    entry.once('end', res);
    entry.once('error', rej);
  });
}

async function readAll(entry: TarEntry): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk as Buffer);
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

const decoder = new TextDecoder('utf-8');

/** What a complete group is: an image + caption candidate, or a skip naming what is missing. */
function toCandidate(
  group: Group,
  shardPath: string,
  shardName: string,
  epoch: number,
  maxImageBytes: number,
): Candidate {
  const id = `${shardName}/${group.key}`;
  const where = `sample ${group.key} of ${shardPath}`;
  const has = group.exts.length > 0 ? group.exts.map((e) => `.${e}`).join(', ') : 'nothing';
  const imageExt = WEBDATASET_IMAGE_EXTENSIONS.find((e) => group.members.has(e));
  if (imageExt === undefined) {
    return {
      id,
      epoch,
      skip: 'no-image',
      detail: `${where} has no .jpg/.png/.jpeg/.webp member (it has ${has})`,
    };
  }
  const image = group.members.get(imageExt)!;
  if (!(image instanceof Uint8Array)) {
    return {
      id,
      epoch,
      skip: 'too-large',
      detail: `${where}: its .${imageExt} is ${image.size.toLocaleString('en-US')} bytes, over the per-image limit of ${maxImageBytes.toLocaleString('en-US')} bytes; raise maxImageBytes to read it`,
    };
  }
  let caption: unknown;
  const txt = group.members.get('txt');
  const json = group.members.get('json');
  if (txt !== undefined) {
    if (!(txt instanceof Uint8Array))
      return { id, epoch, skip: 'caption-not-text', detail: `${where}: its .txt is over 1 MiB` };
    caption = decoder.decode(txt).trim();
  } else if (json !== undefined) {
    if (!(json instanceof Uint8Array))
      return { id, epoch, skip: 'caption-not-text', detail: `${where}: its .json is over 1 MiB` };
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(json));
    } catch {
      return { id, epoch, skip: 'caption-not-text', detail: `${where}: its .json is not valid JSON` };
    }
    const obj = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    caption = 'caption' in obj ? obj.caption : obj.text;
    if (caption === undefined) {
      return {
        id,
        epoch,
        skip: 'no-caption',
        detail: `${where}: its .json has no "caption" or "text" field`,
      };
    }
  } else {
    return { id, epoch, skip: 'no-caption', detail: `${where} has no .txt or .json caption (it has ${has})` };
  }
  if (typeof caption !== 'string') {
    return {
      id,
      epoch,
      skip: 'caption-not-text',
      detail: `${where}: its caption is ${JSON.stringify(caption)?.slice(0, 40)}, not text`,
    };
  }
  if (caption.trim() === '')
    return { id, epoch, skip: 'no-caption', detail: `${where} has an empty caption` };
  return { id, epoch, caption, image };
}

/** Reads the samples of one shard in order; `next()` returns null at the end. */
export class ShardReader {
  private iterator: AsyncIterator<TarEntry> | null = null;
  private extract: tar.Extract | null = null;
  private file: Readable | null = null;
  private input: Readable | null = null;
  private pending: TarEntry | null = null;
  private finished = false;
  private ordinal = 0;
  readonly name: string;

  constructor(
    readonly path: string,
    private readonly epoch: number,
    private readonly maxImageBytes: number,
    private readonly signal?: AbortSignal,
  ) {
    this.name = basename(path);
  }

  /** Samples returned so far (skips included). */
  get samplesRead(): number {
    return this.ordinal;
  }

  private async start(): Promise<void> {
    const { handle } = await openDataFile(this.path, 'shard');
    const file = handle.createReadStream({ highWaterMark: 1 << 20 });
    const extract = tar.extract();
    const input: Readable = /\.(tgz|tar\.gz)$/i.test(this.path) ? file.pipe(createGunzip()) : file;
    // `on`, not `once`: a stream destroyed while piping can report more than one error, and an error
    // without a listener would crash the process; the first one reaches the reader through `extract`.
    const fail = (err: Error): void => void extract.destroy(err);
    file.on('error', fail);
    if (input !== file) input.on('error', fail);
    input.pipe(extract as unknown as NodeJS.WritableStream);
    this.extract = extract;
    this.file = file;
    this.input = input;
    this.iterator = (extract as unknown as AsyncIterable<TarEntry>)[Symbol.asyncIterator]();
  }

  private async entry(): Promise<TarEntry | null> {
    if (this.pending) {
      const e = this.pending;
      this.pending = null;
      return e;
    }
    if (this.finished) return null;
    if (!this.iterator) await this.start();
    const r = await this.iterator!.next();
    if (r.done) {
      this.finished = true;
      return null;
    }
    return r.value;
  }

  /**
   * The next sample, or null after the last. A shard that stops being tar (truncated, corrupt, not a
   * tar at all) throws; the caller skips the rest of it.
   */
  async next(): Promise<ShardSample | null> {
    let group: Group | null = null;
    for (;;) {
      this.signal?.throwIfAborted();
      const entry = await this.entry();
      if (entry === null) break;
      const h = entry.header;
      const parts = h.type === 'file' || h.type === 'contiguous-file' ? splitName(h.name) : null;
      if (parts === null) {
        await drain(entry);
        continue;
      }
      if (group !== null && parts.key !== group.key) {
        this.pending = entry; // the first member of the next sample: its body is read next time
        break;
      }
      group ??= { key: parts.key, members: new Map(), exts: [] };
      group.exts.push(parts.ext);
      const size = h.size ?? 0;
      const limit = WEBDATASET_CAPTION_EXTENSIONS.includes(parts.ext as 'txt')
        ? MAX_CAPTION_BYTES
        : this.maxImageBytes;
      if (!KEPT.has(parts.ext) || group.members.has(parts.ext)) {
        await drain(entry);
      } else if (size > limit) {
        await drain(entry);
        group.members.set(parts.ext, { size });
      } else {
        group.members.set(parts.ext, await readAll(entry));
      }
    }
    if (group === null) return null;
    const candidate = toCandidate(group, this.path, this.name, this.epoch, this.maxImageBytes);
    return { ordinal: this.ordinal++, key: group.key, candidate };
  }

  close(): void {
    this.finished = true;
    this.pending = null;
    this.input?.unpipe();
    if (this.input !== this.file) this.input?.destroy();
    this.file?.destroy(); // closes the descriptor
    this.file = null;
    this.input = null;
    this.extract?.on('error', () => undefined);
    this.extract?.destroy();
    this.extract = null;
    this.iterator = null;
  }
}
