import * as tf from '@tensorflow/tfjs';
import { entropy } from '@moevl/core';
import { maskedTokenMean, tokenMask } from './token_mask.js';
import { checkMatrix } from './validate.js';

export interface LocalEntropyLossOptions {
  /** [S]: 1 for a token that counts, 0 otherwise (padding, or tokens of another modality). */
  mask?: tf.Tensor1D;
}

/**
 * LIMoE local entropy loss (Mustafa et al. 2022, arXiv 2206.02770):
 * Ω_local = (1/n) Σ_i H(p(·|x_i)), the mean entropy (nats) of each token's routing distribution.
 *
 * Minimising it makes every token confident about its expert, so top-k routing follows the softmax
 * instead of near-coin flips. LIMoE applies it per modality (see `perModalityEntropyLosses`) together with
 * the global entropy loss, which keeps the confident choices spread over many experts. The loss weight is
 * not verified from the paper: callers choose it.
 *
 * `gates` [S, E] are the router softmax. Zero gates are fine (0·ln 0 = 0); an empty mask gives 0.
 */
export function localEntropyLoss(gates: tf.Tensor2D, options: LocalEntropyLossOptions = {}): tf.Scalar {
  return tf.tidy(() => {
    checkMatrix('localEntropyLoss', 'gates', gates);
    const mask = tokenMask('localEntropyLoss', options.mask, gates.shape[0]);
    return maskedTokenMean<tf.Scalar>(entropy(gates, -1), mask);
  });
}
