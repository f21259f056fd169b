import * as tf from '@tensorflow/tfjs';
import { assertInteger, cvSquared, oneHot, topK } from '@moevl/core';
import { maskedTokenMean, tokenMask } from './token_mask.js';
import { checkMatrix } from './validate.js';

export interface LoadLossOptions {
  /** Experts selected per token (the router's k). */
  k: number;
  /**
   * The router's `noise_std` before it is divided by the number of experts: the noise actually added to
   * the logits has σ = noiseStd / E (vmoe; V-MoE default noiseStd 1.0).
   */
  noiseStd: number;
  /** [S]: 1 for a real token, 0 for padding. Padding is left out of the mean over tokens. */
  mask?: tf.Tensor1D;
}

/** Standard normal survival function 1 − Φ(z) = erfc(z/√2)/2; tf.erf has a gradient on every backend. */
function normalSurvival(z: tf.Tensor): tf.Tensor {
  return tf.mul(tf.sub(1, tf.erf(tf.mul(z, Math.SQRT1_2))), 0.5);
}

/**
 * V-MoE load loss (Riquelme et al. 2021, arXiv 2106.05974, App. A.2; vmoe
 * `NoisyTopExpertsPerItemRouter._load_auxiliary_loss`, after Shazeer et al. 2017).
 *
 * Which experts a token uses is decided by top-k over *noisy* logits, and that choice has no gradient. The
 * load loss replaces the count by a smooth probability: thr_s is the k-th largest noisy logit of token s,
 * and p_se = P(clean_se + fresh noise > thr_s) = 1 − Φ((thr_s − clean_se)/σ) is the chance that expert e
 * would make token s's top-k if the noise were drawn again. The loss is CV²(mean_s p_se) (population
 * variance), i.e. it equalises the expected number of tokens each expert receives. Paper weight: 0.005.
 *
 * Gradients follow vmoe: the threshold is selected as one-hot(k-th noisy index) · noisyLogits, so
 * gradient flows into the chosen noisy logit (and thus, when noisy = clean + noise, into the router)
 * while the index itself is a constant; clean logits receive gradient through every p_se.
 *
 * Only meaningful for a stochastic router (noiseStd > 0); vmoe skips it in deterministic mode.
 */
export function loadLoss(
  cleanLogits: tf.Tensor2D,
  noisyLogits: tf.Tensor2D,
  options: LoadLossOptions,
): tf.Scalar {
  return tf.tidy(() => {
    const fn = 'loadLoss';
    checkMatrix(fn, 'cleanLogits', cleanLogits);
    checkMatrix(fn, 'noisyLogits', noisyLogits);
    const [S, E] = cleanLogits.shape;
    if (noisyLogits.shape[0] !== S || noisyLogits.shape[1] !== E) {
      throw new Error(
        `${fn}: cleanLogits [${cleanLogits.shape}] and noisyLogits [${noisyLogits.shape}] must have the same shape.`,
      );
    }
    const { k, noiseStd } = options ?? ({} as LoadLossOptions);
    assertInteger(`${fn}: k`, k, { min: 1, max: E, note: 'the number of experts' });
    if (typeof noiseStd !== 'number' || !Number.isFinite(noiseStd) || noiseStd <= 0) {
      throw new Error(
        `${fn}: noiseStd must be a finite number > 0 (the load loss needs noise), got ${noiseStd}.`,
      );
    }
    const mask = tokenMask(fn, options.mask, S);
    const sigma = noiseStd / E;

    const kthIndex = tf.reshape(tf.slice(topK(noisyLogits, k).indices, [0, k - 1], [S, 1]), [S]);
    const threshold = tf.sum(tf.mul(oneHot(kthIndex, E), noisyLogits), 1, true);
    const noiseRequiredToWin = tf.div(tf.sub(threshold, cleanLogits), sigma);
    const p = normalSurvival(noiseRequiredToWin);
    return cvSquared(maskedTokenMean(p, mask));
  });
}
