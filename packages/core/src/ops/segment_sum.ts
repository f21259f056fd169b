import * as tf from '@tensorflow/tfjs';
import '../backend/wasm_kernels.js';
import { assertPositiveInteger } from '../config/integer_checks.js';

/**
 * out[s] = Σ_{i : segmentIds[i] = s} x[i]; rows with a negative id are dropped (TensorFlow's rule, which
 * MoE dispatch uses for tokens that overflow an expert's capacity). Differentiable in `x` (its gradient
 * is a gather). On wasm this runs our registered `UnsortedSegmentSum` kernel.
 */
function segmentSum_<T extends tf.Tensor>(x: T, segmentIds: tf.Tensor1D, numSegments: number): T {
  if (segmentIds.dtype !== 'int32')
    throw new Error(`segmentSum: segmentIds must be int32, got ${segmentIds.dtype}.`);
  if (segmentIds.rank !== 1 || segmentIds.shape[0] !== x.shape[0]) {
    throw new Error(
      `segmentSum: segmentIds must be 1-D of length x.shape[0]=${x.shape[0]}, got [${segmentIds.shape}].`,
    );
  }
  assertPositiveInteger('segmentSum: numSegments', numSegments);
  return tf.unsortedSegmentSum(x, segmentIds, numSegments) as T;
}

export const segmentSum = tf.op({ segmentSum_ });
