/** One kept class of a prediction: a global class index and its logit (logitScale · cosine). */
export interface ScoredClass {
  class: number;
  score: number;
}

export interface RankedPrediction {
  /** The `topK` best allowed classes, best first (ties: the label first, then the lower class index). */
  top: ScoredClass[];
  /** Allowed classes scoring strictly higher than the label: 0 is a top-1 hit, < 5 a top-5 hit. */
  rank: number;
}

/** NaN (a broken model) ranks below everything instead of poisoning the comparisons. */
const key = (s: number): number => (Number.isNaN(s) ? -Infinity : s);

/**
 * Reduces logits to what the metrics need, so full `[N, C]` logits never have to be stored: the label's
 * rank among the allowed classes and the `topK` best of them. Ties count in the label's favour (as
 * `ZeroShotAccumulator` does) and the top list is ordered the same way, so `top[rank].class === label`
 * whenever `rank < topK`: top-1/top-5 from `rank` and from `top` always agree.
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
    const labelColumn = columnOf.get(labels[i]);
    const labelScore = labelColumn === undefined ? Infinity : key(scores[base + labelColumn]);
    let rank = labelColumn === undefined ? width : 0;
    // `best` holds column indices, kept sorted best-first; k is small (5), so insertion is cheapest.
    const best: number[] = [];
    const before = (a: number, b: number): boolean => {
      const sa = key(scores[base + a]);
      const sb = key(scores[base + b]);
      if (sa !== sb) return sa > sb;
      if (a === labelColumn || b === labelColumn) return a === labelColumn;
      return columns[a] < columns[b];
    };
    for (let j = 0; j < width; j++) {
      if (labelColumn !== undefined && j !== labelColumn && key(scores[base + j]) > labelScore) rank++;
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
