import * as tf from '@tensorflow/tfjs';
import { globalEntropyLoss } from './global_entropy.js';
import { localEntropyLoss } from './local_entropy.js';
import { tokenMask } from './token_mask.js';
import { checkMatrix, checkNonNegative, checkTokenIds } from './validate.js';

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
    checkMatrix(fn, 'gates', gates);
    checkTokenIds(fn, 'modality', modality, gates.shape[0], numModalities, 'numModalities');
    if (options.threshold !== undefined) checkNonNegative(fn, 'threshold', options.threshold);
    const padding = tokenMask(fn, options.mask, gates.shape[0]);
    const local: tf.Scalar[] = [];
    const global: tf.Scalar[] = [];
    for (let m = 0; m < numModalities; m++) {
      let mask = tf.cast(tf.equal(modality, m), 'float32') as tf.Tensor1D;
      if (padding != null) mask = tf.mul(mask, padding);
      local.push(localEntropyLoss(gates, { mask }));
      global.push(globalEntropyLoss(gates, { threshold: options.threshold, mask }));
    }
    return { local, global };
  });
}
