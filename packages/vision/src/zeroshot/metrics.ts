import type * as tf from '@tensorflow/tfjs';

export interface ZeroShotMetrics {
  count: number;
  /** Fraction of images whose best class is the label. */
  top1: number | null;
  /** Fraction whose label is among the 5 best; null with fewer than 5 classes (undefined, not NaN). */
  top5: number | null;
  /** Mean over classes of per-class recall (balanced accuracy); classes without images are skipped. */
  meanPerClassRecall: number | null;
  /** Per-class recall, null for classes with no images. */
  perClassRecall: Array<number | null>;
}

/**
 * Accumulates zero-shot results batch by batch (logits never need to be kept): top-1, top-5 and mean
 * per-class recall. `classIndices` restricts prediction to a subset of the classifier's columns (the 200
 * classes of ImageNet-A/R), with labels given in the full index space.
 */
export class ZeroShotAccumulator {
  private count = 0;
  private top1 = 0;
  private top5 = 0;
  private readonly perClassTotal: number[];
  private readonly perClassHit: number[];
  private readonly allowed: number[] | undefined;

  constructor(
    readonly numClasses: number,
    classIndices?: readonly number[],
  ) {
    this.allowed = classIndices ? [...classIndices] : undefined;
    this.perClassTotal = new Array<number>(numClasses).fill(0);
    this.perClassHit = new Array<number>(numClasses).fill(0);
  }

  /** Adds a batch: `logits [N, C]` (any monotone score) and labels in the full class index space. */
  add(logits: tf.Tensor2D, labels: ArrayLike<number>): void {
    const [n, c] = logits.shape;
    if (c !== this.numClasses)
      throw new Error(`ZeroShotAccumulator: logits have ${c} classes, expected ${this.numClasses}.`);
    if (labels.length !== n) throw new Error(`ZeroShotAccumulator: ${labels.length} labels for ${n} images.`);
    const scores = logits.dataSync();
    const candidates = this.allowed ?? Array.from({ length: c }, (_, j) => j);
    const k = Math.min(5, candidates.length);
    for (let i = 0; i < n; i++) {
      const label = labels[i];
      if (!Number.isInteger(label) || label < 0 || label >= c) {
        throw new Error(
          `ZeroShotAccumulator: label ${label} of image ${i} is not a class index in [0, ${c}).`,
        );
      }
      const base = i * c;
      const labelScore = scores[base + label];
      // Rank of the label = number of candidates scoring strictly higher (ties favour the label, as a
      // stable top-k over equal scores would be arbitrary anyway).
      let higher = 0;
      for (const j of candidates) if (j !== label && scores[base + j] > labelScore) higher++;
      this.count++;
      this.perClassTotal[label]++;
      if (higher === 0) {
        this.top1++;
        this.perClassHit[label]++;
      }
      if (higher < k) this.top5++;
    }
  }

  result(): ZeroShotMetrics {
    const classes = this.allowed?.length ?? this.numClasses;
    const perClassRecall = this.perClassTotal.map((t, j) => (t > 0 ? this.perClassHit[j] / t : null));
    const present = perClassRecall.filter((r): r is number => r != null);
    return {
      count: this.count,
      top1: this.count > 0 ? this.top1 / this.count : null,
      top5: this.count > 0 && classes >= 5 ? this.top5 / this.count : null,
      meanPerClassRecall: present.length > 0 ? present.reduce((a, b) => a + b, 0) / present.length : null,
      perClassRecall,
    };
  }
}
