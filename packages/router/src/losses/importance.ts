import * as tf from '@tensorflow/tfjs';
import { cvSquared } from '@moevl/core';
import { maskTokens, tokenMask } from './token_mask.js';
import { checkMatrix } from './validate.js';

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
    checkMatrix('importanceLoss', 'gates', gates);
    const mask = tokenMask('importanceLoss', options.mask, gates.shape[0]);
    const importance = tf.sum(maskTokens(gates, mask), 0);
    return cvSquared(importance);
  });
}
