import * as tf from '@tensorflow/tfjs';
import { customGrad } from '@moevl/core';
import { tokenMask } from './token_mask.js';
import { checkNonNegative, checkTokenIds, readMatrix } from './validate.js';

export interface PerModalityEntropyOptions {
  /** τ of the thresholded global loss, shared by all modalities; see `globalEntropyLoss`. Not verified. */
  threshold?: number;
  /** [S]: 1 for a real token, 0 for padding; combined with each modality's own token set. */
  mask?: tf.Tensor1D;
}

export interface PerModalityEntropyLosses {
  /** local[m] = Ω_local over the tokens of modality m. */
  local: tf.Scalar[];
  /** global[m] = Ω_global (or its thresholded form) over the tokens of modality m. */
  global: tf.Scalar[];
}

/**
 * LIMoE's entropy losses, computed separately for each modality (Mustafa et al. 2022, arXiv 2206.02770).
 *
 * A single-tower model sees many more image patches than text tokens; over the whole batch the global
 * entropy is dominated by images, and text can collapse onto one or two experts while the batch-level
 * marginal still looks balanced. Computing Ω_local and Ω_global over each modality's tokens (n_m) gives the
 * minority modality its own pressure. A modality with no tokens in the batch gives 0 for both, not NaN.
 *
 * `modality` [S] int32 ids in [0, numModalities). The caller weights and sums the returned scalars.
 */
export function perModalityEntropyLosses(
  gates: tf.Tensor2D,
  modality: tf.Tensor1D,
  numModalities: number,
  options: PerModalityEntropyOptions = {},
): PerModalityEntropyLosses {
  return tf.tidy(() => {
    const fn = 'perModalityEntropyLosses';
    const p = readMatrix(fn, 'gates', gates);
    const ids = checkTokenIds(fn, 'modality', modality, gates.shape[0], numModalities, 'numModalities');
    if (options.threshold !== undefined) checkNonNegative(fn, 'threshold', options.threshold);
    const padding = tokenMask(fn, options.mask, gates.shape[0])?.dataSync();
    // Each modality's token weights: its tokens, times the padding mask's weight.
    const weights = Array.from({ length: numModalities }, () => new Float64Array(ids.length));
    for (let s = 0; s < ids.length; s++) weights[ids[s]][s] = padding == null ? 1 : padding[s];
    const all = tf.unstack(modalityEntropies(gates, p, weights, options.threshold)) as tf.Scalar[];
    return { local: all.slice(0, numModalities), global: all.slice(numModalities) };
  });
}

/** The floor of the entropy's log argument, as `entropy` in @moevl/core applies it (float32). */
const EPS = Math.fround(1e-30);

/**
 * d(−p ln max(p, ε))/dp, the derivative `entropy`'s composed form has: −(ln p + 1), or −ln ε below ε; `logp` is
 * ln max(p, ε).
 */
const dNegPLogP = (p: number, logp: number) => (p >= EPS ? -(logp + 1) : -logp);

/**
 * All modalities' losses in one op, `[local_0 … local_{M−1}, global_0 … global_{M−1}]`, from the gates read
 * once, in float64, with the closed-form gradient. Composed from tfjs ops (entropy per token and per marginal,
 * masked means, the hinge, per modality) the same takes ~70 kernels forward and more backward per MoE layer.
 * Definitions as `localEntropyLoss` and `globalEntropyLoss` (with weights w: Σ w·x / Σ w, 0 for no tokens).
 * `p`: the gates' values, as validation read them.
 */
function modalityEntropies(
  gates: tf.Tensor2D,
  p: Float32Array,
  weights: Float64Array[],
  threshold?: number,
): tf.Tensor1D {
  const f = customGrad<tf.Tensor1D>(() => {
    const [S, E] = gates.shape;
    const M = weights.length;
    // ln max(p, ε) per gate, kept for the backward pass.
    const logp = new Float64Array(S * E);
    const h = new Float64Array(S);
    for (let s = 0; s < S; s++) {
      let v = 0;
      for (let e = 0; e < E; e++) {
        const i = s * E + e;
        logp[i] = Math.log(Math.max(p[i], EPS));
        v -= p[i] * logp[i];
      }
      h[s] = v;
    }
    const out = new Float32Array(2 * M);
    const safe = new Float64Array(M);
    const marginal = new Float64Array(M * E);
    const logMarginal = new Float64Array(M * E);
    const dGlobalDH = new Float64Array(M);
    weights.forEach((w, m) => {
      let n = 0;
      let local = 0;
      for (let s = 0; s < S; s++) {
        if (w[s] === 0) continue;
        n += w[s];
        local += w[s] * h[s];
        for (let e = 0; e < E; e++) marginal[m * E + e] += w[s] * p[s * E + e];
      }
      safe[m] = n > 0 ? n : 1;
      let H = 0;
      for (let e = 0; e < E; e++) {
        const q = (marginal[m * E + e] /= safe[m]);
        logMarginal[m * E + e] = Math.log(Math.max(q, EPS));
        H -= q * logMarginal[m * E + e];
      }
      out[m] = local / safe[m];
      if (threshold === undefined) {
        out[M + m] = -H;
        dGlobalDH[m] = -1;
      } else {
        const hinge = threshold - H;
        out[M + m] = n > 0 && hinge > 0 ? hinge : 0;
        dGlobalDH[m] = n > 0 && hinge > 0 ? -1 : 0;
      }
    });
    return {
      value: tf.tensor1d(out),
      gradFunc: (dy) => {
        const d = dy.dataSync();
        const dp = new Float32Array(S * E);
        const dMarginal = new Float64Array(M * E);
        for (let m = 0; m < M; m++)
          for (let e = 0; e < E; e++)
            dMarginal[m * E + e] =
              d[M + m] * dGlobalDH[m] * dNegPLogP(marginal[m * E + e], logMarginal[m * E + e]);
        for (let s = 0; s < S; s++)
          for (let e = 0; e < E; e++) {
            const local = dNegPLogP(p[s * E + e], logp[s * E + e]);
            let v = 0;
            for (let m = 0; m < M; m++) {
              const w = weights[m][s];
              if (w !== 0) v += (w / safe[m]) * (d[m] * local + dMarginal[m * E + e]);
            }
            dp[s * E + e] = v;
          }
        return [tf.tensor2d(dp, [S, E])];
      },
    };
  });
  return f(gates);
}
