import * as tf from '@tensorflow/tfjs';
import {
  Layer,
  type LayerArgs,
  LayerNorm,
  MLP,
  type MetricValue,
  MultiHeadSelfAttention,
  type Rng,
} from '@moevl/core';
import { MoELayer, type TaskConditionedRouterOptions } from '@moevl/router';
import { MoEAttention } from '../layers/moe_attention.js';

/** The MoE attention of a block (Mod-Squad's MoA): `MoEAttention`'s arguments minus the ones the block sets. */
export interface TaskMoEBlockAttention {
  numExperts: number;
  k: number;
  headDim: number;
  miWeight: number;
  sharedGate: boolean;
  gateExperts?: number;
  keptExperts?: number[] | null;
}

/** The MoE MLP of a block: `MoELayer` with the `task-conditioned` router and these router options. */
export interface TaskMoEBlockMlp {
  numExperts: number;
  hiddenDim: number;
  /** `task-conditioned` router options (without inputDim, numExperts, seed, which the layer sets). */
  router: Partial<TaskConditionedRouterOptions>;
}

export interface TaskMoEBlockArgs extends LayerArgs {
  dim: number;
  numHeads: number;
  /** Hidden width of the dense MLP = mlpRatio·dim (when the MLP is dense). */
  mlpRatio: number;
  numTasks: number;
  /** MoE attention; null or absent: core's dense `MultiHeadSelfAttention`. */
  attention?: TaskMoEBlockAttention | null;
  /** MoE MLP; null or absent: core's dense `MLP`. */
  mlp?: TaskMoEBlockMlp | null;
  /** LayerNorm epsilon. Default 1e-6. */
  epsilon?: number;
}

export interface TaskMoEBlockContext {
  /** int32 [B], the task of every example. */
  task: tf.Tensor1D;
  training: boolean;
  rng?: Pick<Rng, 'normalTensor'>;
}

/** One block's routing metrics, plain data. */
export interface TaskMoEBlockMetrics {
  /** MoEAttention's `{ expertTaskUsage }` when attention is MoE. */
  attention?: { expertTaskUsage: number[][] };
  /** The task-conditioned router's metrics when the MLP is MoE (`expertTaskUsage`, `routingSuccessRate`, …). */
  mlp?: Record<string, MetricValue>;
}

export interface TaskMoEBlockOutput {
  y: tf.Tensor3D;
  /** Weighted aux losses keyed `attention/<name>` and `mlp/<name>`. */
  auxLosses: Record<string, tf.Scalar>;
  metrics: TaskMoEBlockMetrics;
}

/**
 * A pre-LN transformer block whose attention and MLP can each be sparse and task-conditioned (Mod-Squad):
 * x + attn(ln1(x)), then x + mlp(ln2(x)). Core's `TransformerBlock` only has a pluggable MLP slot; Mod-Squad
 * also swaps the attention for a mixture of attention heads, and both MoE kinds need the per-example task.
 * Children `ln1`, `attn`, `ln2`, `mlp` (the same paths as `TransformerBlock`).
 */
export class TaskMoEBlock extends Layer {
  static className = 'MoevlTaskMoEBlock';
  readonly dim: number;
  readonly numHeads: number;
  readonly mlpRatio: number;
  readonly numTasks: number;
  readonly epsilon: number;
  readonly ln1: LayerNorm;
  readonly attn: MoEAttention | MultiHeadSelfAttention;
  readonly ln2: LayerNorm;
  readonly mlp: MoELayer | MLP;

  constructor(args: TaskMoEBlockArgs) {
    super(args);
    for (const key of ['dim', 'numHeads', 'numTasks'] as const) {
      if (!Number.isInteger(args[key]) || args[key] < 1) {
        throw new Error(`TaskMoEBlock ${this.name}: ${key} must be a positive integer, got ${args[key]}.`);
      }
    }
    this.dim = args.dim;
    this.numHeads = args.numHeads;
    this.mlpRatio = args.mlpRatio;
    this.numTasks = args.numTasks;
    this.epsilon = args.epsilon ?? 1e-6;
    const seed = (name: string) => this.childSeed(name);
    this.ln1 = this.addChild(
      'ln1',
      new LayerNorm({ dim: this.dim, epsilon: this.epsilon, seed: seed('ln1') }),
    );
    this.attn = this.addChild(
      'attn',
      args.attention != null
        ? new MoEAttention({ dim: this.dim, numTasks: this.numTasks, ...args.attention, seed: seed('attn') })
        : new MultiHeadSelfAttention({ dim: this.dim, numHeads: this.numHeads, seed: seed('attn') }),
    );
    this.ln2 = this.addChild(
      'ln2',
      new LayerNorm({ dim: this.dim, epsilon: this.epsilon, seed: seed('ln2') }),
    );
    this.mlp = this.addChild(
      'mlp',
      args.mlp != null
        ? new MoELayer({
            dim: this.dim,
            hiddenDim: args.mlp.hiddenDim,
            numExperts: args.mlp.numExperts,
            router: { name: 'task-conditioned', options: { ...args.mlp.router, numTasks: this.numTasks } },
            seed: seed('mlp'),
          })
        : new MLP({ dim: this.dim, hiddenDim: Math.round(this.mlpRatio * this.dim), seed: seed('mlp') }),
    );
  }

  /** x [B, P, D] → y [B, P, D], the weighted aux losses and the routing metrics of its MoE layers. */
  forward(x: tf.Tensor3D, ctx: TaskMoEBlockContext): TaskMoEBlockOutput {
    const metrics: TaskMoEBlockMetrics = {};
    const out = tf.tidy(() => {
      const auxLosses: Record<string, tf.Scalar> = {};
      let attended: tf.Tensor;
      if (this.attn instanceof MoEAttention) {
        const r = this.attn.forward(this.ln1.apply(x), { training: ctx.training, task: ctx.task });
        attended = r.y;
        for (const [k, v] of Object.entries(r.auxLosses)) auxLosses[`attention/${k}`] = v as tf.Scalar;
        metrics.attention = r.metrics;
      } else {
        attended = this.attn.apply(this.ln1.apply(x));
      }
      const h = tf.add(x, attended);
      const ff = this.mlp.forward(this.ln2.apply(h), {
        training: ctx.training,
        task: ctx.task,
        numTasks: this.numTasks,
        rng: ctx.rng,
      });
      for (const [k, v] of Object.entries(ff.auxLosses ?? {})) auxLosses[`mlp/${k}`] = v;
      if (this.mlp instanceof MoELayer) metrics.mlp = ff.metrics ?? {};
      return { y: tf.add(h, ff.y) as tf.Tensor3D, auxLosses };
    });
    return { y: out.y, auxLosses: out.auxLosses, metrics };
  }

  override getConfig(): tf.serialization.ConfigDict {
    let attention: TaskMoEBlockAttention | null = null;
    if (this.attn instanceof MoEAttention) {
      const a = this.attn;
      attention = {
        numExperts: a.numExperts,
        k: a.k,
        headDim: a.headDim,
        miWeight: a.miWeight,
        sharedGate: a.sharedGate,
        gateExperts: a.gateExperts,
        keptExperts: a.keptExperts == null ? null : [...a.keptExperts],
      };
    }
    let mlp: TaskMoEBlockMlp | null = null;
    if (this.mlp instanceof MoELayer) {
      const {
        inputDim: _i,
        numExperts: _e,
        seed: _s,
        numTasks: _t,
        ...router
      } = this.mlp.router.getOptions();
      mlp = { numExperts: this.mlp.numExperts, hiddenDim: this.mlp.hiddenDim, router };
    }
    return {
      ...super.getConfig(),
      dim: this.dim,
      numHeads: this.numHeads,
      mlpRatio: this.mlpRatio,
      numTasks: this.numTasks,
      epsilon: this.epsilon,
      attention: attention as unknown as tf.serialization.ConfigDictValue,
      mlp: mlp as unknown as tf.serialization.ConfigDictValue,
    };
  }
}
tf.serialization.registerClass(TaskMoEBlock);
