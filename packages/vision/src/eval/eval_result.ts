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
  /** Allowed classes scoring strictly higher than the label (0 = correct); see `rankPredictions`. */
  rank: number;
}

export interface ZeroShotEvalMetrics {
  /** Fraction of evaluated images whose best class is the label; null when none was evaluated. */
  top1: number | null;
  /** Label among the 5 best; null with fewer than 5 allowed classes (REFERENCE.md §5: never NaN). */
  top5: number | null;
  /** Mean of `perClassAccuracy` over classes that have images (balanced accuracy). */
  meanPerClassRecall: number | null;
  /** Top-1 recall of each class of the class space; null for classes without evaluated images. */
  perClassAccuracy: Array<number | null>;
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
  /** Size of the class space (`classNames.length`); labels and `perClassAccuracy` index into it. */
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
  shard?: { index: number; count: number };
  /** Full logits are not kept; predictions are (for CSV and merging), sorted by item index. */
  predictions: ZeroShotPrediction[];
  /** Classes predicted among, when a subset (ImageNet-A/R); otherwise all `classes`. */
  classIndices?: number[];
  /** Classes kept per prediction. */
  topK: number;
  sampling: ZeroShotSampling;
  /** sha256 of the class names and of the templates, so merged shards are known to share them. */
  hashes: { classNames: string; templates: string };
  /** Things the user should know that did not stop the run (a corrupt classifier cache, ...). */
  warnings: string[];
}

/**
 * Metrics from stored predictions alone: top-1 from `rank === 0`, top-5 from `rank < 5`, per-class
 * accuracy from top-1. Sums run in class order and prediction order (sorted by index), so the same set of
 * predictions gives bit-identical numbers however it was produced (one run, resumed, or merged shards).
 */
export function metricsFromPredictions(
  predictions: readonly ZeroShotPrediction[],
  classes: number,
  allowedClasses: number,
): ZeroShotEvalMetrics {
  const total = new Array<number>(classes).fill(0);
  const hits = new Array<number>(classes).fill(0);
  let top1 = 0;
  let top5 = 0;
  for (const p of predictions) {
    if (!(p.label >= 0 && p.label < classes)) {
      throw new RangeError(`prediction for ${p.id} has label ${p.label}, outside [0, ${classes}).`);
    }
    total[p.label]++;
    if (p.rank === 0) {
      top1++;
      hits[p.label]++;
    }
    if (p.rank < 5) top5++;
  }
  const n = predictions.length;
  const perClassAccuracy = total.map((t, c) => (t > 0 ? hits[c] / t : null));
  const present = perClassAccuracy.filter((r): r is number => r !== null);
  return {
    top1: n > 0 ? top1 / n : null,
    top5: n > 0 && allowedClasses >= 5 ? top5 / n : null,
    meanPerClassRecall: present.length > 0 ? present.reduce((a, b) => a + b, 0) / present.length : null,
    perClassAccuracy,
  };
}
