import * as tf from '@tensorflow/tfjs';
import { checkSameShape } from './check_same_shape.js';

/** Mean absolute error over every element, the default loss of dense tasks (Mod-Squad's Taskonomy tasks). */
export function l1Loss(pred: tf.Tensor, target: tf.Tensor): tf.Scalar {
  checkSameShape('l1Loss', pred, target);
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(pred, target))) as tf.Scalar);
}
