import type * as tf from '@tensorflow/tfjs';
import { softmaxCrossEntropy } from '@moevl/core';

/**
 * Mean softmax cross-entropy of logits `[N, C]` against int32 labels `[N]`, the loss of classification
 * tasks. A thin name over core's `softmaxCrossEntropy`, which checks labels and has a closed-form gradient.
 */
export function crossEntropyLoss(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return softmaxCrossEntropy(logits as tf.Tensor2D, labels as tf.Tensor1D, 'mean') as tf.Scalar;
}
