import * as tf from '@tensorflow/tfjs';
import { oneHot } from './one_hot.js';
import '../backend/wasm_kernels.js';
import { COMBINE_TOKENS, DISPATCH_TOKENS, hasDispatchKernels } from '../backend/dispatch_kernels.js';
import {
  bufferSlot,
  checkAssignment,
  combineTokensComposite,
  dispatchTokensComposite,
} from './dispatch_composite.js';

/**
 * Token ↔ expert-buffer movement for sparse MoE, split as vmoe splits it: the router decides, per token
 * and choice, an expert index `[S, K]` and a buffer position `[S, K]` (−1 or ≥ capacity = dropped); these
 * helpers only move data. Two equivalent forms:
 *  - one-hot tensors `[S, E, C]` (vmoe's dispatch/combine weights, used with einsum/matMul): simple,
 *    O(S·E·C) memory, good for tests and small E;
 *  - index form (`dispatchTokens` / `combineTokens`): a scatter/gather of rows, O(S·K·D), what the MoE
 *    layer runs. On wasm and cpu each direction is one fused kernel (`backend/dispatch_kernels.ts`, gradients
 *    registered with it); elsewhere composed from tfjs ops (`dispatch_composite.ts`).
 */

export { bufferSlot };

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
  const s = expertIndex.shape[0];
  if (x.rank !== 2 || x.shape[0] !== s)
    throw new Error(`dispatchTokens: x must be [${s}, D], got [${x.shape}].`);
  if (x.dtype !== 'float32' || !hasDispatchKernels()) {
    return dispatchTokensComposite(x, expertIndex, position, numExperts, capacity);
  }
  const attrs = { numExperts, capacity } as unknown as tf.NamedAttrMap;
  return tf.engine().runKernel(DISPATCH_TOKENS, { x, expertIndex, position }, attrs) as tf.Tensor3D;
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
  const [s, k] = expertIndex.shape;
  if (weights.rank !== 2 || weights.shape[0] !== s || weights.shape[1] !== k) {
    throw new Error(`combineTokens: weights must be [${s}, ${k}], got [${weights.shape}].`);
  }
  if (expertOutput.dtype !== 'float32' || weights.dtype !== 'float32' || !hasDispatchKernels()) {
    return combineTokensComposite(expertOutput, expertIndex, position, weights);
  }
  const inputs = { expertOutput, expertIndex, position, weights };
  return tf.engine().runKernel(COMBINE_TOKENS, inputs) as tf.Tensor2D;
}

export const combineTokens = tf.op({ combineTokens_ });
