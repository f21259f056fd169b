/**
 * Datasets for zero-shot evaluation and training: ImageNet metadata, image-folder datasets in every
 * ImageNet-style layout, and Fashion-MNIST / MNIST in their official IDX files (the Fashion-MNIST test
 * split ships with the package), and image–caption pairs for training (CSV, JSONL, WebDataset, folders).
 */
export { imagenetClassSpace, looksLikeWnid } from './class_space.js';
export type { ClassesOption, ClassSpace, ClassSpaceKind } from './class_space.js';
export * from './dataset_error.js';
export * from './fashion_mnist.js';
export { GRAYSCALE_SIDE, loadIdxSplit } from './grayscale_dataset.js';
export type {
  GrayscaleDataset,
  GrayscaleLoadOptions,
  GrayscaleSplit,
  IdxSplitSpec,
} from './grayscale_dataset.js';
export * from './idx.js';
export type * from './image_dataset.js';
export { loadImageFolderDataset, summarizeImageDataset } from './image_folder.js';
export * from './imagenet_metadata.js';
export {
  CONVENTIONAL_LABELS_NAMES,
  DEVKIT_GROUND_TRUTH_NAME,
  KAGGLE_LABELS_NAME,
  parseLabelsText,
  readLabelsFile,
} from './labels_file.js';
export type { LabelsEntry, LabelsFile, LabelsFormat } from './labels_file.js';
export * from './mnist.js';
export * from './pairs/index.js';
export { DEFAULT_IMAGE_EXTENSIONS } from './scan.js';
export type { SkippedFiles, SpecialFileKind, UnreadableEntry } from './skipped_files.js';
