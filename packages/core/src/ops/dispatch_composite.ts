import * as tf from '@tensorflow/tfjs';
import { segmentSum } from './segment_sum.js';

/**
 * Token dispatch and combine composed from tfjs ops: what `dispatchTokens` / `combineTokens` (`dispatch.ts`)
 * run on a backend without the fused kernels (`backend/dispatch_kernels.ts`), and the reference the kernels
 * are tested against. Inputs are checked by the callers.
 */

export function checkAssignment(op: string, expertIndex: tf.Tensor, position: tf.Tensor): void {
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

/** `dispatchTokens` as per-choice segment sums into the `E·C` buffer slots. */
export function dispatchTokensComposite(
  x: tf.Tensor2D,
  expertIndex: tf.Tensor,
  position: tf.Tensor,
  numExperts: number,
  capacity: number,
): tf.Tensor3D {
  return tf.tidy(() => {
    const k = expertIndex.shape[1];
    const slot = bufferSlot(expertIndex, position, capacity);
    // One segment sum per choice rather than one over k tiled copies of x: tiling costs more than the sums.
    const slots = k === 1 ? [tf.reshape(slot, [-1])] : tf.unstack(slot, 1);
    const parts = slots.map((ids) => segmentSum(x, ids as tf.Tensor1D, numExperts * capacity));
    const sum = parts.length === 1 ? parts[0] : tf.addN(parts);
    return tf.reshape(sum, [numExperts, capacity, x.shape[1]]);
  });
}

/** `combineTokens` as a gather of the chosen rows and a batched `[S,1,K]×[S,K,D]` product. */
export function combineTokensComposite(
  expertOutput: tf.Tensor3D,
  expertIndex: tf.Tensor,
  position: tf.Tensor,
  weights: tf.Tensor,
): tf.Tensor2D {
  return tf.tidy(() => {
    const [e, c, d] = expertOutput.shape;
    const [s, k] = expertIndex.shape;
    const slot = bufferSlot(expertIndex, position, c);
    const kept = tf.greaterEqual(slot, 0);
    const safeSlot = tf.reshape(tf.where(kept, slot, tf.zerosLike(slot)), [-1]);
    const gathered = tf.reshape(tf.gather(tf.reshape(expertOutput, [e * c, d]), safeSlot), [s, k, d]);
    const w = tf.where(kept, weights, tf.zerosLike(weights));
    // [S, 1, K] × [S, K, D] → [S, 1, D]
    return tf.reshape(tf.matMul(tf.reshape(w, [s, 1, k]), gathered), [s, d]);
  });
}
