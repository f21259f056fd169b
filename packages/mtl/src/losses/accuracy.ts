import * as tf from '@tensorflow/tfjs';

/** Correct predictions and examples of one batch; sum them over batches, then divide once. */
export interface AccuracyCounts {
  correct: number;
  count: number;
  /** correct / count (0 for an empty batch). */
  accuracy: number;
}

/**
 * Top-1 accuracy of logits `[N, C]` against int32 labels `[N]` (ties go to the lower class index, as
 * `tf.argMax` does). Reads the tensors once and returns plain numbers; the counts let evaluation over
 * batches of different sizes be exact (`addAccuracyCounts`).
 */
export function accuracy(logits: tf.Tensor, labels: tf.Tensor): AccuracyCounts {
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(
      `accuracy: expected logits [N, C] and labels [N], got logits [${logits.shape}] and labels [${labels.shape}].`,
    );
  }
  const hits = tf.tidy(() => tf.equal(tf.argMax(logits, 1), tf.cast(labels, 'int32')));
  const flags = hits.dataSync();
  hits.dispose();
  let correct = 0;
  for (const f of flags) correct += f;
  const count = flags.length;
  return { correct, count, accuracy: count === 0 ? 0 : correct / count };
}

/** Sums the counts of several batches; `accuracy` is recomputed from the totals. */
export function addAccuracyCounts(...parts: AccuracyCounts[]): AccuracyCounts {
  const correct = parts.reduce((a, p) => a + p.correct, 0);
  const count = parts.reduce((a, p) => a + p.count, 0);
  return { correct, count, accuracy: count === 0 ? 0 : correct / count };
}
