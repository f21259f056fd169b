import * as tf from '@tensorflow/tfjs';
import { l2Normalize } from '@moevl/core';
import { checkSameShape } from './check_same_shape.js';

/**
 * Mean over pixels of 1 − cos(pred, target), the cosine taken over the last (channel) axis: the loss of
 * surface-normal-like targets, where only the direction of the channel vector matters. Vectors are
 * normalised with `l2Normalize` (eps 1e-12), so an all-zero vector has cosine 0 and a finite gradient.
 *
 * With one channel the "direction" is only a sign: the loss is 0 where pred and target have the same
 * sign and 2 where they differ, whatever the magnitudes (and its gradient is 0 almost everywhere).
 * Use it for multi-channel targets; use l1 or mse for single-channel ones.
 */
export function cosineLoss(pred: tf.Tensor, target: tf.Tensor): tf.Scalar {
  checkSameShape('cosineLoss', pred, target);
  return tf.tidy(() => {
    const cos = tf.sum(tf.mul(l2Normalize(pred, -1), l2Normalize(target, -1)), -1);
    return tf.mean(tf.sub(1, cos)) as tf.Scalar;
  });
}
