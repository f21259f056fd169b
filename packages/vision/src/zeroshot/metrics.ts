import type * as tf from '@tensorflow/tfjs';
import { rankPredictions } from './rank_predictions.js';

/**
 * The zero-shot metrics, computed in ONE place (`metricsFromPredictions`) from per-image label ranks:
 * `runZeroShotEval`, merged shards, resumed runs and the in-memory `ZeroShotAccumulator` all go through it,
 * so they cannot disagree. Ranks come from `rankPredictions` (torch.topk order; ties never favour the label).
 */
export interface ZeroShotEvalMetrics {
  /** Fraction of evaluated images whose best class is the label; null when none was evaluated. */
  top1: number | null;
  /** Label among the 5 best; null with fewer than 5 allowed classes (docs/reference.md §5: never NaN). */
  top5: number | null;
  /** Mean of `perClassRecall` over classes that have images (balanced accuracy). */
  meanPerClassRecall: number | null;
  /** Top-1 recall of each class of the class space; null for classes without evaluated images. */
  perClassRecall: Array<number | null>;
  /** CLIP_benchmark's names for the same three numbers, so its tooling reads our results. */
  acc1: number | null;
  acc5: number | null;
  mean_per_class_recall: number | null;
}

/** What the metrics need of one image: its label and the label's rank among the allowed classes. */
export interface RankedLabel {
  label: number;
  rank: number;
  /** Names the image in errors. */
  id?: string;
}

/**
 * Metrics from ranks alone: top-1 from `rank === 0`, top-5 from `rank < 5`, per-class recall from top-1.
 * Sums run in class order and prediction order, so the same set of predictions gives bit-identical numbers
 * however it was produced (one run, resumed, or merged shards).
 */
export function metricsFromPredictions(
  predictions: readonly RankedLabel[],
  classes: number,
  allowedClasses: number,
): ZeroShotEvalMetrics {
  const total = new Array<number>(classes).fill(0);
  const hits = new Array<number>(classes).fill(0);
  let top1 = 0;
  let top5 = 0;
  predictions.forEach((p, i) => {
    if (!(Number.isInteger(p.label) && p.label >= 0 && p.label < classes)) {
      throw new RangeError(
        `prediction for ${p.id ?? `image ${i}`} has label ${p.label}, not a class index in [0, ${classes}).`,
      );
    }
    total[p.label]++;
    if (p.rank === 0) {
      top1++;
      hits[p.label]++;
    }
    if (p.rank < 5) top5++;
  });
  const n = predictions.length;
  const perClassRecall = total.map((t, c) => (t > 0 ? hits[c] / t : null));
  const present = perClassRecall.filter((r): r is number => r !== null);
  const acc1 = n > 0 ? top1 / n : null;
  const acc5 = n > 0 && allowedClasses >= 5 ? top5 / n : null;
  const mean = present.length > 0 ? present.reduce((a, b) => a + b, 0) / present.length : null;
  return {
    top1: acc1,
    top5: acc5,
    meanPerClassRecall: mean,
    perClassRecall,
    acc1,
    acc5,
    mean_per_class_recall: mean,
  };
}

export interface ZeroShotMetrics extends ZeroShotEvalMetrics {
  count: number;
}

/**
 * Accumulates zero-shot results batch by batch (logits never need to be kept). `classIndices` restricts
 * prediction to a subset of the classifier's columns (the 200 classes of ImageNet-A/R), with labels given
 * in the full index space. NaN/Inf logits throw (`NonFiniteScoreError`).
 */
export class ZeroShotAccumulator {
  private readonly ranked: RankedLabel[] = [];
  private readonly columns: number[];

  constructor(
    readonly numClasses: number,
    classIndices?: readonly number[],
  ) {
    this.columns = classIndices ? [...classIndices] : Array.from({ length: numClasses }, (_, j) => j);
  }

  /** Adds a batch: `logits [N, C]` (any monotone score) and labels in the full class index space. */
  add(logits: tf.Tensor2D, labels: ArrayLike<number>): void {
    const [n, c] = logits.shape;
    if (c !== this.numClasses)
      throw new Error(`ZeroShotAccumulator: logits have ${c} classes, expected ${this.numClasses}.`);
    if (labels.length !== n) throw new Error(`ZeroShotAccumulator: ${labels.length} labels for ${n} images.`);
    for (let i = 0; i < n; i++) {
      const label = labels[i];
      if (!Number.isInteger(label) || label < 0 || label >= c) {
        throw new Error(
          `ZeroShotAccumulator: label ${label} of image ${i} is not a class index in [0, ${c}).`,
        );
      }
    }
    const all = logits.dataSync();
    // Only the allowed columns take part in the ranking (a subset's classes, in their order).
    const scores =
      this.columns.length === c
        ? all
        : Float32Array.from({ length: n * this.columns.length }, (_, x) => {
            const i = Math.floor(x / this.columns.length);
            return all[i * c + this.columns[x % this.columns.length]];
          });
    const ranked = rankPredictions(scores, this.columns, labels, 5);
    ranked.forEach((r, i) => this.ranked.push({ label: labels[i], rank: r.rank }));
  }

  result(): ZeroShotMetrics {
    return {
      count: this.ranked.length,
      ...metricsFromPredictions(this.ranked, this.numClasses, this.columns.length),
    };
  }
}
