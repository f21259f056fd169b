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
 * CSV/TSV pairs as open_clip's `CsvDataset` reads them (`pd.read_csv(sep=...)`, columns `filepath` and
 * `title` by default): a header row naming the columns, RFC 4180 quoting (`"a, b"`, `""` for a quote,
 * newlines inside quotes), CRLF or LF line ends, blank lines ignored. Image paths are relative to the CSV
 * file's folder. Rows stay on disk: only their byte offsets are kept.
 */

export const DEFAULT_CSV_IMAGE_KEY = 'filepath';
export const DEFAULT_CSV_CAPTION_KEY = 'title';
export const DEFAULT_CSV_SEPARATOR = '\t';

/**
 * The fields of the first record in `text` (the parser stops at the first newline outside quotes).
 * A quote opens a quoted field only at the field's start; elsewhere it is an ordinary character.
 */
export function parseCsvRecord(text: string, separator: string): string[] {
  const fields: string[] = [];
  let field = '';
  let i = 0;
  const n = text.length;
  for (;;) {
    if (text[i] === '"') {
      // quoted field: up to the closing quote, "" is one quote
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1) {
          field += text.slice(i);
          i = n;
          break;
        }
        field += text.slice(i, q);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
    }
    // unquoted part (or what follows a closing quote) up to the separator or the end of the line
    let j = i;
    while (j < n && text[j] !== separator && text[j] !== '\n') j++;
    field += text.slice(i, j);
    if (j < n && text[j] === separator) {
      fields.push(field);
      field = '';
      i = j + 1;
      continue;
    }
    fields.push(field.endsWith('\r') ? field.slice(0, -1) : field);
    return fields;
  }
}

/** A separator must be one ASCII character that cannot be confused with quoting or line ends. */
export function checkSeparator(separator: string): number {
  const code = separator.length === 1 ? separator.charCodeAt(0) : -1;
  if (code < 1 || code > 127 || separator === '"' || separator === '\n' || separator === '\r') {
    throw new DatasetError(
      'bad-option',
      `The CSV separator must be one ASCII character other than a quote or a line end (tab, comma, ...), got ${JSON.stringify(separator)}.`,
    );
  }
  return code;
}

const SEPARATOR_NAMES: Record<string, string> = { '\t': 'tab', ',': 'comma', ';': 'semicolon', '|': 'pipe' };

function nameOfSeparator(sep: string): string {
  return SEPARATOR_NAMES[sep] ?? JSON.stringify(sep);
}

export interface CsvTableOptions {
  imageKey: string;
  captionKey: string;
  separator: string;
  signal?: AbortSignal;
}

interface CsvFile {
  path: string;
  name: string;
  dir: string;
  file: OpenedDataFile;
  index: RecordIndex;
  imageCol: number;
  captionCol: number;
  /** Data rows (records after the header). */
  rows: number;
}

const decoder = new TextDecoder('utf-8');

function missingColumn(
  path: string,
  key: string,
  option: string,
  header: string[],
  sep: string,
): DatasetError {
  let hint = `pass ${option} with one of them`;
  if (header.length === 1) {
    const other = Object.keys(SEPARATOR_NAMES).find((s) => s !== sep && header[0].includes(s));
    if (other !== undefined) {
      hint = `the header has a single ${nameOfSeparator(sep)}-separated column; if the file is ${nameOfSeparator(other)}-separated, pass separator ${JSON.stringify(other)}`;
    }
  }
  return new DatasetError(
    'bad-dataset-file',
    `${path} has no column "${key}" (its columns: ${listFew(
      header.map((h) => JSON.stringify(h)),
      12,
    )}); ${hint}.`,
  );
}

async function openCsvFile(path: string, options: CsvTableOptions): Promise<CsvFile> {
  const sepByte = checkSeparator(options.separator);
  const file = await openDataFile(path, 'data file');
  try {
    if (file.size === 0) {
      throw new DatasetError(
        'bad-dataset-file',
        `The data file ${path} is empty; it needs a header row and one row per image.`,
      );
    }
    const index = await indexRecords(file, {
      quoted: true,
      separator: sepByte,
      path,
      signal: options.signal,
    });
    if (index.count === 0) {
      throw new DatasetError(
        'bad-dataset-file',
        `The data file ${path} holds only blank lines; it needs a header row and one row per image.`,
      );
    }
    const header = parseCsvRecord(
      decoder.decode(await readRecordBytes(file.handle, index, 0)),
      options.separator,
    );
    if (header[0]?.startsWith('\ufeff')) header[0] = header[0].slice(1);
    const imageCol = header.indexOf(options.imageKey);
    if (imageCol < 0) throw missingColumn(path, options.imageKey, 'imageKey', header, options.separator);
    const captionCol = header.indexOf(options.captionKey);
    if (captionCol < 0)
      throw missingColumn(path, options.captionKey, 'captionKey', header, options.separator);
    if (index.count === 1) {
      throw new DatasetError(
        'bad-dataset-file',
        `The data file ${path} has a header but no rows; add one row per image.`,
      );
    }
    const abs = resolve(path);
    return {
      path: abs,
      name: basename(abs),
      dir: dirname(abs),
      file,
      index,
      imageCol,
      captionCol,
      rows: index.count - 1,
    };
  } catch (err) {
    await file.handle.close();
    throw err;
  }
}

/** The rows of one or more CSV files, read by global row number. */
export class CsvTable implements RowTable {
  readonly size: number;
  readonly description: string;
  readonly dataset: string;
  private readonly offsets: number[] = [];
  private readonly separator: string;

  private constructor(
    private readonly files: CsvFile[],
    options: CsvTableOptions,
  ) {
    let total = 0;
    for (const f of files) {
      this.offsets.push(total);
      total += f.rows;
    }
    this.size = total;
    this.separator = options.separator;
    this.description =
      `csv ${listFew(
        files.map((f) => f.path),
        3,
      )}: ${plural(total, 'row')}, ` +
      `image column "${options.imageKey}", caption column "${options.captionKey}", ${nameOfSeparator(options.separator)}-separated`;
    this.dataset = `csv:${files.map((f) => `${f.name}/${f.rows}/${f.index.fileSize}`).join(',')}`;
  }

  static async open(paths: readonly string[], options: CsvTableOptions): Promise<CsvTable> {
    const files: CsvFile[] = [];
    try {
      for (const p of paths) files.push(await openCsvFile(p, options));
      const table = new CsvTable(files, options);
      await table.checkFirstRow();
      return table;
    } catch (err) {
      await Promise.all(files.map((f) => f.file.handle.close().catch(() => undefined)));
      throw err;
    }
  }

  /** URLs instead of paths (a LAION-style CSV) would be skipped row by row; say so once, at open. */
  private async checkFirstRow(): Promise<void> {
    const f = this.files[0];
    const fields = await this.fields(f, 0);
    const image = fields[f.imageCol] ?? '';
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(image)) {
      throw new DatasetError(
        'bad-dataset-file',
        `${f.path}: the images are URLs (row 1: ${image}); download them first (e.g. into WebDataset shards) and point the rows at the files.`,
      );
    }
  }

  private async fields(f: CsvFile, local: number): Promise<string[]> {
    const bytes = await readRecordBytes(f.file.handle, f.index, local + 1);
    return parseCsvRecord(decoder.decode(bytes), this.separator);
  }

  async read(row: number, epoch: number): Promise<Candidate> {
    let k = this.files.length - 1;
    while (this.offsets[k] > row) k--;
    const f = this.files[k];
    const local = row - this.offsets[k];
    const id = `${f.name}:${local + 1}`;
    const where = `${f.path} row ${local + 1}`;
    const fields = await this.fields(f, local);
    if (fields.length <= Math.max(f.imageCol, f.captionCol)) {
      const detail = `${where} has ${plural(fields.length, 'field')}, fewer than the header's columns`;
      return { id, epoch, skip: 'bad-row', detail };
    }
    const image = fields[f.imageCol];
    const caption = fields[f.captionCol];
    if (image.trim() === '') return { id, epoch, skip: 'no-image', detail: `${where} has no image path` };
    if (caption.trim() === '') return { id, epoch, skip: 'no-caption', detail: `${where} has no caption` };
    return { id, epoch, caption, image: resolve(f.dir, image) };
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.file.handle.close().catch(() => undefined)));
  }
}
