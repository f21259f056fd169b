import * as tf from '@tensorflow/tfjs';
import type { MetricValue } from '@moevl/core';
import { deriveSeed, initialize } from '@moevl/core';
import { readMask } from '../assignment/gates_input.js';
import type { Router, RouterContext, RouterOptions, RouterStrategy, SoftRoutingResult } from './contract.js';
import { OptionReader } from './option_checks.js';

export interface SoftMoERouterOptions extends RouterOptions {
  seed: number;
  /**
   * Slots per expert (the paper's p). It is a model hyper-parameter because the slot parameters `mu` have
   * one column per slot. Default 1 (most of the paper's models). Upstream code derives it once from the
   * group size, `round(S·capacityFactor / E)`: compute that yourself for your S if you want that setting.
   */
  slotsPerExpert: number;
}

/** Inside the rsqrt of the L2 normalisation, as in vmoe's Soft MoE (`rsqrt(Σx² + 1e-6)`), not a max. */
const NORMALIZE_EPS = 1e-6;
/** Logit given to padding before the softmax over tokens: exp underflows to exactly 0 in float32. */
const PADDING_LOGIT = -1e9;

/** x·rsqrt(Σx² + 1e-6) along `axis`: Soft MoE's normalisation, which keeps logits bounded by `scale`. */
function normalize(x: tf.Tensor2D, axis: number): tf.Tensor2D {
  return tf.mul(x, tf.rsqrt(tf.add(tf.sum(tf.square(x), axis, true), NORMALIZE_EPS)));
}

/**
 * Soft MoE (Puigcerver et al. 2023, "From Sparse to Soft Mixtures of Experts"): instead of a discrete
 * assignment, each of the E·p slots receives a convex mix of all tokens (dispatch = softmax over tokens)
 * and each token's output is a convex mix of all slot outputs (combine = softmax over slots). It is fully
 * differentiable, drops nothing and needs no balance loss.
 *
 * Logits are `scale · normalize(x) · normalize(mu)` with tokens normalised along D and each slot's
 * parameter column normalised along D; the learned `scale` (init 1) restores the sharpness normalisation
 * takes away, which the paper needs for stable training at large D. Slot j = e·p + c is slot c of expert
 * e (expert-major). Padding tokens get zero dispatch weight; their combine rows are computed but unused.
 * `gates [S, E]` (for analysis; Soft MoE has no discrete gate) is each expert's share of a token's output,
 * Σ_c combine[s, e·p + c], i.e. the softmax over experts of logsumexp over the expert's slot logits.
 */
class SoftMoERouter implements Router {
  readonly strategy = 'soft-moe';
  readonly numExperts: number;
  readonly inputDim: number;
  private readonly mu: tf.Variable;
  private readonly scale: tf.Variable;

  constructor(private readonly options: SoftMoERouterOptions) {
    this.numExperts = options.numExperts;
    this.inputDim = options.inputDim;
    const slots = options.numExperts * options.slotsPerExpert;
    const value = tf.tidy(() =>
      initialize('lecunNormal', [this.inputDim, slots], deriveSeed(options.seed, 'mu')),
    );
    this.mu = tf.variable(value, true);
    value.dispose();
    this.scale = tf.tidy(() => tf.variable(tf.scalar(1), true));
  }

  route(x: tf.Tensor2D, ctx: RouterContext): SoftRoutingResult {
    if (x.rank !== 2 || x.shape[1] !== this.inputDim) {
      throw new Error(`router "soft-moe": expected tokens [S, ${this.inputDim}], got [${x.shape}].`);
    }
    const [s, e, p] = [x.shape[0], this.numExperts, this.options.slotsPerExpert];
    const keep = readMask('router "soft-moe"', ctx.mask, s);
    const out = tf.tidy(() => {
      const logits = tf.mul(tf.matMul(normalize(x, 1), normalize(this.mu as tf.Tensor2D, 0)), this.scale);
      let tokenLogits = logits;
      let realColumn: tf.Tensor2D | undefined;
      if (keep != null) {
        realColumn = tf.tensor2d(keep, [s, 1], 'float32');
        // Built from JS data, off the gradient tape (comparison ops have no gradient in tfjs).
        const realCells = new Uint8Array(s * e * p);
        for (let t = 0; t < s; t++) if (keep[t]) realCells.fill(1, t * e * p, (t + 1) * e * p);
        const real = tf.tensor2d(realCells, [s, e * p], 'bool');
        tokenLogits = tf.where(real, logits, tf.fill(logits.shape, PADDING_LOGIT));
      }
      // tfjs softmax works on the last axis only: transpose for the softmax over tokens.
      let dispatchWeights = tf.transpose(tf.softmax(tf.transpose(tokenLogits))) as tf.Tensor2D;
      // With every token padding the softmax is uniform over padding; the mask zeroes it.
      if (realColumn != null) dispatchWeights = tf.mul(dispatchWeights, realColumn);
      const combineWeights = tf.softmax(logits) as tf.Tensor2D;
      const gates = tf.sum(tf.reshape(combineWeights, [s, e, p]), 2) as tf.Tensor2D;
      return { dispatchWeights, combineWeights, gates };
    });
    const metrics = softMetrics(out.dispatchWeights.dataSync(), out.combineWeights.dataSync(), keep, s, e, p);
    return { kind: 'soft', numExperts: e, capacity: p, auxLosses: {}, metrics, ...out };
  }

  namedWeights(): Record<string, tf.Variable> {
    return { mu: this.mu, scale: this.scale };
  }

  getOptions(): SoftMoERouterOptions {
    return { ...this.options };
  }

  dispose(): void {
    this.mu.dispose();
    this.scale.dispose();
  }
}

const nullIfBad = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * How soft the routing is, as plain data (null where there is no real token):
 *  - `dispatchEntropy`: mean over slots of the entropy (nats) of its token mix; `…Normalized` divides by
 *    ln(real tokens), so 1 = a plain average of all tokens, 0 = each slot copies one token;
 *  - `maxDispatchWeight`: mean over slots of its largest token weight;
 *  - `combineEntropy` / `…Normalized`: mean over real tokens of the entropy of its slot mix (÷ ln(E·p));
 *  - `slotLoad` `[E·p]`, `expertLoad` `[E]`: share of the real tokens' combine mass per slot / expert
 *    (each sums to 1), and `importanceCV` = std/mean of `expertLoad` (0 = perfectly even use).
 */
function softMetrics(
  dispatch: ArrayLike<number>,
  combine: ArrayLike<number>,
  keep: Uint8Array | null,
  s: number,
  e: number,
  p: number,
): Record<string, MetricValue> {
  const n = e * p;
  let tokens = 0;
  for (let t = 0; t < s; t++) if (keep == null || keep[t]) tokens++;
  const base = { numExperts: e, capacity: p, slots: n, tokens };
  if (tokens === 0) {
    return {
      ...base,
      dispatchEntropy: null,
      dispatchEntropyNormalized: null,
      maxDispatchWeight: null,
      combineEntropy: null,
      combineEntropyNormalized: null,
      slotLoad: null,
      expertLoad: null,
      importanceCV: null,
    };
  }
  const h = (w: number) => (w > 0 ? -w * Math.log(w) : 0);
  let dispatchEntropy = 0;
  let maxWeight = 0;
  for (let j = 0; j < n; j++) {
    let hj = 0;
    let mj = 0;
    for (let t = 0; t < s; t++) {
      hj += h(dispatch[t * n + j]);
      mj = Math.max(mj, dispatch[t * n + j]);
    }
    dispatchEntropy += hj / n;
    maxWeight += mj / n;
  }
  let combineEntropy = 0;
  const slotLoad = new Array<number>(n).fill(0);
  for (let t = 0; t < s; t++) {
    if (keep != null && !keep[t]) continue;
    for (let j = 0; j < n; j++) {
      combineEntropy += h(combine[t * n + j]) / tokens;
      slotLoad[j] += combine[t * n + j] / tokens;
    }
  }
  const expertLoad = new Array<number>(e).fill(0);
  for (let j = 0; j < n; j++) expertLoad[Math.floor(j / p)] += slotLoad[j];
  const mean = 1 / e;
  const variance = expertLoad.reduce((a, v) => a + (v - mean) ** 2, 0) / e;
  return {
    ...base,
    dispatchEntropy,
    dispatchEntropyNormalized: tokens > 1 ? dispatchEntropy / Math.log(tokens) : null,
    maxDispatchWeight: maxWeight,
    combineEntropy,
    combineEntropyNormalized: n > 1 ? combineEntropy / Math.log(n) : null,
    slotLoad,
    expertLoad,
    importanceCV: nullIfBad(Math.sqrt(variance) / mean),
  };
}

export const softMoERouter: RouterStrategy<SoftMoERouterOptions> = {
  specificationVersion: 'v1',
  name: 'soft-moe',
  version: '1.0.0',
  description: 'Soft MoE (Puigcerver et al. 2023): slots are softmax-weighted mixes of all tokens',
  validateOptions(raw) {
    const r = new OptionReader('soft-moe', raw, ['slotsPerExpert']);
    return { ...r.common(), slotsPerExpert: r.int('slotsPerExpert', 1, 1) };
  },
  create: (options) => new SoftMoERouter(options),
};
