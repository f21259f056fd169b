import * as tf from '@tensorflow/tfjs';

/**
 * x / max(‖x‖₂, eps) along `axis` (`torch.nn.functional.normalize`, eps 1e-12). CLIP and LIMoE normalise
 * every embedding before the contrastive dot product. (Soft MoE's `x·rsqrt(Σx² + 1e-6)` is a different
 * formula, kept in the Soft MoE router.)
 */
function l2Normalize_<T extends tf.Tensor>(x: T, axis = -1, eps = 1e-12): T {
  const sumSq = tf.sum(tf.square(x), axis, true);
  return tf.mul(x, tf.rsqrt(tf.maximum(sumSq, tf.scalar(eps * eps)))) as T;
}

export const l2Normalize = tf.op({ l2Normalize_ });
