import * as tf from '@tensorflow/tfjs';
import { assertInteger, topK } from '@moevl/core';
import { bufferPositions, droplessCapacity } from './buffer_positions.js';
import { checkCapacity, readGates, readMask } from './gates_input.js';
import { priorityOrder } from './priority_order.js';

export interface AssignTopKOptions {
  /** Experts per token (K): the number of choices of every token, and the width of the result. */
  k: number;
  /**
   * `[S]` each token's own number of choices k_s in [1, K] (the task-conditioned router's per-task k_t). A
   * token's choices j ≥ k_s are padding: they claim no buffer slot and are reported as dropped (position −1,
   * weight 0, expert index = the next-best expert, a valid index). Default: every token has K choices.
   */
  kPerToken?: ArrayLike<number>;
  /**
   * Buffer slots per expert (C), e.g. from `computeCapacity`; `'dropless'`: the largest expert load
   * (rounded up to `capacityMultipleOf`), so no choice is dropped.
   */
  capacity: number | 'dropless';
  /** With `capacity: 'dropless'`: round the capacity up to a multiple of this. Default 1. */
  capacityMultipleOf?: number;
  /**
   * Batch Priority Routing (Riquelme et al. 2021, V-MoE): tokens claim slots in order of descending top-1
   * gate instead of token order, so under tight capacity the tokens the router is most sure about survive.
   * Ties keep token order (a stable sort, like vmoe's).
   */
  batchPriority?: boolean;
  /**
   * Divide each token's top-k gates by their sum (tutel / GShard top-2 style), computed before dropping.
   * V-MoE does not renormalise: its combine weights are the raw softmax gates.
   */
  renormalize?: boolean;
  /** `[S]` token mask: 0 = padding, which takes no buffer slot and gets position −1 and weight 0. */
  mask?: tf.Tensor1D;
}

/** A token-choice routing decision, in the index form `dispatchTokens` / `combineTokens` consume. */
export interface TopKAssignment {
  /** `[S, K]` int32: the expert of each choice, best first. Set for dropped and masked choices too. */
  expertIndex: tf.Tensor2D;
  /** `[S, K]` int32: the slot in that expert's buffer, in [0, C), or −1 when the choice is dropped. */
  position: tf.Tensor2D;
  /** `[S, K]` float32: the gate of each kept choice (differentiable w.r.t. gates), exactly 0 if dropped. */
  combineWeights: tf.Tensor2D;
  /** The capacity C the positions were assigned with (the dropless one when asked for). */
  capacity: number;
}

/**
 * Smallest sum of top-k gates we divide by when renormalising: float32 machine epsilon, the clamp tutel
 * uses, so an all-zero row gives weights 0 instead of NaN.
 */
const RENORMALIZE_EPS = 1.1920929e-7;

/** Tokens in slot-claiming order: all real tokens, sorted by descending top-1 gate under BPR. */
function tokenOrder(
  gates: ArrayLike<number>,
  experts: number,
  expertIndex: Int32Array,
  k: number,
  keep: Uint8Array | null,
  batchPriority: boolean,
): number[] {
  const order: number[] = [];
  for (let s = 0; s < gates.length / experts; s++) if (keep == null || keep[s]) order.push(s);
  // Stable: equal top-1 gates keep token order.
  if (batchPriority) return priorityOrder(order, (s) => gates[s * experts + expertIndex[s * k]]);
  return order;
}

/**
 * Token-choice top-k assignment, the step between gating and dispatch in V-MoE's router
 * (`NoisyTopExpertsPerItemRouter`): each token picks its K largest gates; the choices then claim slots in
 * the chosen experts' buffers, K-major (all 1st choices first), optionally in Batch Priority order; a choice
 * that finds its expert's C slots full is dropped.
 *
 * Only the combine weights are differentiable: the choice of experts and the positions are integer
 * decisions made in JS over the gate values (core `topK`, ties to the lower expert index), and the gradient
 * flows to exactly the kept (token, expert) gates. Every returned tensor is new; the caller disposes them.
 */
export function assignTopK(gates: tf.Tensor2D, options: AssignTopKOptions): TopKAssignment {
  const op = 'assignTopK';
  const { k, capacity, batchPriority = false, renormalize = false } = options;
  const { values, tokens, experts } = readGates(op, gates);
  assertInteger(`${op}: k`, k, { min: 1, max: experts, note: 'the number of experts' });
  if (capacity !== 'dropless') checkCapacity(op, capacity);
  const keep = readMask(op, options.mask, tokens);
  const own = options.kPerToken == null ? null : readKPerToken(op, options.kPerToken, tokens, k);

  return tf.tidy(() => {
    const top = topK(gates, k);
    const expertIndex = top.indices as tf.Tensor2D;
    const indexData = expertIndex.dataSync() as Int32Array;
    const order = tokenOrder(values, experts, indexData, k, keep, batchPriority);
    // Padding choices (j ≥ k_s) point at a sentinel expert E that no real choice uses: V-MoE's K-major running
    // count then runs unchanged, they claim no slot of a real expert, and the dropless capacity ignores them.
    const claimed = own == null ? indexData : padChoices(indexData, own, tokens, k, experts);
    const layout = { expertIndex: claimed, tokens, k, numExperts: experts, order };
    const c = capacity === 'dropless' ? droplessCapacity(layout, options.capacityMultipleOf ?? 1) : capacity;
    const positionData = bufferPositions({
      ...layout,
      numExperts: own == null ? experts : experts + 1,
      capacity: c,
    });
    const keptData = new Uint8Array(positionData.length);
    for (let i = 0; i < keptData.length; i++) {
      if (claimed[i] === experts) positionData[i] = -1;
      keptData[i] = positionData[i] >= 0 ? 1 : 0;
    }

    let weights = top.values;
    if (renormalize) {
      // Over each token's own choices only: padding is no part of its mixture.
      if (own != null) weights = tf.where(ownChoices(own, tokens, k), weights, tf.zerosLike(weights));
      weights = tf.div(weights, tf.maximum(tf.sum(weights, 1, true), tf.scalar(RENORMALIZE_EPS)));
    }
    // `where` rather than a multiply by the 0/1 mask: a dropped weight is +0 even for a negative or
    // infinite gate, and the gradient of a dropped choice is exactly 0.
    const kept = tf.tensor2d(keptData, [tokens, k], 'bool');
    const combineWeights = tf.where(kept, weights, tf.zerosLike(weights)) as tf.Tensor2D;
    const position = tf.tensor2d(positionData, [tokens, k], 'int32');
    return { expertIndex, position, combineWeights, capacity: c };
  });
}

/** Checks `[S]` per-token choice counts: integers in [1, K]. */
function readKPerToken(
  op: string,
  kPerToken: ArrayLike<number>,
  tokens: number,
  k: number,
): ArrayLike<number> {
  if (kPerToken.length !== tokens) {
    throw new Error(`${op}: kPerToken must have one entry per token (${tokens}), got ${kPerToken.length}.`);
  }
  for (let s = 0; s < tokens; s++) {
    const v = kPerToken[s];
    if (!Number.isInteger(v) || v < 1 || v > k) {
      throw new Error(`${op}: kPerToken[${s}] must be an integer in [1, ${k}] (k), got ${v}.`);
    }
  }
  return kPerToken;
}

/** The top-K expert indices with every padding choice (j ≥ k_s) replaced by the sentinel `experts`. */
function padChoices(
  index: Int32Array,
  own: ArrayLike<number>,
  tokens: number,
  k: number,
  experts: number,
): Int32Array {
  const claimed = Int32Array.from(index);
  for (let s = 0; s < tokens; s++) for (let j = own[s]; j < k; j++) claimed[s * k + j] = experts;
  return claimed;
}

/** `[S, K]` bool: choice j is one of token s's own k_s choices. */
function ownChoices(own: ArrayLike<number>, tokens: number, k: number): tf.Tensor2D {
  const data = new Uint8Array(tokens * k);
  for (let s = 0; s < tokens; s++) data.fill(1, s * k, s * k + own[s]);
  return tf.tensor2d(data, [tokens, k], 'bool');
}
