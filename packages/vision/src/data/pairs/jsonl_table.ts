import { basename, dirname, resolve } from 'node:path';
import { DatasetError, listFew, plural } from '../dataset_error.js';
import {
  indexRecords,
  openDataFile,
  type OpenedDataFile,
  readRecordBytes,
  type RecordIndex,
} from './data_file.js';
import type { RowTable } from './row_table.js';
import type { Candidate } from './types.js';

/**
 * JSONL pairs: one `{"image": path, "caption": text}` object per line (`file`/`filepath` and
 * `text`/`title` accepted too, or keys of your choosing), image paths relative to the file's folder.
 * Blank lines are ignored; rows are numbered from 1 without them. The first row decides the keys and is
 * checked at open, so a file of the wrong shape fails at once instead of skipping every row.
 */

export const JSONL_IMAGE_KEYS = ['image', 'file', 'filepath'] as const;
export const JSONL_CAPTION_KEYS = ['caption', 'text', 'title'] as const;

export interface JsonlTableOptions {
  imageKey?: string;
  captionKey?: string;
  signal?: AbortSignal;
}

interface JsonlFile {
  path: string;
  name: string;
  dir: string;
  file: OpenedDataFile;
  index: RecordIndex;
  imageKey: string;
  captionKey: string;
}

const decoder = new TextDecoder('utf-8');

type Parsed = { object: Record<string, unknown> } | { error: string };

function parseLine(bytes: Uint8Array): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    return { error: `is not JSON (${(err as Error).message.split('\n')[0]})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { error: `is ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}, not a JSON object` };
  }
  return { object: value as Record<string, unknown> };
}

function pickKey(
  path: string,
  first: Record<string, unknown>,
  given: string | undefined,
  defaults: readonly string[],
  what: string,
  option: string,
): string {
  const keys = Object.keys(first);
  const key = given ?? defaults.find((k) => k in first);
  if (key === undefined || !(key in first)) {
    const wanted = given !== undefined ? `"${given}"` : defaults.map((k) => `"${k}"`).join(', ');
    throw new DatasetError(
      'bad-dataset-file',
      `${path}: row 1 has no ${what} key ${wanted} (its keys: ${
        listFew(
          keys.map((k) => JSON.stringify(k)),
          12,
        ) || 'none'
      }); pass ${option} with the key that holds the ${what}.`,
    );
  }
  return key;
}

async function openJsonlFile(path: string, options: JsonlTableOptions): Promise<JsonlFile> {
  const file = await openDataFile(path, 'data file');
  try {
    if (file.size === 0) {
      throw new DatasetError(
        'bad-dataset-file',
        `The data file ${path} is empty; it needs one JSON object per line.`,
      );
    }
    const index = await indexRecords(file, { quoted: false, path, signal: options.signal });
    if (index.count === 0) {
      throw new DatasetError(
        'bad-dataset-file',
        `The data file ${path} holds only blank lines; it needs one JSON object per line.`,
      );
    }
    const first = parseLine(await readRecordBytes(file.handle, index, 0));
    if ('error' in first) {
      throw new DatasetError(
        'bad-dataset-file',
        `${path}: row 1 ${first.error}; a JSONL file holds one {"image": ..., "caption": ...} object per line.`,
      );
    }
    const imageKey = pickKey(path, first.object, options.imageKey, JSONL_IMAGE_KEYS, 'image', 'imageKey');
    const captionKey = pickKey(
      path,
      first.object,
      options.captionKey,
      JSONL_CAPTION_KEYS,
      'caption',
      'captionKey',
    );
    const abs = resolve(path);
    return { path: abs, name: basename(abs), dir: dirname(abs), file, index, imageKey, captionKey };
  } catch (err) {
    await file.handle.close();
    throw err;
  }
}

/** The rows of one or more JSONL files, read by global row number. */
export class JsonlTable implements RowTable {
  readonly size: number;
  readonly description: string;
  readonly dataset: string;
  private readonly offsets: number[] = [];

  private constructor(private readonly files: JsonlFile[]) {
    let total = 0;
    for (const f of files) {
      this.offsets.push(total);
      total += f.index.count;
    }
    this.size = total;
    const keys = [...new Set(files.map((f) => `"${f.imageKey}" → "${f.captionKey}"`))].join(', ');
    this.description = `jsonl ${listFew(
      files.map((f) => f.path),
      3,
    )}: ${plural(total, 'row')}, keys ${keys}`;
    this.dataset = `jsonl:${files.map((f) => `${f.name}/${f.index.count}/${f.index.fileSize}`).join(',')}`;
  }

  static async open(paths: readonly string[], options: JsonlTableOptions): Promise<JsonlTable> {
    const files: JsonlFile[] = [];
    try {
      for (const p of paths) files.push(await openJsonlFile(p, options));
    } catch (err) {
      await Promise.all(files.map((f) => f.file.handle.close().catch(() => undefined)));
      throw err;
    }
    return new JsonlTable(files);
  }

  async read(row: number, epoch: number): Promise<Candidate> {
    let k = this.files.length - 1;
    while (this.offsets[k] > row) k--;
    const f = this.files[k];
    const local = row - this.offsets[k];
    const id = `${f.name}:${local + 1}`;
    const where = `${f.path} row ${local + 1}`;
    const parsed = parseLine(await readRecordBytes(f.file.handle, f.index, local));
    if ('error' in parsed) return { id, epoch, skip: 'bad-row', detail: `${where} ${parsed.error}` };
    const image = parsed.object[f.imageKey];
    const caption = parsed.object[f.captionKey];
    if (typeof image !== 'string' || image.trim() === '') {
      return { id, epoch, skip: 'no-image', detail: `${where} has no image path under "${f.imageKey}"` };
    }
    if (caption === undefined || (typeof caption === 'string' && caption.trim() === '')) {
      return { id, epoch, skip: 'no-caption', detail: `${where} has no caption under "${f.captionKey}"` };
    }
    if (typeof caption !== 'string') {
      const shown = JSON.stringify(caption);
      const detail = `${where}: "${f.captionKey}" is ${shown.length > 40 ? `${shown.slice(0, 40)}…` : shown}, not text`;
      return { id, epoch, skip: 'caption-not-text', detail };
    }
    return { id, epoch, caption, image: resolve(f.dir, image) };
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.file.handle.close().catch(() => undefined)));
  }
}
