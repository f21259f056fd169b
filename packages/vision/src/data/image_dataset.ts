import type { ClassesOption, ClassSpaceKind } from './class_space.js';
import type { LabelsFormat } from './labels_file.js';
import type { SkippedFiles } from './skipped_files.js';

/**
 * The shape of an image-folder dataset: a list of (file, label) pairs plus the class space the labels
 * index into. Decoding is deliberately not done here — a corrupt JPEG is listed like any other and the
 * caller decides whether to skip or fail on it — so listing 50,000 ImageNet images takes well under a
 * second and a dataset can be inspected (`summary()`) before any pixels are read.
 */

/** `auto` picks one of the others from what is on disk and says why in `report.reason`. */
export type LayoutOption = 'auto' | 'folders' | 'kaggle' | 'labels' | 'imagenetv2';
export type DatasetLayout = Exclude<LayoutOption, 'auto'>;

export interface ImageItem {
  /** Absolute path of the image file. */
  path: string;
  /** Index into the dataset's `classNames` (for ImageNet classes, the global 0..999 index). */
  label: number;
}

export interface ImageFolderOptions {
  /** Force a layout instead of detecting it (default `auto`). */
  layout?: LayoutOption;
  /** Labels file for a flat folder (absolute, relative to the working directory, or to `root`). */
  labelsFile?: string;
  /**
   * The class space (default `auto`): `imagenet`; a list of class names in index order (folders are
   * matched by name); `{names, wnids}` for another synset-based dataset; `folders` for plain
   * sorted-folder ranks. `auto` uses ImageNet when the folder names / labels are ImageNet synsets or
   * the layout is ImageNetV2, and folder ranks otherwise.
   */
  classes?: ClassesOption;
  /** Keep only these synsets (e.g. ImageNet-A's 200): items outside are dropped, `classIndices` = these. */
  subset?: readonly string[];
  /** Image file extensions (default: those sharp decodes, see `DEFAULT_IMAGE_EXTENSIONS`). */
  extensions?: readonly string[];
  /** Display name (default: the folder's name). */
  name?: string;
  /**
   * Accept a labels file that lists images absent from the folder (a sampled copy of the validation
   * set with the full labels file): only the images present are used. Default false: missing files
   * usually mean the wrong folder or the wrong labels file.
   */
  allowMissingFiles?: boolean;
}

/** What the loader saw and decided; `summary()` prints it. */
export interface ImageFolderReport {
  root: string;
  requestedLayout: LayoutOption;
  layout: DatasetLayout;
  /** Why this layout was used (detected or forced). */
  reason: string;
  /** What is on disk, whatever the layout. */
  found: {
    /** Subfolders holding at least one image (nested folders included). */
    classFolders: number;
    /** Subfolders holding none. */
    emptyFolders: number;
    /** Subfolders whose name is an integer (ImageNetV2) / an `n########` synset id. */
    integerFolders: number;
    wnidFolders: number;
    /** Images directly in the root. */
    topLevelImages: number;
    /** Labels files recognised by name in the root (and Kaggle's CSV in parent folders). */
    labelsFiles: string[];
  };
  labelsFile?: string;
  labelsFormat?: LabelsFormat;
  classSpace: ClassSpaceKind;
  /** Images in the dataset. */
  images: number;
  /** Image count per class index (length = classNames.length). */
  imagesPerClass: number[];
  skipped: SkippedFiles & {
    /** Images in a flat folder that the labels file does not mention. */
    unlabelled: number;
    /** Images of classes outside `subset`. */
    outsideSubset: number;
    /** Images of the other layout, ignored because a layout was forced. */
    otherLayout: number;
  };
  /** Labels-file entries without an image (only with `allowMissingFiles`). */
  missingFiles: number;
  notes: string[];
  warnings: string[];
}

export interface ImageDataset {
  name: string;
  root: string;
  /** The full class space: all 1000 names for ImageNet classes, even for a 200-class subset. */
  classNames: string[];
  /** Synset ids in class-index order, when the class space has them. */
  wnids?: string[];
  /**
   * The class indices evaluation should predict among, sorted: the classes the folders declare (or
   * `subset`), all classes for flat layouts. Pass it to the zero-shot evaluator so a 200-class subset is
   * scored among its 200 classes only.
   */
  classIndices: number[];
  /** True when `classIndices` is a strict subset of the class space. */
  isSubset: boolean;
  /** Sorted by class folder then file name (folders) or by file name (flat); shuffle for training. */
  items: ImageItem[];
  layout: DatasetLayout;
  report: ImageFolderReport;
  /** A few lines for people: layout and why, classes, images, skipped files, warnings. */
  summary(): string;
}
