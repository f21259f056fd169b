import * as tf from '@tensorflow/tfjs';
import { checkSameShape } from './check_same_shape.js';

/** Mean squared error over every element. */
export function mseLoss(pred: tf.Tensor, target: tf.Tensor): tf.Scalar {
  checkSameShape('mseLoss', pred, target);
  return tf.tidy(() => tf.mean(tf.square(tf.sub(pred, target))) as tf.Scalar);
}
