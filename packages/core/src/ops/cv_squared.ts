import * as tf from '@tensorflow/tfjs';

/**
 * Squared coefficient of variation, var(x) / mean(x)², with the population variance (ddof 0, as vmoe).
 * The V-MoE importance and load losses are CV² of per-expert sums. Computing `std` and squaring it gives
 * NaN gradients when every expert gets the same share (d√v/dv at v = 0; vmoe PR #218), so the variance is
 * used directly. `eps` keeps an all-zero vector finite.
 */
function cvSquared_(x: tf.Tensor, eps = 1e-10): tf.Scalar {
  if (x.size < 1) throw new Error('cvSquared: expected at least one element.');
  const flat = tf.reshape(x, [-1]);
  const mean = tf.mean(flat);
  const variance = tf.mean(tf.square(tf.sub(flat, mean)));
  return tf.div(variance, tf.add(tf.square(mean), tf.scalar(eps))) as tf.Scalar;
}

export const cvSquared = tf.op({ cvSquared_ });
