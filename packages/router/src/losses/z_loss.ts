import * as tf from '@tensorflow/tfjs';
import { logsumexp } from '@moevl/core';
import { maskedTokenMean, tokenMask } from './token_mask.js';
import { checkMatrix } from './validate.js';

export interface ZLossOptions {
  /** [S]: 1 for a real token, 0 for padding. Padding is left out of the mean. */
  mask?: tf.Tensor1D;
}

/**
 * ST-MoE router z-loss (Zoph et al. 2022, arXiv 2202.08906): L = mean_tokens (log Σ_e exp z_e)².
 *
 * It penalises large router logits. Big logits make the softmax saturate and, in low precision, round
 * badly, which the paper found to be a main source of training instability; the z-loss keeps them small
 * without changing which expert wins. Paper weight: 1e-4. Takes the router's raw `logits` [S, E], not the
 * softmax. logsumexp is the max-shifted core op, so it never overflows.
 */
export function zLoss(logits: tf.Tensor2D, options: ZLossOptions = {}): tf.Scalar {
  return tf.tidy(() => {
    checkMatrix('zLoss', 'logits', logits);
    const mask = tokenMask('zLoss', options.mask, logits.shape[0]);
    return maskedTokenMean<tf.Scalar>(tf.square(logsumexp(logits, -1)), mask);
  });
}
