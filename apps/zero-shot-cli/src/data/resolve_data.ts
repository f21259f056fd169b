import {
  FASHION_MNIST_CLASS_NAMES,
  grayscaleSource,
  imageDatasetSource,
  loadFashionMnist,
  loadImageFolderDataset,
} from '@moevl/vision';
import type { EvalSource, LayoutOption } from '@moevl/vision';
import { InputError, UsageError } from '../errors.js';
import type { ClassesChoice } from '../flags/classes.js';

/** `--data fashion-mnist`: the official Fashion-MNIST test set (10,000 images), shipped with @moevl/vision. */
export const FASHION_MNIST_DATA = 'fashion-mnist';

export interface DataFlags {
  data: string;
  layout?: LayoutOption;
  labelsFile?: string;
  classes?: ClassesChoice;
  subset?: string[];
  /** Images decoded in parallel (`--threads`). */
  threads?: number;
  /** Image files larger than this are skipped without being read (`--max-image-bytes`). */
  maxImageBytes?: number;
  /** The evaluation's stop signal: a batch being read stops at once on Ctrl-C. */
  signal?: AbortSignal;
}

export interface ResolvedData {
  source: EvalSource;
  /** The dataset's own class names (folder names, ImageNet names, Fashion-MNIST names). */
  classNames: string[];
  /** A few lines for people about what was found (layout, classes, skipped files). */
  summary: string;
  isFashionMnist: boolean;
}

/**
 * Turns `--data` and the flags that shape it into an evaluation source: `fashion-mnist` is the official
 * test set (10,000 images in the official order, named `fashion-mnist:test:<i>`), anything else a folder
 * in one of the ImageNet layouts, listed (not decoded) by `loadImageFolderDataset`, which reports layout,
 * label and folder problems (missing, unreadable, empty, nothing but skipped entries) as `DatasetError`s;
 * special files, loops and unreadable subfolders are skipped and counted in `summary`.
 */
export async function resolveData(flags: DataFlags): Promise<ResolvedData> {
  if (flags.data === FASHION_MNIST_DATA) {
    const ignored = [
      flags.layout !== undefined && flags.layout !== 'auto' ? '--layout' : '',
      flags.labelsFile !== undefined ? '--labels-file' : '',
      flags.subset !== undefined ? '--subset' : '',
      flags.maxImageBytes !== undefined ? '--max-image-bytes' : '',
    ].filter((f) => f.length > 0);
    if (ignored.length > 0) {
      throw new UsageError(`${ignored.join(', ')} only apply to image folders, not to --data fashion-mnist.`);
    }
    const n = FASHION_MNIST_CLASS_NAMES.length;
    if (flags.classes && flags.classes.names.length !== n) {
      throw new InputError(
        `--classes ${flags.classes.label} lists ${flags.classes.names.length} classes but fashion-mnist has ${n}; pass ${n} names in label order.`,
      );
    }
    const ds = await loadFashionMnist({ split: 'test' });
    return {
      source: grayscaleSource(ds, 'fashion-mnist-test'),
      classNames: [...ds.classNames],
      summary: `fashion-mnist-test: the official test set, ${ds.count.toLocaleString('en-US')} images in ${n} classes (in memory)`,
      isFashionMnist: true,
    };
  }
  const ds = await loadImageFolderDataset(flags.data, {
    layout: flags.layout ?? 'auto',
    labelsFile: flags.labelsFile,
    classes: flags.classes?.option ?? 'auto',
    subset: flags.subset,
  });
  return {
    source: imageDatasetSource(ds, {
      concurrency: flags.threads,
      maxImageBytes: flags.maxImageBytes,
      signal: flags.signal,
    }),
    classNames: ds.classNames,
    summary: ds.summary(),
    isFashionMnist: false,
  };
}
