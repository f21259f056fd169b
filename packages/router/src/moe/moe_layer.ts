import * as tf from '@tensorflow/tfjs';
import {
  activation,
  type ActivationName,
  assertPositiveInteger,
  biasGelu,
  checkActivation,
  checkEvalRouting,
  combineTokens,
  dispatchTokens,
  type FeedForwardLayer,
  type FeedForwardOutput,
  Layer,
  type LayerArgs,
  type TokenContext,
} from '@moevl/core';
import { mergeMetrics } from '../metrics/merge_metrics.js';
import { RouterContractError, checkRoutingResult, routerChecks } from './check_routing.js';
import { type RouterRegistry, defaultRouterRegistry } from '../registry/registry.js';
import type { Router, RouterContext, RouterSpec, RoutingResult } from '../routers/contract.js';

export interface MoELayerArgs extends LayerArgs {
  /** Token width D (input and output). */
  dim: number;
  /** Hidden width of each expert MLP (ViT: 4·D). */
  hiddenDim: number;
  numExperts: number;
  /** Router strategy and its options. Default `{ name: 'top-k', options: {} }` (V-MoE/LIMoE defaults). */
  router?: RouterSpec;
  /** Expert activation. Default `gelu`. */
  activation?: ActivationName;
  /** Where the router name is looked up. Default: `defaultRouterRegistry`. Not serialised. */
  registry?: RouterRegistry;
}

/** Hosts a router's weights in the layer tree, so checkpoints and optimisers see them under `router/`. */
class RouterWeights extends Layer {
  constructor(readonly router: Router) {
    super({ name: 'router' });
  }
  override namedWeights(): Record<string, tf.Variable> {
    return this.router.namedWeights();
  }
  override dispose(): void {
    this.router.dispose();
  }
}

/** What `MoELayer` tells a `RoutingObserver` each time it has routed a group of tokens. */
export interface RoutingEvent {
  layer: MoELayer;
  /** The group: examples `[start, start + examples)` of the batch, `tokensPerExample` tokens each. */
  start: number;
  examples: number;
  tokensPerExample: number;
  /** Tokens are rows `example · tokensPerExample + token` of the group, in the result's tensors. */
  routing: RoutingResult;
}

/**
 * `ctx.onRouting` of `MoELayer.forward` (any TokenContext field reaches the MLP slot): called synchronously
 * once per routed group, for analysis such as which expert each image patch or text token went to. The
 * result's tensors are freed when `forward` returns, so read what is needed (`dataSync`) in the call.
 */
export type RoutingObserver = (event: RoutingEvent) => void;

/** Token ids per token `[S]` from a per-batch (`number` or `[B]`) or per-token (`[B, T]`) task id. */
function perToken(value: number | tf.Tensor | undefined, b: number, t: number): tf.Tensor1D | undefined {
  if (value == null) return undefined;
  if (typeof value === 'number') return tf.fill([b * t], value, 'int32') as tf.Tensor1D;
  const ids = tf.cast(value, 'int32');
  if (value.rank === 1 && value.shape[0] === b)
    return tf.reshape(tf.tile(tf.reshape(ids, [b, 1]), [1, t]), [-1]);
  if (value.rank === 2 && value.shape[0] === b && value.shape[1] === t) return tf.reshape(ids, [-1]);
  throw new Error(
    `MoELayer: expected a per-batch [${b}] or per-token [${b}, ${t}] id tensor, got [${value.shape}].`,
  );
}

/**
 * A sparse mixture-of-experts MLP for the MLP slot of core's `TransformerBlock`: a router from the
 * registry plus E expert MLPs stored as stacked weights (`experts/w1 [E, D, H]`, …). Tokens are moved into
 * per-expert buffers `[E, C, D]`, all experts run as one batched matmul, and outputs are combined back with
 * the router's weights; dropped tokens get zero here and keep their value through the block's residual.
 * Soft MoE results (dense dispatch/combine) run through the same experts.
 */
export class MoELayer extends Layer implements FeedForwardLayer {
  static className = 'MoevlMoELayer';
  readonly dim: number;
  readonly hiddenDim: number;
  readonly numExperts: number;
  readonly activation: ActivationName;
  readonly router: Router;
  readonly routerName: string;
  /** `router "name" version`, for errors raised while routing. */
  private readonly routerLabel: string;
  private checkedOnce = false;
  private w1!: tf.Variable;
  private b1!: tf.Variable;
  private w2!: tf.Variable;
  private b2!: tf.Variable;

  constructor(args: MoELayerArgs) {
    super(args);
    for (const key of ['dim', 'hiddenDim', 'numExperts'] as const) {
      assertPositiveInteger(`MoELayer ${this.name}: ${key}`, args[key]);
    }
    this.dim = args.dim;
    this.hiddenDim = args.hiddenDim;
    this.numExperts = args.numExperts;
    this.activation = checkActivation(args.activation ?? 'gelu', `MoELayer ${this.name}`);
    const spec = args.router ?? { name: 'top-k', options: {} };
    this.routerName = spec.name;
    const registry = args.registry ?? defaultRouterRegistry;
    const version = registry.get(spec.name).version;
    this.routerLabel = `router "${spec.name}"${version ? ` ${version}` : ''}`;
    this.router = registry.create({
      name: spec.name,
      options: {
        ...spec.options,
        inputDim: this.dim,
        numExperts: this.numExperts,
        seed: this.childSeed('router'),
      },
    });
    this.addChild('router', new RouterWeights(this.router));
  }

  protected override build(): void {
    const [e, d, h] = [this.numExperts, this.dim, this.hiddenDim];
    // Xavier-uniform per expert matrix (fans D and H, not E·D: the expert axis is not a fan).
    const uniform = (name: string, shape: number[], fanIn: number, fanOut: number) => {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      const v = tf.randomUniform(shape, -limit, limit, 'float32', this.childSeed(name));
      const variable = this.adoptWeight(name, v);
      return variable;
    };
    this.w1 = uniform('experts/w1', [e, d, h], d, h);
    this.b1 = this.addWeight('experts/b1', [e, 1, h], 'zeros');
    this.w2 = uniform('experts/w2', [e, h, d], h, d);
    this.b2 = this.addWeight('experts/b2', [e, 1, d], 'zeros');
  }

  private adoptWeight(name: string, value: tf.Tensor): tf.Variable {
    const v = this.addWeight(name, value.shape, 'zeros');
    v.assign(value);
    value.dispose();
    return v;
  }

  /**
   * Runs the E expert MLPs on their buffers: `[E, C, D] → [E, C, D]`. GELU takes the per-expert bias `[E, 1, H]`
   * in its fused kernel (`biasGelu`), as the dense MLP does: no separate add forward or bias sum backward.
   */
  private experts(buffers: tf.Tensor3D): tf.Tensor3D {
    const xw = tf.matMul(buffers, this.w1 as tf.Tensor3D);
    const h =
      this.activation === 'gelu' || this.activation === 'geluTanh'
        ? biasGelu(xw, this.b1, this.activation === 'gelu' ? 'none' : 'tanh')
        : activation(this.activation, tf.add(xw, this.b1));
    return tf.add(tf.matMul(h as tf.Tensor3D, this.w2 as tf.Tensor3D), this.b2) as tf.Tensor3D;
  }

  /** Routes and runs tokens `[S, D]`; returns `[S, D]` and the routing result's losses and metrics. */
  routeAndRun(x: tf.Tensor2D, ctx: RouterContext): { y: tf.Tensor2D; routing: RoutingResult } {
    this.ensureBuilt();
    let routing: RoutingResult;
    try {
      routing = this.router.route(x, ctx);
    } catch (err) {
      // A plugin's failure names the plugin, whatever it threw.
      if (err instanceof RouterContractError) throw err;
      throw new RouterContractError(
        `${this.routerLabel} failed in MoELayer ${this.name}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    const mode = routerChecks();
    if (mode === 'always' || (mode === 'first' && !this.checkedOnce)) {
      this.checkedOnce = true;
      checkRoutingResult(routing, {
        tokens: x.shape[0],
        numExperts: this.numExperts,
        label: `${this.routerLabel} (MoELayer ${this.name})`,
        dropless: ctx.dropless === true && this.router.batchIndependent === true,
        mask: ctx.mask?.dataSync(),
      });
    }
    const [e, c] = [this.numExperts, routing.capacity];
    const y = tf.tidy(() => {
      if (routing.kind === 'sparse') {
        const buffers = dispatchTokens(x, routing.expertIndex, routing.position, e, c);
        return combineTokens(
          this.experts(buffers),
          routing.expertIndex,
          routing.position,
          routing.combineWeights,
        );
      }
      const slotsIn = tf.matMul(routing.dispatchWeights, x, true, false); // [E·C, D]
      const out = this.experts(tf.reshape(slotsIn, [e, c, this.dim]) as tf.Tensor3D);
      return tf.matMul(routing.combineWeights, tf.reshape(out, [e * c, this.dim])) as tf.Tensor2D;
    });
    return { y, routing };
  }

  /**
   * The MLP-slot contract: `[B, T, D]` with the block's token context. In training the B·T tokens are one
   * routing group. At evaluation routing is dropless by default (`ctx.evalRouting`), and a router whose
   * routing of a token depends on the rest of its group (not `batchIndependent`: expert choice, Soft MoE)
   * routes each example as its own group, so no prediction depends on the other examples of the batch.
   */
  forward(x: tf.Tensor, ctx: TokenContext): FeedForwardOutput {
    if (x.rank !== 3 || x.shape[2] !== this.dim) {
      throw new Error(`MoELayer ${this.name}: expected [B, T, ${this.dim}], got [${x.shape}].`);
    }
    const [b, t] = x.shape;
    const evalRouting = ctx.training ? undefined : checkEvalRouting(ctx.evalRouting ?? { mode: 'dropless' });
    const dropless = evalRouting?.mode === 'dropless';
    const perExample = dropless && this.router.batchIndependent !== true && b > 1;
    const groups = perExample ? Array.from({ length: b }, (_, i) => [i, 1] as const) : [[0, b] as const];
    const metricsOf: Array<Record<string, unknown>> = [];
    const observe = typeof ctx.onRouting === 'function' ? (ctx.onRouting as RoutingObserver) : undefined;
    const out = tf.tidy(() => {
      const ys: tf.Tensor[] = [];
      const losses: Array<Record<string, tf.Scalar>> = [];
      for (const [start, n] of groups) {
        const part = <T extends tf.Tensor | undefined>(v: T): T =>
          (v == null || !perExample ? v : tf.slice(v, start * t, n * t)) as T;
        const rctx: RouterContext = {
          training: ctx.training,
          mask: part(ctx.tokenMask != null ? (tf.reshape(ctx.tokenMask, [-1]) as tf.Tensor1D) : undefined),
          modality: part(perToken(ctx.modality, b, t)),
          numModalities: ctx.numModalities as number | undefined,
          task: part(perToken(ctx.task, b, t)),
          numTasks: ctx.numTasks as number | undefined,
          tokenIds: part(perToken(ctx.tokenIds as tf.Tensor | undefined, b, t)),
          rng: ctx.rng,
          ...(evalRouting !== undefined && {
            dropless,
            ...(evalRouting.mode === 'capacity' && { capacityFactor: evalRouting.capacityFactor }),
          }),
        };
        const tokens = tf.reshape(perExample ? tf.slice(x, [start, 0, 0], [n, t, this.dim]) : x, [
          n * t,
          this.dim,
        ]) as tf.Tensor2D;
        const { y, routing } = this.routeAndRun(tokens, rctx);
        observe?.({ layer: this, start, examples: n, tokensPerExample: t, routing });
        metricsOf.push(routing.metrics);
        ys.push(y);
        losses.push(routing.auxLosses);
      }
      const y = ys.length === 1 ? ys[0] : tf.concat(ys, 0);
      // Per-example groups at evaluation: each aux loss is the mean over the examples.
      const auxLosses =
        losses.length === 1
          ? losses[0]
          : Object.fromEntries(
              Object.keys(losses[0]).map((k) => [k, tf.mean(tf.stack(losses.map((l) => l[k]))) as tf.Scalar]),
            );
      return { y: tf.reshape(y, [b, t, this.dim]), auxLosses };
    });
    const metrics = (
      metricsOf.length === 1 ? metricsOf[0] : mergeMetrics(metricsOf as Array<{ numExperts: number }>)
    ) as FeedForwardOutput['metrics'];
    return { y: out.y, auxLosses: out.auxLosses, metrics };
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { inputDim: _i, numExperts: _e, seed: _s, ...options } = this.router.getOptions();
    return {
      ...super.getConfig(),
      dim: this.dim,
      hiddenDim: this.hiddenDim,
      numExperts: this.numExperts,
      activation: this.activation,
      router: { name: this.routerName, options } as tf.serialization.ConfigDictValue,
    };
  }
}
tf.serialization.registerClass(MoELayer);
