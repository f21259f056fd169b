import * as tf from '@tensorflow/tfjs';
import { assertPositiveInteger } from '../config/integer_checks.js';

/**
 * float32 one-hot encoding; indices outside [0, depth) give an all-zero row (how MoE marks a dropped
 * choice). tfjs 4.22's wasm `OneHot` kernel returns all zeros when asked for float32 output, so the
 * encoding is built in int32 (which it gets right) and cast. Not differentiable (indices are integers).
 */
function oneHot_(indices: tf.Tensor, depth: number): tf.Tensor {
  if (indices.dtype !== 'int32') throw new Error(`oneHot: indices must be int32, got ${indices.dtype}.`);
  assertPositiveInteger('oneHot: depth', depth);
  return tf.cast(tf.oneHot(indices, depth), 'float32');
}

export const oneHot = tf.op({ oneHot_ });
