import type { RoutingReport } from '../model/image_text_model.js';
import type { ZeroShotEvalMetrics } from '../zeroshot/metrics.js';

/**
 * What one image's evaluation leaves behind: enough to recompute every metric (top-1, top-5, per-class
 * recall) without the logits, so partial runs can be resumed and shards merged with results identical to
 * one uninterrupted run, and small enough to keep for 50,000 images (CSV export, error analysis).
 */
export interface ZeroShotPrediction {
  /** Item index in the source. */
  index: number;
  /** File path, or `<dataset>:<split>:<index>` for in-memory items. */
  id: string;
  /** True class (global index). */
  label: number;
  /** The best `topK` allowed classes with their logits, best first. */
  top: Array<{ class: number; score: number }>;
  /** Allowed classes ranked before the label (score, then class index; 0 = correct); see `rankPredictions`. */
  rank: number;
}

/** A skipped (unreadable) item. */
export interface SkippedItem {
  id: string;
  message: string;
  /** Item index in the source (sorts and de-duplicates merged shards). */
  index: number;
}

/** Which items the run covered before sharding: shards of one run agree on all of it. */
export interface ZeroShotSampling {
  /** Items in the source. */
  datasetItems: number;
  /** Items selected (all, or the class-balanced `limit` sample), summed over shards. */
  selected: number;
  limit?: number;
  seed: number;
}

export interface ZeroShotEvalResult {
  dataset: string;
  model: string;
  /** Number of templates averaged per class. */
  templates: number;
  templatesName?: string;
  /** Size of the class space (`classNames.length`); labels and `perClassRecall` index into it. */
  classes: number;
  metrics: ZeroShotEvalMetrics;
  counts: { items: number; evaluated: number; skipped: number; skippedFiles: SkippedItem[] };
  timing: {
    seconds: number;
    imagesPerSecond: number;
    classifierSeconds: number;
    classifierCached: boolean;
    /** Seconds spent loading and embedding images in this call (resumed items excluded). */
    imageSeconds: number;
  };
  /** Which shard, and where the CLI took it from (`flag`, `slurm`, `kubernetes`, `env`). */
  shard?: { index: number; count: number; source?: string };
  /** Full logits are not kept; predictions are (for CSV and merging), sorted by item index. */
  predictions: ZeroShotPrediction[];
  /** Classes predicted among, when a subset (ImageNet-A/R); otherwise all `classes`. */
  classIndices?: number[];
  /** Classes kept per prediction. */
  topK: number;
  sampling: ZeroShotSampling;
  /**
   * sha256 of the class names, the templates, the model (its fingerprint and evaluation routing) and the
   * run's item list before sharding (ids and labels), so merged shards are known to share all of them.
   */
  hashes: { classNames: string; templates: string; model?: string | null; items?: string };
  /** Things the user should know that did not stop the run (a corrupt classifier cache, ...). */
  warnings: string[];
  /** MoE models: the routing at evaluation and its success rates on this run's inputs. */
  routing?: RoutingReport;
  /** The TensorFlow.js backend and the matmul path the run used (`native OpenBLAS …`, `wasm XNNPACK …`). */
  engine?: { backend: string; matmul: string };
}
