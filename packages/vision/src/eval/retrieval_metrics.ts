import * as tf from '@tensorflow/tfjs';

/**
 * open_clip's retrieval metrics (`get_clip_metrics` in `training/train.py`), under its own names so its
 * tooling reads ours: for N image–caption pairs, pair i's caption ranked among all N captions by image i
 * (image→text), and pair i's image ranked among all N images by caption i (text→image). Mean rank and
 * median rank are 1-based; R@k is the fraction of pairs whose partner is among the k best.
 */
export interface ClipRetrievalMetrics {
  image_to_text_mean_rank: number;
  image_to_text_median_rank: number;
  'image_to_text_R@1': number;
  'image_to_text_R@5': number;
  'image_to_text_R@10': number;
  text_to_image_mean_rank: number;
  text_to_image_median_rank: number;
  'text_to_image_R@1': number;
  'text_to_image_R@5': number;
  'text_to_image_R@10': number;
}

/** Rows per matmul: bounds the logits held at once to `CHUNK × N` floats. */
const CHUNK = 256;

/**
 * 0-based rank of the diagonal entry of each row of `queries · keysᵀ`, in `torch.topk` order: score
 * descending, ties broken by the lower index, never in the partner's favour (so a model that scores every
 * pair the same ranks pair i at i, and R@k is k/N: chance).
 */
function diagonalRanks(queries: tf.Tensor2D, keys: tf.Tensor2D, what: string): Int32Array {
  const n = queries.shape[0];
  const ranks = new Int32Array(n);
  for (let start = 0; start < n; start += CHUNK) {
    const rows = Math.min(CHUNK, n - start);
    const logits = tf.tidy(() => tf.matMul(tf.slice(queries, [start, 0], [rows, -1]), keys, false, true));
    const s = logits.dataSync();
    logits.dispose();
    for (let r = 0; r < rows; r++) {
      const i = start + r;
      const base = r * n;
      const own = s[base + i];
      let rank = 0;
      for (let j = 0; j < n; j++) {
        const v = s[base + j];
        if (!Number.isFinite(v)) {
          throw new RangeError(
            `clipRetrievalMetrics: ${what} score ${v} of pair ${i} with ${j} is not finite.`,
          );
        }
        if (v > own || (v === own && j < i)) rank++;
      }
      ranks[i] = rank;
    }
  }
  return ranks;
}

function summarise(ranks: Int32Array, prefix: 'image_to_text' | 'text_to_image'): Record<string, number> {
  const n = ranks.length;
  const sorted = Int32Array.from(ranks).sort();
  // np.median averages the two middle values of an even count; open_clip floors it, then adds 1.
  const median = n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  let sum = 0;
  for (const r of ranks) sum += r;
  const within = (k: number) => ranks.reduce((a, r) => a + (r < k ? 1 : 0), 0) / n;
  return {
    [`${prefix}_mean_rank`]: sum / n + 1,
    [`${prefix}_median_rank`]: Math.floor(median) + 1,
    [`${prefix}_R@1`]: within(1),
    [`${prefix}_R@5`]: within(5),
    [`${prefix}_R@10`]: within(10),
  };
}

/**
 * Retrieval metrics of paired embeddings `[N, D]` (row i of each is pair i; L2-normalised or not: the
 * ranking of a row does not depend on the logit scale, which open_clip multiplies in). Throws on
 * mismatched shapes, an empty set, or a score that is NaN or infinite.
 */
export function clipRetrievalMetrics(
  imageFeatures: tf.Tensor2D,
  textFeatures: tf.Tensor2D,
): ClipRetrievalMetrics {
  const [n, d] = imageFeatures.shape;
  if (
    imageFeatures.rank !== 2 ||
    textFeatures.rank !== 2 ||
    textFeatures.shape[0] !== n ||
    textFeatures.shape[1] !== d
  ) {
    throw new RangeError(
      `clipRetrievalMetrics: expected image and text features of one shape [N, D], got [${imageFeatures.shape}] and [${textFeatures.shape}].`,
    );
  }
  if (n === 0) throw new RangeError('clipRetrievalMetrics: no pairs to rank.');
  return {
    ...summarise(diagonalRanks(imageFeatures, textFeatures, 'image→text'), 'image_to_text'),
    ...summarise(diagonalRanks(textFeatures, imageFeatures, 'text→image'), 'text_to_image'),
  } as unknown as ClipRetrievalMetrics;
}
