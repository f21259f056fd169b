import * as tf from '@tensorflow/tfjs';
import { readMask } from '../assignment/gates_input.js';
import { AUX_LOSS_OPTION_KEYS, type AuxLossWeights, gatedAuxLosses } from './aux_losses.js';
import type { RouterContext, RouterOptions, RouterStrategy, SparseRoutingResult } from './contract.js';
import { GatedRouter } from './gated_router.js';
import { OptionReader } from './option_checks.js';

/**
 * The V-MoE load loss needs noisy logits and a k-th largest threshold, neither of which a dense mixture
 * has, so it is not an option here; every other gated auxiliary loss is.
 */
export interface DenseRouterOptions extends RouterOptions, Omit<AuxLossWeights, 'loadWeight'> {
  seed: number;
}

const DENSE_LOSS_KEYS = AUX_LOSS_OPTION_KEYS.filter((key) => key !== 'loadWeight');

/**
 * The dense (soft-gated) mixture, the baseline every sparse router is compared against: every token goes
 * to all E experts, weighted by softmax(x·W), so nothing is dropped and the whole gate is differentiable.
 * It is returned in the sparse form with K = E (choice k = expert k) and capacity S (position = token
 * index), so the same MoE layer runs it; it costs E times the compute of top-1 routing. Padding tokens get
 * position −1 and weight 0, like a dropped choice.
 */
class DenseRouter extends GatedRouter<DenseRouterOptions> {
  readonly batchIndependent = true;

  route(x: tf.Tensor2D, ctx: RouterContext): SparseRoutingResult {
    this.checkInput(x);
    const o = this.options;
    const [s, e] = [x.shape[0], this.numExperts];
    const keep = readMask('router "dense"', ctx.mask, s);
    const index = new Int32Array(s * e);
    const position = new Int32Array(s * e);
    const real = new Uint8Array(s * e);
    for (let t = 0; t < s; t++) {
      const isReal = keep == null || keep[t] === 1;
      for (let k = 0; k < e; k++) {
        index[t * e + k] = k;
        position[t * e + k] = isReal ? t : -1;
        real[t * e + k] = isReal ? 1 : 0;
      }
    }
    const { logits, gates, combineWeights, expertIndex, positionT } = tf.tidy(() => {
      const l = this.logits(x);
      const g = tf.softmax(l) as tf.Tensor2D;
      const kept = tf.tensor2d(real, [s, e], 'bool');
      return {
        logits: l,
        gates: g,
        // `where`, not a multiply by the mask: padding gets exactly +0 and no gradient.
        combineWeights: tf.where(kept, g, tf.zerosLike(g)) as tf.Tensor2D,
        expertIndex: tf.tensor2d(index, [s, e], 'int32'),
        positionT: tf.tensor2d(position, [s, e], 'int32'),
      };
    });
    const auxLosses = gatedAuxLosses({ logits, gates, k: e, noiseStd: 0 }, { ...o, loadWeight: 0 }, ctx);
    logits.dispose();
    return this.sparseResult({
      assignment: { expertIndex, position: positionT, combineWeights, capacity: s },
      gates,
      auxLosses,
      ctx,
    });
  }
}

export const denseRouter: RouterStrategy<DenseRouterOptions> = {
  specificationVersion: 'v1',
  name: 'dense',
  version: '1.0.0',
  description: 'Dense soft-gated mixture: every token to every expert, weighted by softmax(x·W)',
  validateOptions(raw) {
    const r = new OptionReader('dense', raw, DENSE_LOSS_KEYS);
    return {
      ...r.common(),
      importanceWeight: r.number('importanceWeight', 0, { min: 0 }),
      gshardWeight: r.number('gshardWeight', 0, { min: 0 }),
      zLossWeight: r.number('zLossWeight', 0, { min: 0 }),
      localEntropyWeight: r.number('localEntropyWeight', 0, { min: 0 }),
      globalEntropyWeight: r.number('globalEntropyWeight', 0, { min: 0 }),
      globalEntropyThreshold: r.optionalNumber('globalEntropyThreshold', { min: 0 }),
    };
  },
  create: (options) => new DenseRouter('dense', options),
};
