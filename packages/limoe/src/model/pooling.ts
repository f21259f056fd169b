import * as tf from '@tensorflow/tfjs';

/** Mean over tokens whose mask is 1: `[B, T, D]`, `[B, T]` → `[B, D]`. */
export function maskedMeanPool(tokens: tf.Tensor3D, mask?: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    if (mask == null) return tf.mean(tokens, 1) as tf.Tensor2D;
    const m = tf.expandDims(tf.cast(mask, 'float32'), 2);
    return tf.div(tf.sum(tf.mul(tokens, m), 1), tf.maximum(tf.sum(m, 1), 1)) as tf.Tensor2D;
  });
}

/** The token at a per-row position (CLIP pools its text tower at <eot>): `[B, T, D]`, `[B]` → `[B, D]`. */
export function gatherTokenPool(tokens: tf.Tensor3D, positions: ArrayLike<number>): tf.Tensor2D {
  const [b, t, d] = tokens.shape;
  if (positions.length !== b)
    throw new Error(`gatherTokenPool: ${positions.length} positions for ${b} rows.`);
  const flat = Int32Array.from({ length: b }, (_, i) => {
    const p = positions[i];
    if (!Number.isInteger(p) || p < 0 || p >= t)
      throw new Error(`gatherTokenPool: position ${p} of row ${i} is outside [0, ${t}).`);
    return i * t + p;
  });
  return tf.tidy(() => tf.gather(tf.reshape(tokens, [b * t, d]), tf.tensor1d(flat, 'int32')) as tf.Tensor2D);
}
