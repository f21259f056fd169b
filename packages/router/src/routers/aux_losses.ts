import * as tf from '@tensorflow/tfjs';
import { globalEntropyLoss } from '../losses/global_entropy.js';
import { gshardLoss } from '../losses/gshard.js';
import { importanceLoss } from '../losses/importance.js';
import { loadLoss } from '../losses/load.js';
import { localEntropyLoss } from '../losses/local_entropy.js';
import { perModalityEntropyLosses } from '../losses/per_modality_entropy.js';
import { zLoss } from '../losses/z_loss.js';
import type { RouterContext } from './contract.js';

/** Weights of the auxiliary losses a gated router adds; 0 switches a loss off. */
export interface AuxLossWeights {
  /** V-MoE importance loss (paper: 0.005). */
  importanceWeight: number;
  /** V-MoE load loss (paper: 0.005); only in training with noise. */
  loadWeight: number;
  /** GShard / Switch balance loss (Switch: 0.01). */
  gshardWeight: number;
  /** ST-MoE router z-loss (1e-4). */
  zLossWeight: number;
  /** LIMoE local entropy, per modality when the context has modalities. */
  localEntropyWeight: number;
  /** LIMoE global entropy, per modality when the context has modalities. */
  globalEntropyWeight: number;
  /** τ of the thresholded global entropy; none = unthresholded. Not verified from the paper. */
  globalEntropyThreshold?: number;
}

export const AUX_LOSS_OPTION_KEYS = [
  'importanceWeight',
  'loadWeight',
  'gshardWeight',
  'zLossWeight',
  'localEntropyWeight',
  'globalEntropyWeight',
  'globalEntropyThreshold',
] as const;

export interface AuxLossInputs {
  /** Clean logits [S, E]. */
  logits: tf.Tensor2D;
  /** softmax(clean logits) [S, E]. */
  gates: tf.Tensor2D;
  /** Noisy logits, when noise was added (training). */
  noisyLogits?: tf.Tensor2D;
  k: number;
  /** The undivided noise std (V-MoE's noise_std); the load loss uses σ = noiseStd / E. */
  noiseStd: number;
}

/**
 * Computes the weighted auxiliary losses by name (`importance`, `load`, `gshard`, `z`, and
 * `localEntropy`/`globalEntropy`, suffixed `/m<id>` per modality). Losses with weight 0 are skipped.
 */
export function gatedAuxLosses(
  inputs: AuxLossInputs,
  weights: AuxLossWeights,
  ctx: RouterContext,
): Record<string, tf.Scalar> {
  const out: Record<string, tf.Scalar> = {};
  const mask = ctx.mask;
  const add = (name: string, weight: number, f: () => tf.Scalar) => {
    if (weight !== 0) out[name] = tf.tidy(() => tf.mul(f(), weight) as tf.Scalar);
  };
  add('importance', weights.importanceWeight, () => importanceLoss(inputs.gates, { mask }));
  if (inputs.noisyLogits != null && inputs.noiseStd > 0) {
    const noisy = inputs.noisyLogits;
    add('load', weights.loadWeight, () =>
      loadLoss(inputs.logits, noisy, { k: inputs.k, noiseStd: inputs.noiseStd, mask }),
    );
  }
  add('gshard', weights.gshardWeight, () => gshardLoss(inputs.gates, { mask }));
  add('z', weights.zLossWeight, () => zLoss(inputs.logits, { mask }));
  const wantEntropy = weights.localEntropyWeight !== 0 || weights.globalEntropyWeight !== 0;
  if (wantEntropy && ctx.modality != null && ctx.numModalities != null) {
    const per = perModalityEntropyLosses(inputs.gates, ctx.modality, ctx.numModalities, {
      threshold: weights.globalEntropyThreshold,
      mask,
    });
    per.local.forEach((l, m) => {
      if (weights.localEntropyWeight !== 0)
        out[`localEntropy/m${m}`] = tf.tidy(() => tf.mul(l, weights.localEntropyWeight));
      l.dispose();
    });
    per.global.forEach((g, m) => {
      if (weights.globalEntropyWeight !== 0)
        out[`globalEntropy/m${m}`] = tf.tidy(() => tf.mul(g, weights.globalEntropyWeight));
      g.dispose();
    });
  } else {
    add('localEntropy', weights.localEntropyWeight, () => localEntropyLoss(inputs.gates, { mask }));
    add('globalEntropy', weights.globalEntropyWeight, () =>
      globalEntropyLoss(inputs.gates, { threshold: weights.globalEntropyThreshold, mask }),
    );
  }
  return out;
}
