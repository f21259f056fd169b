import * as tf from '@tensorflow/tfjs';
import { fusedSumOfSquares, hasOptimizerKernels } from '../backend/optimizer_kernels.js';

/**
 * Gradient clipping by global norm, as `torch.nn.utils.clip_grad_norm_` (norm_type 2) does it: one norm
 * over all gradients together, so clipping rescales the whole update and keeps its direction. Sparse-MoE
 * training uses it because router logits can produce occasional gradient spikes.
 */

/** Small constant PyTorch adds to the norm before dividing, to avoid dividing by zero. */
const NORM_EPS = 1e-6;

/**
 * The L2 norm of all gradients taken together, √(Σ‖g‖²), as a float32 value with a single read-back: on
 * wasm and cpu one fused kernel summing in float64, elsewhere composed tfjs ops in float32 (as PyTorch does
 * for float32 gradients). Returns 0 for an empty record.
 */
export function globalNorm(grads: Record<string, tf.Tensor>): number {
  const list = Object.values(grads);
  if (list.length === 0) return 0;
  if (hasOptimizerKernels() && list.every((g) => g.dtype === 'float32')) {
    return Math.fround(Math.sqrt(fusedSumOfSquares(list)));
  }
  const norm = tf.tidy(() => tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(tf.cast(g, 'float32')))))));
  const value = norm.dataSync()[0];
  norm.dispose();
  return value;
}

export interface ClipResult {
  /** New tensors (caller disposes them); the input gradients are left as they were. */
  grads: Record<string, tf.Tensor>;
  /** Global norm of the gradients before clipping (what PyTorch returns). */
  globalNorm: number;
}

/**
 * PyTorch's clamped clip coefficient `min(1, maxNorm / (norm + 1e-6))` for a global norm; what
 * `clipByGlobalNorm` multiplies every gradient by (and `AdamW.applyGradients` takes as `gradScale`).
 */
export function clipCoefficient(norm: number, maxNorm: number): number {
  checkMaxNorm(maxNorm);
  return Math.min(1, maxNorm / (norm + NORM_EPS));
}

function checkMaxNorm(maxNorm: number): void {
  if (Number.isNaN(maxNorm) || maxNorm <= 0) {
    throw new Error(`global-norm clipping: maxNorm must be > 0, got ${maxNorm}`);
  }
}

/**
 * Scales all gradients by `min(1, maxNorm / (norm + 1e-6))`, PyTorch's clamped clip coefficient. That
 * means gradients are scaled whenever `norm > maxNorm − 1e-6`, and a norm within 1e-6 below `maxNorm` gets
 * a factor a hair under 1, exactly as in PyTorch. A non-finite norm is not an error here (PyTorch's
 * default): an infinite norm gives factor 0 and NaN gives NaN, so callers should check `globalNorm`.
 */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): ClipResult {
  checkMaxNorm(maxNorm);
  const norm = globalNorm(grads);
  const coef = clipCoefficient(norm, maxNorm);
  // tidy frees the scalar tensor tf.mul makes from `coef`. Math.min(1, NaN) is NaN, which is not 1, so a
  // NaN norm is multiplied in and propagates as in PyTorch.
  const out = tf.tidy(() => {
    const scaled: Record<string, tf.Tensor> = {};
    for (const [name, g] of Object.entries(grads)) scaled[name] = coef === 1 ? tf.clone(g) : tf.mul(g, coef);
    return scaled;
  });
  return { grads: out, globalNorm: norm };
}
