import * as tf from '@tensorflow/tfjs';
import { entropy } from '@moevl/core';
import { maskedTokenMean, tokenCount, tokenMask } from './token_mask.js';
import { checkMatrix, checkNonNegative } from './validate.js';

export interface GlobalEntropyLossOptions {
  /**
   * τ in nats. Without it the loss is −H(p̄); with it, max(0, τ − H(p̄)): once the marginal routing
   * distribution is spread enough (entropy ≥ τ, i.e. roughly e^τ experts in use) the loss stops pushing.
   * Values above ln E can never be met. Not verified from the LIMoE paper: no default is assumed here.
   */
  threshold?: number;
  /** [S]: 1 for a token that counts, 0 otherwise (padding, or tokens of another modality). */
  mask?: tf.Tensor1D;
}

/**
 * LIMoE global entropy loss (Mustafa et al. 2022, arXiv 2206.02770): Ω_global = −H(p̄), with
 * p̄ = (1/n) Σ_i p(·|x_i) the marginal distribution over experts of the (masked-in) tokens.
 *
 * Minimising it spreads the tokens of a modality over many experts. Without it the minority modality (text
 * in LIMoE) collapses onto a few experts, which then overflow their capacity and drop tokens. The
 * thresholded form, max(0, τ − H(p̄)), asks only for "enough" diversity, so a modality is not forced to use
 * every expert. τ and the loss weight are not verified from the paper: both are the caller's choice.
 *
 * `gates` [S, E] are the router softmax. An empty mask gives 0 (no tokens, nothing to balance), also with
 * a threshold.
 */
export function globalEntropyLoss(gates: tf.Tensor2D, options: GlobalEntropyLossOptions = {}): tf.Scalar {
  return tf.tidy(() => {
    const fn = 'globalEntropyLoss';
    checkMatrix(fn, 'gates', gates);
    const { threshold } = options;
    if (threshold !== undefined) checkNonNegative(fn, 'threshold', threshold);
    const mask = tokenMask(fn, options.mask, gates.shape[0]);
    const marginal = maskedTokenMean<tf.Tensor1D>(gates, mask);
    const h = entropy(marginal) as tf.Tensor as tf.Scalar;
    if (threshold === undefined) return tf.neg(h);
    const hinge = tf.relu(tf.sub(threshold, h)) as tf.Scalar;
    if (mask == null) return hinge;
    // An empty mask gives p̄ = 0 and H = 0, so the hinge would read τ: report 0 instead.
    const present = tf.greater(tokenCount(mask, gates.shape[0]), 0);
    return tf.where(present, hinge, tf.zerosLike(hinge));
  });
}
