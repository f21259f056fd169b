import type { PreprocessConfig } from '../../preprocess/config.js';

/**
 * Image–caption pairs for contrastive training, in the formats open_clip trains from (a CSV/TSV of
 * `filepath`/`title`, WebDataset tar shards) plus JSONL and an image folder with caption templates.
 * Sources stream: rows are indexed by byte offset and read when their batch is built, shards are read as
 * streams, and only the shuffle buffer and the batches decoded ahead are held in memory.
 */

export type ImageCaptionFormat = 'csv' | 'jsonl' | 'webdataset' | 'folder';

/** Why a sample was left out. Counted in `ImageCaptionSource.skipped`, never silently dropped. */
export type SkipReason =
  /** The image file does not exist. */
  | 'missing-image'
  /** Not a regular file, a directory, no permission, an I/O error. */
  | 'unreadable-image'
  /** Over `maxImageBytes`. */
  | 'too-large'
  /** Empty, truncated, corrupt, or not an image format sharp decodes. */
  | 'corrupt-image'
  /** The row or sample names no image (an empty column, a WebDataset sample without .jpg/.png/...). */
  | 'no-image'
  /** The row or sample has no caption, or an empty one. */
  | 'no-caption'
  /** The caption is not a string (a JSON number, array, object, null). */
  | 'caption-not-text'
  /** A CSV row with too few fields, a JSONL line that is not a JSON object. */
  | 'bad-row'
  /** A tar shard that ends early or holds something that is not tar: the rest of it is skipped. */
  | 'corrupt-shard';

export interface SkippedSample {
  /** The sample's id (`pairs.csv:17`, `shard-000001.tar/000042`), or the shard for `corrupt-shard`. */
  id: string;
  reason: SkipReason;
  /** One line saying what was wrong, naming the file. */
  detail: string;
}

/** Samples skipped since the start of the run (restored with the state), by reason; the first few as examples. */
export interface SkippedSamples {
  total: number;
  byReason: Partial<Record<SkipReason, number>>;
  examples: SkippedSample[];
}

export interface ImageCaptionBatch {
  /** `[B, C, H, W]` float32, normalised with the preprocess config's mean/std. */
  pixels: Float32Array;
  shape: [number, number, number, number];
  captions: string[];
  /** One per row: `file:row` (CSV, JSONL; data rows counted from 1), `shard/key`, or the path in the folder. */
  ids: string[];
}

/** A stream of decoded, augmented pairs whose position can be saved and restored exactly. */
export interface ImageCaptionSource {
  /** For logs: format, files, rows or shards, columns. */
  readonly description: string;
  readonly format: ImageCaptionFormat;
  /**
   * The next batch of `batchSize` pairs (fewer only at the very end of a non-looping source), or `null`
   * once a non-looping source is exhausted. Unusable samples are skipped and replaced by the next ones,
   * so batches keep their size. Rejects with a `DatasetError` when a whole epoch yields no usable sample,
   * and with the signal's reason once aborted.
   */
  next(batchSize: number): Promise<ImageCaptionBatch | null>;
  /**
   * The position after the last batch returned (JSON): epoch, row or shard + sample, the shuffle
   * buffer's keys, the generator's state, the skip counts. Batches decoded ahead are not part of it.
   */
  getState(): ImageCaptionSourceState;
  /**
   * Resumes from `getState()` of a source opened with the same spec: the next batch equals the one the
   * uninterrupted source would have returned. Throws a `DatasetError` (`bad-option`) for a state of
   * another format or dataset. Shards are re-read at the next `next()`, not here.
   */
  setState(state: unknown): void;
  readonly skipped: SkippedSamples;
  /** Stops decoding ahead and closes the files; `next()` afterwards is an error. */
  close(): Promise<void>;
}

/** The JSON `getState()` returns; its fields beyond these depend on the format. */
export interface ImageCaptionSourceState {
  version: 1;
  format: ImageCaptionFormat;
  /** Identifies the dataset (files, row or shard counts) so a state is not restored into another one. */
  dataset: string;
  epoch: number;
  /** Usable samples served in this epoch (an epoch with none is an error, not an endless loop). */
  usedInEpoch: number;
  ended: boolean;
  skipped: SkippedSamples;
  [field: string]: unknown;
}

/** The evaluation config (`size`, `cropSize`, mean/std, ...) plus the number of channels the model takes. */
export interface ImageCaptionPreprocess extends Partial<PreprocessConfig> {
  /** 3: RGB (default); 1: grayscale, PIL's `convert('L')` after the resize, normalised with mean[0]/std[0]. */
  channels?: 1 | 3;
}

export interface ImageCaptionSourceSpec {
  /**
   * A `.csv`/`.tsv`, a `.jsonl`, a WebDataset shard pattern (`shards-{000000..000099}.tar`; `::` joins
   * several), an image folder, or a list of files of one format (read one after the other).
   */
  path: string | string[];
  /** Default `auto`: `.tar` (or a brace pattern) → webdataset, `.csv`/`.tsv`, `.jsonl`/`.ndjson`, a folder. */
  type?: ImageCaptionFormat | 'auto';
  /** CSV: column of image paths (default `filepath`); JSONL: key (default the first of image, file, filepath). */
  imageKey?: string;
  /** CSV: column of captions (default `title`); JSONL: key (default the first of caption, text, title). */
  captionKey?: string;
  /** CSV: one ASCII character (default tab, as open_clip's `--csv-separator`). */
  separator?: string;
  /** Folder: caption templates with `{}` for the class name (default `a photo of a {}.`). */
  templates?: string[];
  /** Folder: names to put in captions, one per class index (default: the dataset's class names). */
  classNames?: string[];
  /** Folder: ImageNet-style layout (default `auto`), as `loadImageFolderDataset`. */
  layout?: 'auto' | 'folders' | 'kaggle' | 'labels' | 'imagenetv2';
  preprocess: ImageCaptionPreprocess;
  /** Train-time augmentation; without it images get the evaluation transform (resize, center crop). */
  augment?: { randomResizedCrop?: { scale: [number, number]; ratio?: [number, number] } };
  seed: number;
  /** Run epochs forever (training); default false: `next()` returns null after one pass. */
  loop?: boolean;
  /** Shuffle rows (or shard order and samples) with a fresh seeded order per epoch. Default: `loop`. */
  shuffle?: boolean;
  /** WebDataset: samples held in the shuffle buffer (default 1000; 0: shard order only). */
  shuffleBuffer?: number;
  /** Batches decoded ahead of the consumer (default 2). */
  readAhead?: number;
  /** Images decoded at once per decoding thread (default 4, libuv's thread pool, where sharp decodes). */
  concurrency?: number;
  /**
   * Worker threads that decode and resample, so a training step that holds the calling thread does not
   * stop the loader (default: cores − 1, at least 1, at most 4). 0 decodes on the calling thread (also what
   * happens when the compiled worker script is not there, as when running from TypeScript sources).
   */
  workers?: number;
  /** Larger images (files or tar members) are skipped as `too-large` (default 256 MiB). */
  maxImageBytes?: number;
  /** Stops reads and decodes; `next()` rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** One sample as a sampler hands it over: ready to decode, or already known to be unusable. */
export type Candidate =
  | { id: string; epoch: number; caption: string; image: string | Uint8Array }
  | { id: string; epoch: number; skip: SkipReason; detail: string };
