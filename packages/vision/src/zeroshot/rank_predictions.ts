/** One kept class of a prediction: a global class index and its logit (logitScale · cosine). */
export interface ScoredClass {
  class: number;
  score: number;
}

export interface RankedPrediction {
  /** The `topK` best allowed classes, best first: score descending, then class index ascending. */
  top: ScoredClass[];
  /** Allowed classes ranked before the label in that order: 0 is a top-1 hit, < 5 a top-5 hit. */
  rank: number;
}

/** A score that is NaN or ±Infinity: a broken model, never a rank (REFERENCE §5). */
export class NonFiniteScoreError extends RangeError {
  override readonly name = 'NonFiniteScoreError';
  constructor(
    /** Row (image) of the batch, and the global class index, of the first non-finite score. */
    readonly row: number,
    readonly classIndex: number,
    readonly value: number,
  ) {
    super(`rankPredictions: score ${value} for class ${classIndex} of row ${row} is not finite.`);
  }
}

/**
 * Reduces logits to what the metrics need, so full `[N, C]` logits never have to be stored: the label's
 * rank among the allowed classes and the `topK` best of them, in `torch.topk`/argmax order — score
 * descending, ties broken by the lower class index, never in the label's favour. A model that gives every
 * class the same score therefore predicts class 0 for every image and scores ≈ 1/C, as in open_clip and
 * CLIP_benchmark. `top[rank].class === label` whenever `rank < topK`, so top-1/top-5 from `rank` and from
 * `top` always agree. A NaN or infinite score throws {@link NonFiniteScoreError}.
 *
 * @param scores row-major `[labels.length, columns.length]` logits
 * @param columns the global class index of each column (all classes, or a subset's)
 * @param labels global class index of each row; a label outside `columns` gets rank `columns.length`
 */
export function rankPredictions(
  scores: ArrayLike<number>,
  columns: readonly number[],
  labels: ArrayLike<number>,
  topK: number,
): RankedPrediction[] {
  const width = columns.length;
  if (scores.length !== labels.length * width) {
    throw new RangeError(
      `rankPredictions: ${scores.length} scores for ${labels.length} rows of ${width} classes.`,
    );
  }
  const columnOf = new Map(columns.map((c, j) => [c, j] as const));
  const k = Math.min(topK, width);
  const out: RankedPrediction[] = [];
  for (let i = 0; i < labels.length; i++) {
    const base = i * width;
    for (let j = 0; j < width; j++) {
      const s = scores[base + j];
      if (!Number.isFinite(s)) throw new NonFiniteScoreError(i, columns[j], s);
    }
    // a comes before b: higher score, or the same score and the lower class index.
    const before = (a: number, b: number): boolean => {
      const sa = scores[base + a];
      const sb = scores[base + b];
      return sa !== sb ? sa > sb : columns[a] < columns[b];
    };
    const labelColumn = columnOf.get(labels[i]);
    let rank = width;
    if (labelColumn !== undefined) {
      rank = 0;
      for (let j = 0; j < width; j++) if (j !== labelColumn && before(j, labelColumn)) rank++;
    }
    // `best` holds column indices, kept sorted best-first; k is small (5), so insertion is cheapest.
    const best: number[] = [];
    for (let j = 0; j < width; j++) {
      if (best.length === k && !before(j, best[k - 1])) continue;
      let at = best.length === k ? k - 1 : best.length;
      while (at > 0 && before(j, best[at - 1])) at--;
      best.splice(at, 0, j);
      if (best.length > k) best.pop();
    }
    out.push({ top: best.map((j) => ({ class: columns[j], score: scores[base + j] })), rank });
  }
  return out;
}
