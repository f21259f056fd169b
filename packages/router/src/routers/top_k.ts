import * as tf from '@tensorflow/tfjs';
import { assignTopK } from '../assignment/assign_top_k.js';
import { computeCapacity } from '../assignment/capacity.js';
import { AUX_LOSS_OPTION_KEYS, type AuxLossWeights, gatedAuxLosses } from './aux_losses.js';
import type { RouterContext, RouterOptions, RouterStrategy, SparseRoutingResult } from './contract.js';
import { GatedRouter } from './gated_router.js';
import { OptionReader } from './option_checks.js';

export interface TopKRouterOptions extends RouterOptions, AuxLossWeights {
  seed: number;
  /** Experts per token. Default 1 (LIMoE); V-MoE also uses 2. */
  k: number;
  /** Capacity factor in training (V-MoE/LIMoE: 1.05). */
  capacityFactor: number;
  /** Capacity factor at evaluation (V-MoE: larger, e.g. 4.0 so almost nothing is dropped). */
  evalCapacityFactor: number;
  /** Noise std before division by E (V-MoE: 1.0); σ = noiseStd / E. */
  noiseStd: number;
  /** Batch Priority Routing. Default true (LIMoE's setting). */
  batchPriority: boolean;
  /** Divide the top-k gates by their sum (tutel); V-MoE does not. */
  renormalize: boolean;
  /** Round capacity up to a multiple of this (vmoe: 4). */
  capacityMultipleOf: number;
}

/**
 * V-MoE's token-choice router (`NoisyTopExpertsPerItemRouter`): logits = x·W; in training add
 * N(0, (noiseStd/E)²); softmax *before* top-k; each token picks its k best experts; buffer positions are
 * given K-major (and in priority order with BPR), choices past capacity are dropped.
 */
class TopKRouter extends GatedRouter<TopKRouterOptions> {
  readonly batchIndependent = true;

  route(x: tf.Tensor2D, ctx: RouterContext): SparseRoutingResult {
    this.checkInput(x);
    const o = this.options;
    const [s, e] = [x.shape[0], this.numExperts];
    const capacity =
      ctx.dropless && !ctx.training
        ? 'dropless'
        : computeCapacity({
            tokens: s,
            experts: e,
            k: o.k,
            capacityFactor: ctx.training ? o.capacityFactor : (ctx.capacityFactor ?? o.evalCapacityFactor),
            multipleOf: o.capacityMultipleOf,
          });
    const noisy = ctx.training && o.noiseStd > 0;
    const { logits, gates, noisyLogits, routeGates } = tf.tidy(() => {
      const l = this.logits(x);
      const g = tf.softmax(l) as tf.Tensor2D;
      if (!noisy) return { logits: l, gates: g, noisyLogits: undefined, routeGates: g };
      const nl = tf.add(l, this.noise([s, e], o.noiseStd / e, ctx)) as tf.Tensor2D;
      return { logits: l, gates: g, noisyLogits: nl, routeGates: tf.softmax(nl) as tf.Tensor2D };
    });
    const assignment = assignTopK(routeGates, {
      k: o.k,
      capacity,
      capacityMultipleOf: o.capacityMultipleOf,
      batchPriority: o.batchPriority,
      renormalize: o.renormalize,
      mask: ctx.mask,
    });
    const auxLosses = gatedAuxLosses(
      // loadLoss takes the undivided noise std and divides by E itself.
      { logits, gates, noisyLogits, k: o.k, noiseStd: o.noiseStd },
      o,
      ctx,
    );
    tf.dispose([logits, noisyLogits, routeGates === gates ? undefined : routeGates].filter((t) => t != null));
    return this.sparseResult({ assignment, gates, auxLosses, ctx });
  }
}

export const topKRouter: RouterStrategy<TopKRouterOptions> = {
  specificationVersion: 'v1',
  name: 'top-k',
  version: '1.0.0',
  description: 'V-MoE token-choice top-k routing with noise, capacity and Batch Priority Routing',
  validateOptions(raw) {
    const r = new OptionReader('top-k', raw, [
      'k',
      'capacityFactor',
      'evalCapacityFactor',
      'noiseStd',
      'batchPriority',
      'renormalize',
      'capacityMultipleOf',
      ...AUX_LOSS_OPTION_KEYS,
    ]);
    const common = r.common();
    return {
      ...common,
      k: r.int('k', 1, 1, common.numExperts),
      capacityFactor: r.number('capacityFactor', 1.05, { exclusiveMin: 0 }),
      evalCapacityFactor: r.number('evalCapacityFactor', 4, { exclusiveMin: 0 }),
      noiseStd: r.number('noiseStd', 1, { min: 0 }),
      batchPriority: r.bool('batchPriority', true),
      renormalize: r.bool('renormalize', false),
      capacityMultipleOf: r.int('capacityMultipleOf', 4, 1),
      importanceWeight: r.number('importanceWeight', 0.005, { min: 0 }),
      loadWeight: r.number('loadWeight', 0.005, { min: 0 }),
      gshardWeight: r.number('gshardWeight', 0, { min: 0 }),
      zLossWeight: r.number('zLossWeight', 0, { min: 0 }),
      localEntropyWeight: r.number('localEntropyWeight', 0, { min: 0 }),
      globalEntropyWeight: r.number('globalEntropyWeight', 0, { min: 0 }),
      globalEntropyThreshold: r.optionalNumber('globalEntropyThreshold', { min: 0 }),
    };
  },
  create: (options) => new TopKRouter('top-k', options),
};
