import * as tf from '@tensorflow/tfjs';
import { oneHot, topK } from '@moevl/core';
import { maskedTokenMean, tokenMask } from './token_mask.js';
import { checkMatrix } from './validate.js';

export interface GshardLossOptions {
  /** [S]: 1 for a real token, 0 for padding. Padding counts neither in f nor in P. */
  mask?: tf.Tensor1D;
}

/**
 * GShard / Switch Transformer load-balancing loss (Lepikhin et al. 2020; Fedus et al. 2021; vmoe
 * routing tests): L = E · Σ_e f_e · P_e, with f_e the fraction of tokens whose top-1 expert is e (ties go
 * to the lower index) and P_e the mean gate of expert e.
 *
 * f is a count and carries no gradient; P does, so the router is pushed to lower the gates of experts that
 * already receive many tokens. The factor E makes the loss 1 under perfectly uniform routing whatever the
 * number of experts. Switch adds it with weight 0.01 (α in the paper).
 */
export function gshardLoss(gates: tf.Tensor2D, options: GshardLossOptions = {}): tf.Scalar {
  return tf.tidy(() => {
    checkMatrix('gshardLoss', 'gates', gates);
    const [S, E] = gates.shape;
    const mask = tokenMask('gshardLoss', options.mask, S);
    const top1 = tf.reshape(topK(gates, 1).indices, [S]);
    const fraction = maskedTokenMean<tf.Tensor1D>(oneHot(top1, E), mask);
    const meanGate = maskedTokenMean<tf.Tensor1D>(gates, mask);
    return tf.mul(tf.sum(tf.mul(fraction, meanGate)), E) as tf.Scalar;
  });
}
