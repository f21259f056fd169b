import * as tf from '@tensorflow/tfjs';
import {
  type LayerArgs,
  MLP,
  MultiHeadSelfAttention,
  type Rng,
  TransformerBlock,
  type AttentionLayer,
  type TransformerBlockContext,
  type TransformerBlockOutput,
  assertPositiveInteger,
  deriveSeed,
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
  /** Number of tasks (checked by the task-conditioned router). */
  numTasks?: number;
  training: boolean;
  rng?: Pick<Rng, 'normalTensor'>;
}

/**
 * Core's pre-LN `TransformerBlock` configured for Mod-Squad: x + attn(ln1(x)), then x + mlp(ln2(x)), where
 * the attention slot may hold a task-conditioned mixture of attention heads (`MoEAttention`, MoA) and the
 * MLP slot an `MoELayer` with the `task-conditioned` router; both need the per-example task in the context.
 * Children `ln1`, `attn`, `ln2`, `mlp`; `forward` returns each slot's losses and metrics in `slots`.
 */
export class TaskMoEBlock extends TransformerBlock {
  static override className = 'MoevlTaskMoEBlock';
  readonly numTasks: number;

  constructor(args: TaskMoEBlockArgs) {
    for (const key of ['dim', 'numHeads', 'numTasks'] as const)
      assertPositiveInteger(`TaskMoEBlock ${args.name ?? 'task_moe_block'}: ${key}`, args[key]);
    const blockSeed = args.seed ?? Math.floor(Math.random() * 0x7fffffff);
    const seed = (name: string) => deriveSeed(blockSeed, name);
    const { dim, numHeads, numTasks } = args;
    super({
      name: args.name,
      trainable: args.trainable,
      seed: blockSeed,
      dim,
      numHeads,
      mlpRatio: args.mlpRatio,
      epsilon: args.epsilon,
      attention:
        args.attention != null
          ? // MoEAttention's context needs the task, which the block passes on from its own.
            (new MoEAttention({
              dim,
              numTasks,
              ...args.attention,
              seed: seed('attn'),
            }) as unknown as AttentionLayer)
          : new MultiHeadSelfAttention({ dim, numHeads, seed: seed('attn') }),
      mlp:
        args.mlp != null
          ? new MoELayer({
              dim,
              hiddenDim: args.mlp.hiddenDim,
              numExperts: args.mlp.numExperts,
              router: { name: 'task-conditioned', options: { ...args.mlp.router, numTasks } },
              seed: seed('mlp'),
            })
          : new MLP({ dim, hiddenDim: Math.round(args.mlpRatio * dim), seed: seed('mlp') }),
    });
    this.numTasks = numTasks;
  }

  /** x [B, P, D] → y [B, P, D]; each MoE slot's weighted aux losses and routing metrics in `slots`. */
  override forward(
    x: tf.Tensor,
    ctx: TaskMoEBlockContext | TransformerBlockContext = { training: false },
  ): TransformerBlockOutput {
    return super.forward(x, { numTasks: this.numTasks, ...ctx });
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
      name: this.name,
      seed: this.seed,
      trainable: this.trainable,
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
