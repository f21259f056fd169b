import * as tf from '@tensorflow/tfjs';

/**
 * Token masks for the auxiliary losses. Batches are padded (text shorter than its context, images packed
 * with text in LIMoE, groups filled up to a fixed size in V-MoE), and padding tokens must not count as
 * routing decisions: a mask with 1 for a real token and 0 for padding takes them out of every mean and
 * sum. Weights other than 0/1 are allowed and act as per-token weights.
 *
 * Means over an empty set are defined as 0 (not NaN): a batch can hold no token of some modality or task,
 * and one NaN there would poison the whole training step.
 */

/** Validates `mask` against `numTokens` and returns it as float32, or undefined when there is none. */
export function tokenMask(
  fn: string,
  mask: tf.Tensor | undefined,
  numTokens: number,
): tf.Tensor1D | undefined {
  if (mask == null) return undefined;
  if (mask.rank !== 1 || mask.shape[0] !== numTokens) {
    throw new Error(
      `${fn}: mask must be 1-D of length ${numTokens} (one entry per token), got shape [${mask.shape}].`,
    );
  }
  const m = (mask.dtype === 'float32' ? mask : tf.cast(mask, 'float32')) as tf.Tensor1D;
  const values = m.dataSync();
  for (let i = 0; i < values.length; i++) {
    if (!(values[i] >= 0) || !Number.isFinite(values[i])) {
      throw new Error(
        `${fn}: mask must be finite and ≥ 0 (1 = real token, 0 = padding), got ${values[i]} at ${i}.`,
      );
    }
  }
  return m;
}

/** Number of tokens the mask keeps (Σ mask), or S without a mask; a scalar tensor. */
export function tokenCount(mask: tf.Tensor1D | undefined, numTokens: number): tf.Scalar {
  return mask == null ? tf.scalar(numTokens) : tf.sum(mask);
}

/** Scales the rows of `x` [S, ...] by the mask (unchanged without one). */
export function maskTokens<T extends tf.Tensor>(x: T, mask: tf.Tensor1D | undefined): T {
  if (mask == null) return x;
  const shape = [x.shape[0], ...x.shape.slice(1).map(() => 1)];
  return tf.mul(x, tf.reshape(mask, shape)) as T;
}

/**
 * Mean over tokens (axis 0) of `x` [S, ...], counting only masked-in tokens; 0 when the mask keeps none.
 * The denominator is replaced by 1 on an empty mask, so neither the value nor its gradient is NaN.
 */
export function maskedTokenMean<T extends tf.Tensor>(x: tf.Tensor, mask: tf.Tensor1D | undefined): T {
  if (mask == null) return tf.mean(x, 0) as T;
  const count = tf.sum(mask);
  const safe = tf.where(tf.greater(count, 0), count, tf.onesLike(count));
  return tf.div(tf.sum(maskTokens(x, mask), 0), safe) as T;
}
