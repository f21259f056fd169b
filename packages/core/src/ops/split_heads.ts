import * as tf from '@tensorflow/tfjs';
import '../backend/wasm_kernels.js';
import { SPLIT_HEADS, hasHeadsKernels } from '../backend/heads_kernels.js';

/**
 * Attention's packed q/k/v projection `[B·T, 3·D]` (columns: q, then k, then v, each `numHeads` heads of
 * `D/numHeads`) as per-head `q`, `k`, `v`, each `[B·numHeads, T, D/numHeads]`. One fused kernel each way on
 * wasm and cpu (its gradient is registered with the kernel); elsewhere slices and transposes.
 */
function splitHeads_(y: tf.Tensor2D, batch: number, tokens: number, numHeads: number): tf.Tensor3D[] {
  const width = y.shape[1];
  if (y.rank !== 2 || y.shape[0] !== batch * tokens || width % (3 * numHeads) !== 0) {
    throw new Error(`splitHeads: y must be [${batch}·${tokens}, 3·${numHeads}·headDim], got [${y.shape}].`);
  }
  if (y.dtype !== 'float32') throw new Error(`splitHeads: y must be float32, got ${y.dtype}.`);
  const hd = width / (3 * numHeads);
  if (!hasHeadsKernels()) {
    return [0, 1, 2].map((w) => {
      const part = tf.slice(y, [0, w * numHeads * hd], [-1, numHeads * hd]);
      const heads = tf.transpose(tf.reshape(part, [batch, tokens, numHeads, hd]), [0, 2, 1, 3]);
      return tf.reshape(heads, [batch * numHeads, tokens, hd]) as tf.Tensor3D;
    });
  }
  const attrs = { b: batch, t: tokens, h: numHeads } as unknown as tf.NamedAttrMap;
  return tf.engine().runKernel(SPLIT_HEADS, { y }, attrs) as tf.Tensor3D[];
}

/** Splits `[B·T, 3·D]` q/k/v projections into per-head q, k, v `[B·H, T, D/H]` (see `splitHeads_`). */
export function splitHeads(y: tf.Tensor2D, batch: number, tokens: number, numHeads: number): tf.Tensor3D[] {
  return tf.tidy(() => splitHeads_(y, batch, tokens, numHeads));
}
