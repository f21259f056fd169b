import { readFile } from 'node:fs/promises';
import { looksLikeWnid } from './class_space.js';
import { DatasetError, listFew, plural } from './dataset_error.js';

/**
 * Labels files for a flat folder of images. Three formats are read:
 * - `kaggle`: Kaggle's `LOC_val_solution.csv`, header `ImageId,PredictionString`; the first token of
 *   PredictionString (`n01751748 0 0 10 10 ...`) is the synset, the ImageId is the file name without
 *   its `.JPEG` extension;
 * - `filename-wnid`: `ILSVRC2012_val_00000001.JPEG,n01751748` (comma, tab or spaces; optional header);
 * - `filename-index`: `ILSVRC2012_val_00000001.JPEG,65` with 0-based indices in sorted-synset order (the
 *   convention of Caffe's `val.txt` and of the class-index order every model uses).
 *
 * One format is refused on purpose: the devkit's `ILSVRC2012_validation_ground_truth.txt` (one number per
 * line, no file names). Its ids are 1-based ILSVRC2012_IDs in the order of the devkit's `meta.mat`, which
 * is NOT the sorted-synset order: reading them as class indices (even minus one) scrambles almost every
 * label, and the resulting ~0.1% accuracy looks like a broken model rather than a broken label file.
 */

export type LabelsFormat = 'kaggle' | 'filename-wnid' | 'filename-index';

export interface LabelsEntry {
  /** File name as written in the labels file (a Kaggle ImageId has no extension). */
  file: string;
  /** The synset, for `kaggle` and `filename-wnid`. */
  wnid?: string;
  /** The class index, for `filename-index`. */
  index?: number;
  /** 1-based line number in the file, for error messages. */
  line: number;
}

export interface LabelsFile {
  path: string;
  format: LabelsFormat;
  entries: LabelsEntry[];
  /** The header line that was skipped, if any. */
  header?: string;
}

/** File names a flat dataset's labels file is looked up under when none is given. */
export const KAGGLE_LABELS_NAME = 'LOC_val_solution.csv';
export const CONVENTIONAL_LABELS_NAMES: readonly string[] = [
  'labels.csv',
  'labels.txt',
  'val.txt',
  'val.csv',
];
export const DEVKIT_GROUND_TRUTH_NAME = 'ILSVRC2012_validation_ground_truth.txt';

/** The explanation every devkit-trap error carries: what is wrong and how to convert the file. */
export function devkitTrapMessage(path: string, lines: number): string {
  return (
    `${path} has one number per line (${plural(lines, 'line')}) and no file names: this is the ImageNet ` +
    `devkit's ${DEVKIT_GROUND_TRUTH_NAME} (or a file like it), and it is refused on purpose. Its ids are ` +
    `1-based ILSVRC2012_IDs in the order of the devkit's meta.mat, NOT the sorted-synset order models use, ` +
    `so using them as class indices (even minus one) silently scrambles almost every label. Convert it: ` +
    `line i is the label of ILSVRC2012_val_<i, 8 digits>.JPEG; map each id to its WNID with meta.mat's ` +
    `synsets table (ILSVRC2012_ID -> WNID) and write lines "ILSVRC2012_val_00000001.JPEG,n01751748"; or use ` +
    `Kaggle's ${KAGGLE_LABELS_NAME}; or sort the images into one folder per synset.`
  );
}

function isInteger(s: string): boolean {
  return /^\d+$/.test(s);
}

/** Parses labels text (see the module comment for the formats). `path` is only used in messages. */
export function parseLabelsText(text: string, path: string): LabelsFile {
  const lines: Array<{ text: string; line: number }> = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const t = raw.trim();
      if (t.length > 0 && !t.startsWith('#')) lines.push({ text: t, line: i + 1 });
    });
  if (lines.length === 0) throw new DatasetError('bad-labels-file', `Labels file ${path} is empty.`);
  if (lines.every((l) => isInteger(l.text))) {
    throw new DatasetError('devkit-ground-truth', devkitTrapMessage(path, lines.length));
  }
  if (/^imageid\s*,\s*predictionstring$/i.test(lines[0].text)) return parseKaggle(lines, path);
  return parseFilenameLabel(lines, path);
}

function badLines(path: string, what: string, bad: Array<{ text: string; line: number }>): DatasetError {
  const shown = bad.map(
    (b) => `line ${b.line}: "${b.text.length > 60 ? `${b.text.slice(0, 57)}...` : b.text}"`,
  );
  return new DatasetError(
    'bad-labels-file',
    `Labels file ${path}: ${plural(bad.length, 'line')} ${what}: ${listFew(shown, 3)}.`,
  );
}

function parseKaggle(lines: Array<{ text: string; line: number }>, path: string): LabelsFile {
  const entries: LabelsEntry[] = [];
  const bad: typeof lines = [];
  for (const l of lines.slice(1)) {
    const comma = l.text.indexOf(',');
    const file = comma > 0 ? l.text.slice(0, comma).trim() : '';
    const wnid =
      comma > 0
        ? l.text
            .slice(comma + 1)
            .trim()
            .split(/\s+/)[0]
        : '';
    if (file.length === 0 || !looksLikeWnid(wnid)) bad.push(l);
    else entries.push({ file, wnid, line: l.line });
  }
  if (bad.length > 0) throw badLines(path, 'are not "ImageId,<synset> ..." rows', bad);
  if (entries.length === 0)
    throw new DatasetError('bad-labels-file', `Labels file ${path} has a header but no rows.`);
  return { path, format: 'kaggle', entries, header: lines[0].text };
}

function parseFilenameLabel(lines: Array<{ text: string; line: number }>, path: string): LabelsFile {
  const split = (t: string): string[] =>
    t.includes(',') ? t.split(',').map((f) => f.trim()) : t.split(/\s+/);
  const fields = lines.map((l) => split(l.text));
  const isLabel = (s: string | undefined): boolean => s !== undefined && (looksLikeWnid(s) || isInteger(s));
  // A first line like `filename,label` or `file wnid` is a header: its label field is not a label and
  // its first field is not a file name (no extension). `x.JPEG,cat` is a malformed row, reported below.
  const start = fields[0].length === 2 && !isLabel(fields[0][1]) && !fields[0][0].includes('.') ? 1 : 0;
  const rows = lines.slice(start).map((l, i) => ({ ...l, fields: fields[start + i] }));
  if (rows.length === 0)
    throw new DatasetError('bad-labels-file', `Labels file ${path} has a header but no rows.`);
  const malformed = rows.filter(
    (r) => r.fields.length !== 2 || r.fields[0].length === 0 || !isLabel(r.fields[1]),
  );
  if (malformed.length > 0) {
    throw badLines(path, 'are not "filename,wnid" or "filename,index" (0-based) rows', malformed);
  }
  const wnidRows = rows.filter((r) => looksLikeWnid(r.fields[1]));
  if (wnidRows.length > 0 && wnidRows.length < rows.length) {
    const minority =
      wnidRows.length * 2 < rows.length ? wnidRows : rows.filter((r) => !looksLikeWnid(r.fields[1]));
    throw badLines(
      path,
      `mix synset ids and class indices (${wnidRows.length} synsets, ${rows.length - wnidRows.length} indices); the odd ones`,
      minority,
    );
  }
  const format: LabelsFormat = wnidRows.length > 0 ? 'filename-wnid' : 'filename-index';
  const entries = rows.map((r): LabelsEntry =>
    format === 'filename-wnid'
      ? { file: r.fields[0], wnid: r.fields[1], line: r.line }
      : { file: r.fields[0], index: Number(r.fields[1]), line: r.line },
  );
  return { path, format, entries, ...(start === 1 ? { header: lines[0].text } : {}) };
}

/** Reads and parses a labels file, failing clearly if it cannot be read. */
export async function readLabelsFile(path: string): Promise<LabelsFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DatasetError(
      'missing-labels-file',
      code === 'ENOENT'
        ? `Labels file ${path} does not exist.`
        : `Cannot read labels file ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return parseLabelsText(text, path);
}
