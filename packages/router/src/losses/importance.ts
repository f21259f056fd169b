import * as tf from '@tensorflow/tfjs';
import { customGrad } from '@moevl/core';
import { cvSquaredWithGrad } from './host_math.js';
import { tokenMask } from './token_mask.js';
import { readMatrix } from './validate.js';

export interface ImportanceLossOptions {
  /** [S]: 1 for a real token, 0 for padding; padding adds nothing to an expert's importance. */
  mask?: tf.Tensor1D;
}

/**
 * V-MoE importance loss (Riquelme et al. 2021, arXiv 2106.05974, App. A.2; vmoe
 * `NoisyTopExpertsPerItemRouter._importance_auxiliary_loss`).
 *
 * The importance of expert e is the total gate mass it receives, imp_e = Σ_tokens gates[s, e]; the loss is
 * its squared coefficient of variation, CV²(imp) = var(imp) / mean(imp)², with the population variance
 * (ddof 0, as `jnp.std`; tutel's ddof-1 variant is E/(E − 1) times larger: 0.058125 vs 0.03875 on the
 * vmoe test gates). It is 0 when every expert gets the same mass and pushes the router away from
 * favouring a few experts. Unlike the load loss it sees the soft gates only, so it cannot tell whether an
 * expert is actually selected. Paper weight: 0.005.
 *
 * `gates` [S, E] are the router's softmax over experts of the clean (noise-free) logits, before top-k.
 * The variance is computed directly (core `cvSquared`), never via `std`, whose gradient is NaN when all
 * experts are balanced (vmoe PR #218).
 */
export function importanceLoss(gates: tf.Tensor2D, options: ImportanceLossOptions = {}): tf.Scalar {
  return tf.tidy(() => {
    const p = readMatrix('importanceLoss', 'gates', gates);
    const w = tokenMask('importanceLoss', options.mask, gates.shape[0])?.dataSync();
    return importance(gates, p, w);
  });
}

/**
 * CV²(Σ_s w_s·gates[s, ·]) as one op on the host (float64, closed-form gradient ∂/∂gates[s, e] = w_s·∂CV²/∂imp_e)
 * rather than the ~30 composed kernels of the masked sum and `cvSquared`, forward and backward. `p`: the gates'
 * values, as validation read them.
 */
function importance(gates: tf.Tensor2D, p: Float32Array, w: ArrayLike<number> | undefined): tf.Scalar {
  const [S, E] = gates.shape;
  const f = customGrad<tf.Scalar>(() => {
    const imp = new Float64Array(E);
    for (let s = 0; s < S; s++) {
      const ws = w == null ? 1 : w[s];
      if (ws !== 0) for (let e = 0; e < E; e++) imp[e] += ws * p[s * E + e];
    }
    const cv = cvSquaredWithGrad(imp);
    return {
      value: tf.scalar(cv.value),
      gradFunc: (dy) => {
        const d = dy.dataSync()[0];
        const out = new Float32Array(S * E);
        for (let s = 0; s < S; s++) {
          const ws = w == null ? 1 : w[s];
          if (ws !== 0) for (let e = 0; e < E; e++) out[s * E + e] = d * ws * cv.grad[e];
        }
        return [tf.tensor2d(out, [S, E])];
      },
    };
  });
  return f(gates);
}
