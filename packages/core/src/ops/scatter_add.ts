import * as tf from '@tensorflow/tfjs';
import { segmentSum } from './segment_sum.js';

/**
 * out = x; out[indices[i]] += updates[i] (duplicates accumulate), like `torch.index_add` /
 * `x.at[idx].add(u)` in JAX. tfjs' `scatterND` has no gradient; this one is differentiable in both `x`
 * and `updates` because it is built from `segmentSum`. Indices are checked: an out-of-range index is an
 * error here rather than a silently dropped update.
 */
function scatterAdd_<T extends tf.Tensor>(x: T, indices: tf.Tensor1D, updates: tf.Tensor): T {
  if (indices.dtype !== 'int32') throw new Error(`scatterAdd: indices must be int32, got ${indices.dtype}.`);
  if (indices.rank !== 1 || updates.shape[0] !== indices.shape[0]) {
    throw new Error(`scatterAdd: indices must be 1-D with one entry per row of updates [${updates.shape}].`);
  }
  const rowShape = x.shape.slice(1);
  if (updates.rank !== x.rank || updates.shape.slice(1).some((d, i) => d !== rowShape[i])) {
    throw new Error(`scatterAdd: updates rows [${updates.shape.slice(1)}] must match x rows [${rowShape}].`);
  }
  const ids = indices.dataSync();
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0 || ids[i] >= x.shape[0]) {
      throw new Error(`scatterAdd: index ${ids[i]} at position ${i} is out of range [0, ${x.shape[0]}).`);
    }
  }
  return tf.add(x, segmentSum(updates, indices, x.shape[0])) as T;
}

export const scatterAdd = tf.op({ scatterAdd_ });
