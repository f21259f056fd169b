import type * as tf from '@tensorflow/tfjs';
import type { MetricValue, Rng } from '@moevl/core';

/**
 * The router plugin contract, version 1. A `RouterStrategy` is what a plugin exports: it validates
 * options and creates `Router`s. A `Router` owns its gating weights and maps tokens to experts.
 *
 * Two forms of result exist because not every router assigns tokens one-to-one:
 *  - `sparse` (token choice, expert choice, hash, task-conditioned, dense): per token and choice an
 *    expert index, a buffer position (−1 = dropped) and a differentiable combine weight;
 *  - `soft` (Soft MoE): every slot is a weighted mix of all tokens and every token a weighted mix of all
 *    slots, so the result carries dense dispatch and combine matrices.
 * `MoELayer` runs the experts on either.
 */

/** What a router is told about the tokens `[S, D]` it routes (S = tokens in the group). */
export interface RouterContext {
  /** Training mode: noise on, training capacity factor. */
  training: boolean;
  /** [S] 1 for real tokens, 0 for padding (not routed, no capacity, not in losses). */
  mask?: tf.Tensor1D;
  /** [S] int32 modality id per token (LIMoE: 0 image, 1 text), with `numModalities`. */
  modality?: tf.Tensor1D;
  numModalities?: number;
  /** [S] int32 task id per token, with `numTasks` (task-conditioned routing, Mod-Squad, AdaMV). */
  task?: tf.Tensor1D;
  numTasks?: number;
  /** [S] int32 vocabulary ids (hash routing). */
  tokenIds?: tf.Tensor1D;
  /** Randomness for routing noise; pass the trainer's RNG so a resumed run repeats it. */
  rng?: Pick<Rng, 'normalTensor'>;
  /**
   * Route without capacity drops (set by `MoELayer` at evaluation unless capacity-limited evaluation was
   * asked for): a router that limits capacity sizes its buffers to the largest expert load, so every
   * choice is kept and a token's routing depends on that token alone.
   */
  dropless?: boolean;
  /** Capacity-limited evaluation: this capacity factor replaces the router's own evaluation factor. */
  capacityFactor?: number;
}

interface RoutingCommon {
  numExperts: number;
  /** Buffer size per expert (slots per expert for Soft MoE). */
  capacity: number;
  /** Router probabilities `[S, E]` (softmax of the clean logits), for losses and analysis. */
  gates: tf.Tensor2D;
  /** Auxiliary losses by name, already multiplied by their option weights; the trainer adds them up. */
  auxLosses: Record<string, tf.Scalar>;
  /** Routing metrics as plain data (load, success rate, usage matrices, ...). */
  metrics: Record<string, MetricValue>;
}

export interface SparseRoutingResult extends RoutingCommon {
  kind: 'sparse';
  /** `[S, K]` int32 expert of each choice. */
  expertIndex: tf.Tensor2D;
  /** `[S, K]` int32 slot in that expert's buffer, −1 when the choice was dropped. */
  position: tf.Tensor2D;
  /** `[S, K]` weight of each choice in the output, 0 exactly when dropped; differentiable. */
  combineWeights: tf.Tensor2D;
}

export interface SoftRoutingResult extends RoutingCommon {
  kind: 'soft';
  /** `[S, E·C]`: slot j's input is Σ_s dispatchWeights[s, j]·x_s (columns sum to 1). */
  dispatchWeights: tf.Tensor2D;
  /** `[S, E·C]`: token s's output is Σ_j combineWeights[s, j]·y_j (rows sum to 1). */
  combineWeights: tf.Tensor2D;
}

export type RoutingResult = SparseRoutingResult | SoftRoutingResult;

/** A router instance: gating weights plus the routing function. */
export interface Router {
  /** The strategy name it was created from. */
  readonly strategy: string;
  readonly numExperts: number;
  /**
   * True when, with `ctx.dropless`, each token's routing depends on that token alone (token-choice
   * routers: top-k, hash, task-conditioned, dense). `MoELayer` then routes a whole batch as one group at
   * evaluation. Routers without it (expert choice, Soft MoE: tokens compete or mix within a group) are
   * routed one example at a time at evaluation, so a prediction never depends on the rest of the batch.
   */
  readonly batchIndependent?: boolean;
  /** Routes `x [S, D]`. Tensors in the result belong to the caller. */
  route(x: tf.Tensor2D, ctx: RouterContext): RoutingResult;
  /** Trainable weights by path (`gate/kernel`); empty for routers without weights (hash). */
  namedWeights(): Record<string, tf.Variable>;
  /** The options it was created with, JSON-serialisable, so `create(getOptions())` rebuilds it. */
  getOptions(): RouterOptions;
  dispose(): void;
}

/** Options every router receives; strategies add their own. */
export interface RouterOptions {
  /** Token width D. */
  inputDim: number;
  numExperts: number;
  /** Initialisation and noise seed. */
  seed?: number;
  [option: string]: unknown;
}

/** What a router plugin exports. */
export interface RouterStrategy<O extends RouterOptions = RouterOptions> {
  specificationVersion: 'v1';
  /** Registry key, e.g. `top-k`; lowercase words joined by dashes. */
  name: string;
  version?: string;
  description?: string;
  /**
   * Checks raw options and returns them complete (defaults filled in). Throws an Error whose message
   * names the router and the option, e.g. `router "top-k": option k must be an integer in [1, 8], got 9`.
   */
  validateOptions(options: Record<string, unknown>): O;
  /** Creates a router from validated options. */
  create(options: O): Router;
}

/** A router and the strategy it came from, as stored in a model config. */
export interface RouterSpec {
  name: string;
  options: Record<string, unknown>;
}
