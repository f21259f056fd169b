import * as tf from '@tensorflow/tfjs';
import { assertInteger, customGrad } from '@moevl/core';
import { cvSquaredWithGrad, normalDensity, normalSurvival } from './host_math.js';
import { tokenMask } from './token_mask.js';
import { readMatrix } from './validate.js';

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
export function loadLoss(
  cleanLogits: tf.Tensor2D,
  noisyLogits: tf.Tensor2D,
  options: LoadLossOptions,
): tf.Scalar {
  return tf.tidy(() => {
    const fn = 'loadLoss';
    const cv = readMatrix(fn, 'cleanLogits', cleanLogits);
    const nv = readMatrix(fn, 'noisyLogits', noisyLogits);
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
    const w = tokenMask(fn, options.mask, S)?.dataSync();
    return load(cleanLogits, noisyLogits, cv, nv, k, noiseStd / E, w);
  });
}

/**
 * The load loss as one op on the host (float64): thr_s, p_se = 1 − Φ(z_se) with z_se = (thr_s − clean_se)/σ,
 * load_e = Σ_s w_s·p_se / Σ_s w_s (the plain mean without a mask; 0 for no tokens), CV²(load); gradients
 * ∂/∂clean_se = c_se·φ(z_se)/σ and, into the k-th noisy logit of each token, −Σ_e c_se·φ(z_se)/σ, with
 * c_se = w_s/Σw · ∂CV²/∂load_e. Composed from tfjs ops (top-k, one-hot, erf, masked mean, `cvSquared`) the same
 * is ~60 kernels forward and backward. `cv`, `nv`: the logits' values, as validation read them.
 */
function load(
  clean: tf.Tensor2D,
  noisy: tf.Tensor2D,
  cv: Float32Array,
  nv: Float32Array,
  k: number,
  sigma: number,
  w: ArrayLike<number> | undefined,
): tf.Scalar {
  const [S, E] = clean.shape;
  const f = customGrad<tf.Scalar>(() => {
    const kth = new Int32Array(S);
    const chosen = new Uint8Array(E);
    for (let s = 0; s < S; s++) {
      // The k-th largest noisy logit, ties to the lower index (as `topK`).
      chosen.fill(0);
      let best = -1;
      for (let j = 0; j < k; j++) {
        best = -1;
        for (let e = 0; e < E; e++) {
          if (chosen[e] === 0 && (best < 0 || nv[s * E + e] > nv[s * E + best])) best = e;
        }
        chosen[best] = 1;
      }
      kth[s] = best;
    }
    let total = 0;
    for (let s = 0; s < S; s++) total += w == null ? 1 : w[s];
    const safe = total > 0 ? total : 1;
    const z = new Float64Array(S * E);
    const loads = new Float64Array(E);
    for (let s = 0; s < S; s++) {
      const ws = w == null ? 1 : w[s];
      const thr = nv[s * E + kth[s]];
      for (let e = 0; e < E; e++) {
        z[s * E + e] = (thr - cv[s * E + e]) / sigma;
        if (ws !== 0) loads[e] += (ws * normalSurvival(z[s * E + e])) / safe;
      }
    }
    const cv2 = cvSquaredWithGrad(loads);
    return {
      value: tf.scalar(cv2.value),
      gradFunc: (dy) => {
        const d = dy.dataSync()[0];
        const dClean = new Float32Array(S * E);
        const dNoisy = new Float32Array(S * E);
        for (let s = 0; s < S; s++) {
          const ws = w == null ? 1 : w[s];
          if (ws === 0) continue;
          let dThr = 0;
          for (let e = 0; e < E; e++) {
            // ∂p/∂z = −φ(z); ∂z/∂clean = −1/σ, ∂z/∂thr = 1/σ.
            const g = (((d * ws) / safe) * cv2.grad[e] * normalDensity(z[s * E + e])) / sigma;
            dClean[s * E + e] = g;
            dThr -= g;
          }
          dNoisy[s * E + kth[s]] = dThr;
        }
        return [tf.tensor2d(dClean, [S, E]), tf.tensor2d(dNoisy, [S, E])];
      },
    };
  });
  return f(clean, noisy);
}
