import * as tf from '@tensorflow/tfjs';
import { type InitializerSpec, Rng, deriveSeed, initialize } from '@moevl/core';
import type { Router, RouterContext, RouterOptions, RoutingResult, SparseRoutingResult } from './contract.js';
import { type SparseResultInput, sparseResult } from './sparse_result.js';

/**
 * Shared by the routers that score tokens with a linear gate `logits = x·W` (no bias, as in V-MoE):
 * owns the kernel `gate/kernel [D, E]` and the noise source. Subclasses decide the assignment.
 */
export abstract class GatedRouter<O extends RouterOptions> implements Router {
  readonly numExperts: number;
  readonly inputDim: number;
  protected readonly kernel: tf.Variable;
  /** Fallback noise source when the caller passes no RNG (then runs are reproducible but not resumable). */
  protected readonly rng: Rng;

  constructor(
    readonly strategy: string,
    protected readonly options: O,
    init: InitializerSpec = 'lecunNormal',
  ) {
    this.numExperts = options.numExperts;
    this.inputDim = options.inputDim;
    const seed = options.seed ?? 0;
    const value = tf.tidy(() => initialize(init, [this.inputDim, this.numExperts], deriveSeed(seed, 'gate')));
    this.kernel = tf.variable(value, true);
    value.dispose();
    this.rng = new Rng(deriveSeed(seed, 'noise'));
  }

  abstract route(x: tf.Tensor2D, ctx: RouterContext): RoutingResult;

  protected checkInput(x: tf.Tensor2D): void {
    if (x.rank !== 2 || x.shape[1] !== this.inputDim) {
      throw new Error(`router "${this.strategy}": expected tokens [S, ${this.inputDim}], got [${x.shape}].`);
    }
  }

  protected logits(x: tf.Tensor2D): tf.Tensor2D {
    return tf.matMul(x, this.kernel as tf.Tensor2D);
  }

  /** Gaussian noise N(0, std²) of the logits' shape, from the caller's RNG when given. */
  protected noise(shape: [number, number], std: number, ctx: RouterContext): tf.Tensor2D {
    return (ctx.rng ?? this.rng).normalTensor(shape, 0, std) as tf.Tensor2D;
  }

  /** The sparse result of an assignment, with `routingMetrics` over the context (see `sparseResult`). */
  protected sparseResult(input: Omit<SparseResultInput, 'numExperts'>): SparseRoutingResult {
    return sparseResult({ ...input, numExperts: this.numExperts });
  }

  namedWeights(): Record<string, tf.Variable> {
    return { 'gate/kernel': this.kernel };
  }

  getOptions(): O {
    return { ...this.options };
  }

  dispose(): void {
    this.kernel.dispose();
  }
}
