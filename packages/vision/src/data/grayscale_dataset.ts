import { join } from 'node:path';
import { assertPositiveInteger } from '@moevl/core';
import { DatasetError } from './dataset_error.js';
import { type IdxArray, readIdxFile } from './idx.js';

/**
 * In-memory 28×28 grayscale datasets in their official IDX files (Fashion-MNIST, MNIST): the official
 * train/test splits every published number uses, images in the files' own order, each image keeping its
 * index in its official file so predictions can name it (`fashion-mnist:test:<i>`).
 */

export type GrayscaleSplit = 'train' | 'test';

export interface GrayscaleLoadOptions {
  split: GrayscaleSplit;
  /** Keep only the first `perClass` images of each class, in file order (quick experiments and tests). */
  perClass?: number;
  /** Folder holding the four official IDX files (`.gz` or uncompressed); see each loader's default. */
  dir?: string;
}

export interface GrayscaleDataset {
  name: string;
  split: GrayscaleSplit;
  /** `count × 28 × 28` bytes (0 = black), row-major, image after image, in the official file's order. */
  images: Uint8Array;
  /** Class index of each image. */
  labels: Int32Array;
  /** Index of each image in the official file (`0..count-1` unless `perClass` took a subset). */
  indices: Int32Array;
  classNames: string[];
  count: number;
  height: number;
  width: number;
  /** Images of each class in this split. */
  perClassCounts: number[];
  /** The files the split was read from. */
  files: { images: string; labels: string };
}

export const GRAYSCALE_SIDE = 28;
const PIXELS = GRAYSCALE_SIDE * GRAYSCALE_SIDE;

/** What an official IDX pair must be: file stems, counts and (where known) content hashes. */
export interface IdxSplitSpec {
  name: string;
  classNames: readonly string[];
  /** File stem per split, e.g. `t10k` → `t10k-images-idx3-ubyte(.gz)`. */
  stem: string;
  count: number;
  /** sha256 of the uncompressed images and labels files, when the official ones are known. */
  sha256?: { images: string; labels: string };
  /** How to get the files, for the error when they are missing. */
  howToGet: string;
}

async function readFirstExisting(dir: string, base: string, spec: IdxSplitSpec): Promise<[IdxArray, string]> {
  for (const file of [`${base}.gz`, base]) {
    const path = join(dir, file);
    try {
      return [await readIdxFile(path), path];
    } catch (error) {
      if ((error as DatasetError).code !== 'missing-files') throw error;
    }
  }
  throw new DatasetError(
    'missing-files',
    `${spec.name}: ${join(dir, `${base}.gz`)} not found (nor uncompressed). ${spec.howToGet}`,
  );
}

/**
 * Reads one official split (`<stem>-images-idx3-ubyte[.gz]` + `<stem>-labels-idx1-ubyte[.gz]`) from `dir`,
 * checks shapes, counts, label range and, where `spec.sha256` is given, that the contents are the official
 * files byte for byte — a number on anything else cannot be compared with published results.
 */
export async function loadIdxSplit(
  dir: string,
  split: GrayscaleSplit,
  spec: IdxSplitSpec,
  perClass?: number,
): Promise<GrayscaleDataset> {
  if (split !== 'train' && split !== 'test') {
    throw new DatasetError(
      'bad-option',
      `${spec.name}: split must be 'train' or 'test', got "${String(split)}".`,
    );
  }
  if (perClass !== undefined) {
    assertPositiveInteger(`${spec.name}: perClass`, perClass, (m) => new DatasetError('bad-option', m));
  }
  // Both read at once; a failure is reported in file order (images first), not by which read lost the race.
  const read = await Promise.allSettled([
    readFirstExisting(dir, `${spec.stem}-images-idx3-ubyte`, spec),
    readFirstExisting(dir, `${spec.stem}-labels-idx1-ubyte`, spec),
  ]);
  for (const r of read) if (r.status === 'rejected') throw r.reason;
  const [[images, imagesFile], [labels, labelsFile]] = read.map(
    (r) => (r as PromiseFulfilledResult<[IdxArray, string]>).value,
  );
  const wrong = (why: string): never => {
    throw new DatasetError(
      'bad-dataset-file',
      `${spec.name} ${split}: ${why}; these are not the official files. ${spec.howToGet}`,
    );
  };
  const [n, h, w] = images.shape;
  if (images.shape.length !== 3 || h !== GRAYSCALE_SIDE || w !== GRAYSCALE_SIDE) {
    wrong(
      `${imagesFile} holds images of shape [${images.shape.join(', ')}], expected [${spec.count}, 28, 28]`,
    );
  }
  if (n !== spec.count || labels.shape.length !== 1 || labels.shape[0] !== spec.count) {
    wrong(
      `${imagesFile} / ${labelsFile} hold ${n} images and ${labels.shape[0]} labels, expected ${spec.count}`,
    );
  }
  if (spec.sha256 && (images.sha256 !== spec.sha256.images || labels.sha256 !== spec.sha256.labels)) {
    wrong(`the contents of ${imagesFile} or ${labelsFile} differ from the official release (sha256)`);
  }
  const classes = spec.classNames.length;
  const badLabel = labels.data.findIndex((l) => l >= classes);
  if (badLabel >= 0) wrong(`label ${labels.data[badLabel]} of image ${badLabel} is not a class index`);

  const keep: number[] = [];
  const taken = new Array<number>(classes).fill(0);
  for (let i = 0; i < n; i++) {
    const c = labels.data[i];
    if (perClass === undefined || taken[c] < perClass) {
      keep.push(i);
      taken[c]++;
    }
  }
  const out = new Uint8Array(keep.length * PIXELS);
  keep.forEach((i, r) => out.set(images.data.subarray(i * PIXELS, (i + 1) * PIXELS), r * PIXELS));
  return {
    name: spec.name,
    split,
    images: out,
    labels: Int32Array.from(keep, (i) => labels.data[i]),
    indices: Int32Array.from(keep),
    classNames: [...spec.classNames],
    count: keep.length,
    height: GRAYSCALE_SIDE,
    width: GRAYSCALE_SIDE,
    perClassCounts: taken,
    files: { images: imagesFile, labels: labelsFile },
  };
}
