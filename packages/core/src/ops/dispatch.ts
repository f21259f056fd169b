import * as tf from '@tensorflow/tfjs';
import { oneHot } from './one_hot.js';
import { segmentSum } from './segment_sum.js';

/**
 * Token ↔ expert-buffer movement for sparse MoE, split as vmoe splits it: the router decides, per token
 * and choice, an expert index `[S, K]` and a buffer position `[S, K]` (−1 or ≥ capacity = dropped); these
 * helpers only move data. Two equivalent forms:
 *  - one-hot tensors `[S, E, C]` (vmoe's dispatch/combine weights, used with einsum/matMul): simple,
 *    O(S·E·C) memory, good for tests and small E;
 *  - index form (`dispatchTokens` / `combineTokens`): a scatter/gather of rows, O(S·K·D), what the MoE
 *    layer runs.
 */

function checkAssignment(op: string, expertIndex: tf.Tensor, position: tf.Tensor): void {
  if (expertIndex.dtype !== 'int32' || position.dtype !== 'int32') {
    throw new Error(`${op}: expertIndex and position must be int32.`);
  }
  if (
    expertIndex.rank !== 2 ||
    position.rank !== 2 ||
    expertIndex.shape.some((d, i) => d !== position.shape[i])
  ) {
    throw new Error(
      `${op}: expertIndex [${expertIndex.shape}] and position [${position.shape}] must both be [S, K].`,
    );
  }
}

/** Flat buffer slot `e·C + p` of every choice, or −1 where the choice was dropped. `[S, K]` int32. */
function bufferSlot_(expertIndex: tf.Tensor, position: tf.Tensor, capacity: number): tf.Tensor {
  checkAssignment('bufferSlot', expertIndex, position);
  const kept = tf.logicalAnd(tf.greaterEqual(position, 0), tf.less(position, capacity));
  const slot = tf.add(tf.mul(expertIndex, tf.scalar(capacity, 'int32')), position);
  return tf.where(kept, slot, tf.fill(slot.shape, -1, 'int32'));
}

export const bufferSlot = tf.op({ bufferSlot_ });

/**
 * 0/1 dispatch mask `[S, E, C]`: mask[s, e, c] = 1 iff one of token s's choices landed in slot c of
 * expert e. Dropped choices are all-zero rows.
 */
function dispatchMask_(
  expertIndex: tf.Tensor,
  position: tf.Tensor,
  numExperts: number,
  capacity: number,
): tf.Tensor {
  const ones = tf.onesLike(tf.cast(expertIndex, 'float32'));
  return combineWeights(expertIndex, position, ones, numExperts, capacity);
}

export const dispatchMask = tf.op({ dispatchMask_ });

/**
 * Combine weights `[S, E, C]`: weights[s, k] placed at (expertIndex[s,k], position[s,k]); differentiable in
 * `weights`. Built as a batched matmul of two one-hot tensors, since tfjs has no einsum on wasm.
 */
function combineWeights_(
  expertIndex: tf.Tensor,
  position: tf.Tensor,
  weights: tf.Tensor,
  numExperts: number,
  capacity: number,
): tf.Tensor {
  checkAssignment('combineWeights', expertIndex, position);
  const [s, k] = expertIndex.shape;
  // position −1 or ≥ C gives an all-zero one-hot row, which is exactly "dropped".
  const kept = tf.logicalAnd(tf.greaterEqual(position, 0), tf.less(position, capacity));
  const safePos = tf.where(kept, position, tf.fill(position.shape, capacity, 'int32'));
  const expertOneHot = oneHot(tf.reshape(expertIndex, [-1]), numExperts);
  const slotOneHot = oneHot(tf.reshape(safePos, [-1]), capacity + 1);
  const weighted = tf.mul(tf.reshape(expertOneHot, [s, k, numExperts]), tf.reshape(weights, [s, k, 1]));
  const slots = tf.slice(tf.reshape(slotOneHot, [s, k, capacity + 1]), [0, 0, 0], [s, k, capacity]);
  return tf.matMul(weighted, slots, true, false);
}

export const combineWeights = tf.op({ combineWeights_ });

/**
 * Scatters token rows into per-expert buffers: x `[S, D]` → `[E, C, D]`. Empty slots are zero; dropped
 * choices are not copied. Differentiable in `x`.
 */
function dispatchTokens_(
  x: tf.Tensor2D,
  expertIndex: tf.Tensor,
  position: tf.Tensor,
  numExperts: number,
  capacity: number,
): tf.Tensor3D {
  checkAssignment('dispatchTokens', expertIndex, position);
  const [s, k] = expertIndex.shape;
  if (x.rank !== 2 || x.shape[0] !== s)
    throw new Error(`dispatchTokens: x must be [${s}, D], got [${x.shape}].`);
  const d = x.shape[1];
  const slot = bufferSlot(expertIndex, position, capacity);
  // One segment sum per choice rather than one over k tiled copies of x: tiling costs more than the sums.
  const slots = k === 1 ? [tf.reshape(slot, [-1])] : tf.unstack(slot, 1);
  const parts = slots.map((ids) => segmentSum(x, ids as tf.Tensor1D, numExperts * capacity));
  return tf.reshape(parts.length === 1 ? parts[0] : tf.addN(parts), [numExperts, capacity, d]);
}

export const dispatchTokens = tf.op({ dispatchTokens_ });

/**
 * Gathers expert outputs `[E, C, D]` back to tokens: out[s] = Σ_k weights[s,k]·y[e_sk, p_sk]; dropped
 * choices contribute zero (the block's residual carries those tokens). Differentiable in `expertOutput`
 * and `weights`.
 */
function combineTokens_(
  expertOutput: tf.Tensor3D,
  expertIndex: tf.Tensor,
  position: tf.Tensor,
  weights: tf.Tensor,
): tf.Tensor2D {
  checkAssignment('combineTokens', expertIndex, position);
  const [e, c, d] = expertOutput.shape;
  const [s, k] = expertIndex.shape;
  if (weights.rank !== 2 || weights.shape[0] !== s || weights.shape[1] !== k) {
    throw new Error(`combineTokens: weights must be [${s}, ${k}], got [${weights.shape}].`);
  }
  const slot = bufferSlot(expertIndex, position, c);
  const kept = tf.greaterEqual(slot, 0);
  const safeSlot = tf.reshape(tf.where(kept, slot, tf.zerosLike(slot)), [-1]);
  const gathered = tf.reshape(tf.gather(tf.reshape(expertOutput, [e * c, d]), safeSlot), [s, k, d]);
  const w = tf.where(kept, weights, tf.zerosLike(weights));
  // [S, 1, K] × [S, K, D] → [S, 1, D]
  return tf.reshape(tf.matMul(tf.reshape(w, [s, 1, k]), gathered), [s, d]);
}

export const combineTokens = tf.op({ combineTokens_ });
