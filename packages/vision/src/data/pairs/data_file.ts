import { constants, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { describeFsError } from '../../preprocess/errors.js';
import { DatasetError } from '../dataset_error.js';

/**
 * Data files (CSV, JSONL, tar shards) are opened the way images are read (`read_image.ts`): only a
 * regular file, checked on the opened descriptor, never waiting on a FIFO. Rows are then located by byte
 * offset (`RecordIndex`) and read one by one when their batch is built, so a 10-million-row file costs
 * 8 bytes a row in memory, never its text.
 */

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer before fstat can refuse it.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  return 'a special file';
}

export interface OpenedDataFile {
  handle: FileHandle;
  size: number;
}

/**
 * Opens `path` for reading if it is a regular file; otherwise a `DatasetError` naming it (`missing-files`
 * when it does not exist, `bad-dataset-file` otherwise). `what` is how the message names it
 * (`data file`, `shard`).
 */
export async function openDataFile(path: string, what: string): Promise<OpenedDataFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (err) {
    const missing = (err as { code?: unknown }).code === 'ENOENT';
    throw new DatasetError(
      missing ? 'missing-files' : 'bad-dataset-file',
      `The ${what} ${path} cannot be opened (${describeFsError(err)}); check the path${missing ? '' : ' and its permissions'}.`,
      { cause: err },
    );
  }
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw new DatasetError(
      'bad-dataset-file',
      `The ${what} ${path} is ${kindOf(info)}, not a regular file, so it was not read; pass the file itself.`,
    );
  }
  return { handle, size: info.size };
}

/** Rows longer than this are refused: in practice a quote that is never closed swallowing the file. */
export const MAX_RECORD_BYTES = 4 * 2 ** 20;

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const CHUNK = 2 ** 20;

/** Byte offsets of the records (non-blank lines, or CSV records whose quoted fields may hold newlines). */
export class RecordIndex {
  constructor(
    private readonly starts: Float64Array,
    readonly count: number,
    readonly fileSize: number,
  ) {}

  /** First byte of record `i`. */
  start(i: number): number {
    return this.starts[i];
  }

  /** Bytes to read for record `i`: up to the next record (blank lines included; the parser stops first). */
  length(i: number): number {
    return (i + 1 < this.count ? this.starts[i + 1] : this.fileSize) - this.starts[i];
  }
}

export interface IndexOptions {
  /** CSV: newlines inside `"..."` fields do not end a record (RFC 4180 quoting, `""` escapes). */
  quoted: boolean;
  /** The field separator (a byte), for telling where a quoted field can start. */
  separator?: number;
  /** The file's name in messages. */
  path: string;
  signal?: AbortSignal;
}

/**
 * One pass over the file, keeping only where each record starts. Blank lines (and lines holding only
 * `\r`) are not records. Throws a `DatasetError` for a quote that is still open at the end of the file or
 * a record over `MAX_RECORD_BYTES`.
 */
export async function indexRecords(file: OpenedDataFile, options: IndexOptions): Promise<RecordIndex> {
  const { quoted, path, signal } = options;
  const sep = options.separator ?? -1;
  let starts = new Float64Array(1024);
  let count = 0;
  // START: at a field's first byte; FIELD: inside an unquoted field; QUOTED: inside "..."; AFTER: just
  // after a quote inside "..." (the end of the field, or the first half of a "" escape).
  const START = 0;
  const FIELD = 1;
  const QUOTED = 2;
  const AFTER = 3;
  let st = START;
  let recStart = 0;
  let hasContent = false;
  const endRecord = (at: number): void => {
    if (hasContent) {
      if (at - recStart > MAX_RECORD_BYTES) {
        throw new DatasetError(
          'bad-dataset-file',
          `${path}: row ${count + 1} (byte ${recStart}) is over ${MAX_RECORD_BYTES / 2 ** 20} MiB long` +
            (quoted
              ? ', most likely a quote that is never closed; fix the quoting of that row.'
              : '; fix that line.'),
        );
      }
      if (count === starts.length) {
        const grown = new Float64Array(starts.length * 2);
        grown.set(starts);
        starts = grown;
      }
      starts[count++] = recStart;
    }
    recStart = at + 1;
    hasContent = false;
  };
  const buf = Buffer.allocUnsafe(CHUNK);
  for (let base = 0; base < file.size;) {
    signal?.throwIfAborted();
    const { bytesRead } = await file.handle.read(buf, 0, Math.min(CHUNK, file.size - base), base);
    if (bytesRead === 0) break;
    const n = bytesRead;
    let p = 0;
    // Fast path: outside quotes with no quote ahead, only newlines matter.
    const firstQuote = quoted ? buf.indexOf(QUOTE) : -1;
    if (st <= FIELD && (firstQuote === -1 || firstQuote >= n)) {
      while (p < n) {
        const nl = buf.indexOf(NL, p);
        const end = nl === -1 || nl >= n ? n : nl;
        if (end > p && !(end - p === 1 && buf[p] === CR)) hasContent = true;
        if (end > p) st = buf[end - 1] === sep ? START : FIELD;
        if (end === n) break;
        endRecord(base + end);
        st = START;
        p = end + 1;
      }
      base += n;
      continue;
    }
    for (let i = 0; i < n; i++) {
      const b = buf[i];
      if (st === QUOTED) {
        if (b === QUOTE) st = AFTER;
        continue;
      }
      if (st === AFTER) {
        if (b === QUOTE) {
          st = QUOTED;
          continue;
        }
        st = FIELD; // the quoted field ended; anything but a separator or newline is kept, as pandas does
      }
      if (b === NL) {
        endRecord(base + i);
        st = START;
      } else if (b === sep) {
        hasContent = true;
        st = START;
      } else if (b === QUOTE && st === START && quoted) {
        hasContent = true;
        st = QUOTED;
      } else {
        if (b !== CR) hasContent = true;
        st = FIELD;
      }
    }
    base += n;
  }
  if (st === QUOTED) {
    throw new DatasetError(
      'bad-dataset-file',
      `${path}: the quoted field opened in row ${count + 1} (byte ${recStart}) is never closed; fix its quoting.`,
    );
  }
  endRecord(file.size);
  return new RecordIndex(starts, count, file.size);
}

/** The bytes of record `i` (and of the blank lines after it). */
export async function readRecordBytes(handle: FileHandle, index: RecordIndex, i: number): Promise<Buffer> {
  const len = index.length(i);
  const buf = Buffer.allocUnsafe(len);
  let filled = 0;
  while (filled < len) {
    const { bytesRead } = await handle.read(buf, filled, len - filled, index.start(i) + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === len ? buf : buf.subarray(0, filled);
}
