import * as tf from '@tensorflow/tfjs';
import { assignExpertChoice } from '../assignment/assign_expert_choice.js';
import { computeCapacity } from '../assignment/capacity.js';
import { expertChoiceMetrics } from '../metrics/expert_choice_metrics.js';
import { gatedAuxLosses } from './aux_losses.js';
import type { RouterContext, RouterOptions, RouterStrategy, SparseRoutingResult } from './contract.js';
import { GatedRouter } from './gated_router.js';
import { OptionReader } from './option_checks.js';

export interface ExpertChoiceRouterOptions extends RouterOptions {
  seed: number;
  /**
   * Capacity factor c of Zhou et al. (2022): each expert takes `C = round(S·c / E)` tokens, so on average a
   * token is processed by c experts. The paper's default (EC-CF2) is 2.
   */
  capacityFactor: number;
  /**
   * ST-MoE router z-loss weight. Expert choice needs no balance loss (every expert is full by
   * construction), but large logits still make the softmax brittle, so the z-loss stays available. Default 0.
   */
  zLossWeight: number;
}

/**
 * Expert choice routing (Zhou et al. 2022, "Mixture-of-Experts with Expert Choice Routing"): gates =
 * softmax(x·W) over experts, then each expert takes its top-C tokens. Load is balanced by construction
 * (no auxiliary loss) while a token may be taken by several experts or by none (then it only passes
 * through the residual). The result is sparse with K = E: choice k of every token is expert k, and a
 * choice's position is the token's rank in that expert's buffer, −1 when the expert did not take it.
 */
class ExpertChoiceRouter extends GatedRouter<ExpertChoiceRouterOptions> {
  route(x: tf.Tensor2D, ctx: RouterContext): SparseRoutingResult {
    this.checkInput(x);
    const o = this.options;
    const [s, e] = [x.shape[0], this.numExperts];
    // "round" and no multiple: the comparison setting of Soft MoE / expert choice (vmoe's `round`). An
    // expert cannot take more tokens than there are, so C is capped at S.
    const capacity = Math.min(
      s,
      computeCapacity({
        tokens: s,
        experts: e,
        k: 1,
        capacityFactor: o.capacityFactor,
        multipleOf: 1,
        rounding: 'round',
      }),
    );
    const { logits, gates } = tf.tidy(() => {
      const l = this.logits(x);
      return { logits: l, gates: tf.softmax(l) as tf.Tensor2D };
    });
    const assignment = assignExpertChoice(gates, { capacity, mask: ctx.mask });
    const auxLosses = gatedAuxLosses({ logits, gates, k: 1, noiseStd: 0 }, expertChoiceLossWeights(o), ctx);
    const coverage = expertChoiceMetrics({ position: assignment.position, capacity, mask: ctx.mask });
    logits.dispose();
    return this.sparseResult({
      assignment: { ...assignment, capacity },
      gates,
      auxLosses,
      ctx,
      extraMetrics: { ...coverage },
    });
  }
}

/** Every gated auxiliary loss off except the z-loss (expert choice balances load by construction). */
function expertChoiceLossWeights(o: ExpertChoiceRouterOptions) {
  return {
    importanceWeight: 0,
    loadWeight: 0,
    gshardWeight: 0,
    zLossWeight: o.zLossWeight,
    localEntropyWeight: 0,
    globalEntropyWeight: 0,
  };
}

export const expertChoiceRouter: RouterStrategy<ExpertChoiceRouterOptions> = {
  specificationVersion: 'v1',
  name: 'expert-choice',
  version: '1.0.0',
  description: 'Expert choice routing (Zhou et al. 2022): each expert takes its top-C tokens by gate',
  validateOptions(raw) {
    const r = new OptionReader('expert-choice', raw, ['capacityFactor', 'zLossWeight']);
    return {
      ...r.common(),
      capacityFactor: r.number('capacityFactor', 2, { exclusiveMin: 0 }),
      zLossWeight: r.number('zLossWeight', 0, { min: 0 }),
    };
  },
  create: (options) => new ExpertChoiceRouter('expert-choice', options),
};
