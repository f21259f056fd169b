import * as tf from '@tensorflow/tfjs';
import {
  Layer,
  LayerNorm,
  type Rng,
  assertIndex,
  assertInteger,
  assertModelFits,
  oneHot,
  runBlocks,
} from '@moevl/core';
import { type TaskConditionedRouter, isTaskConditionedRouter, MoELayer } from '@moevl/router';
import { PatchEmbedding } from '@moevl/vision';
import { type TaskHead, createHead } from '../heads/create_head.js';
import { type TaskMoEViTConfig, selectBlocks, validateTaskMoEViTConfig } from './config.js';
import { estimateTaskMoEViTActivationBytes, estimateTaskMoEViTParameters } from './model_size.js';
import { TaskMoEBlock, type TaskMoEBlockAttention, type TaskMoEBlockMlp } from './task_moe_block.js';

/** The task of each example: one id for the batch, or an int32 [N] tensor. */
export type TaskIds = number | tf.Tensor1D;

export interface TaskMoEForwardContext {
  task: TaskIds;
  training: boolean;
  /** Routing noise source (AdaMV's gate); pass the trainer's RNG so a resumed run repeats it. */
  rng?: Pick<Rng, 'normalTensor'>;
}

/** Routing statistics of one MoE layer in one forward pass, plain data. */
export interface MoEBlockMetrics {
  /** `block<i>/<kind>`, the key of the layer in aux losses, usage EMAs and `keptExperts`. */
  name: string;
  block: number;
  kind: 'attention' | 'mlp';
  /** [T][E]: how many real tokens of task t chose (and kept) expert e in this pass. */
  expertTaskUsage: number[][];
  /** Fraction of choices not dropped for capacity (MoE MLP); null for MoE attention (never drops). */
  routingSuccessRate?: number | null;
  routingSuccessRateByTask?: (number | null)[] | null;
}

export interface TaskMoEForwardOutput {
  /** [N, P, D] patch tokens after the final LayerNorm. */
  tokens: tf.Tensor3D;
  /** Weighted auxiliary losses keyed `block<i>/<attention|mlp>/<name>`. */
  auxLosses: Record<string, tf.Scalar>;
  metrics: { blocks: MoEBlockMetrics[] };
}

export interface TaskMoEForwardTasksOutput {
  /** One output per listed task, each for all B images: logits [B, C] or a dense map [B, H, W, C]. */
  outputs: tf.Tensor[];
  auxLosses: Record<string, tf.Scalar>;
  metrics: { blocks: MoEBlockMetrics[] };
}

/**
 * A multi-task vision transformer with task-conditioned mixtures of experts (Mod-Squad, Chen et al. 2023;
 * AdaMV-MoE): patch embedding + learned position embeddings; optionally a learned task embedding [T, D]
 * added to the tokens before every block; `depth` pre-LN `TaskMoEBlock`s (core's `TransformerBlock`, run by
 * core's `runBlocks`) whose attention (MoA) and MLP
 * are sparse on the configured blocks, routed by each example's task; a final LayerNorm; one head per task.
 *
 * Images are NHWC `[N, H, W, C]` (the layout of the data pipeline); they are moved to NCHW for the patch
 * embedding. Weight paths: `patch_embed/*`, `position`, `task_embedding`, `blocks/<i>/{ln1,attn,ln2,mlp}/*`,
 * `norm/*`, `heads/task<t>/*`.
 */
export class TaskMoEViT extends Layer {
  static className = 'MoevlTaskMoEViT';
  private readonly baseConfig: TaskMoEViTConfig;
  readonly numTasks: number;
  readonly grid: number;
  readonly numPatches: number;
  readonly patchEmbed: PatchEmbedding;
  readonly blocks: TaskMoEBlock[];
  readonly norm: LayerNorm;
  readonly heads: TaskHead[];
  private position!: tf.Variable;
  private taskTable: tf.Variable | null = null;

  constructor(config: TaskMoEViTConfig) {
    const c = validateTaskMoEViTConfig(config);
    // Sized before any tensor exists: a config from a file can ask for more than the machine has.
    assertModelFits(
      `TaskMoEViT model (dim ${c.dim}, depth ${c.depth})`,
      estimateTaskMoEViTParameters(c),
      estimateTaskMoEViTActivationBytes(c, 32),
    );
    super({ name: 'task_moe_vit', seed: c.seed });
    this.baseConfig = c;
    this.numTasks = c.tasks.length;
    this.grid = c.imageSize / c.patchSize;
    this.numPatches = this.grid * this.grid;
    this.patchEmbed = this.addChild(
      'patch_embed',
      new PatchEmbedding({
        patchSize: c.patchSize,
        dim: c.dim,
        inChannels: c.inChannels,
        seed: this.childSeed('patch_embed'),
      }),
    );
    const mlpBlocks = selectBlocks(c.moeMlp.blocks, c.depth, 'moeMlp');
    const attnBlocks = selectBlocks(c.moeAttention.blocks, c.depth, 'moeAttention');
    this.blocks = Array.from({ length: c.depth }, (_, i) =>
      this.addChild(
        `blocks/${i}`,
        new TaskMoEBlock({
          dim: c.dim,
          numHeads: c.numHeads,
          mlpRatio: c.mlpRatio,
          numTasks: this.numTasks,
          attention: attnBlocks.includes(i) ? this.attentionArgs(i) : null,
          mlp: mlpBlocks.includes(i) ? this.mlpArgs(i) : null,
          seed: this.childSeed(`blocks/${i}`),
        }),
      ),
    );
    this.norm = this.addChild('norm', new LayerNorm({ dim: c.dim, seed: this.childSeed('norm') }));
    this.heads = c.tasks.map((spec, t) =>
      this.addChild(
        `heads/task${t}`,
        createHead(spec, {
          dim: c.dim,
          patchSize: c.patchSize,
          grid: [this.grid, this.grid],
          seed: this.childSeed(`heads/task${t}`),
        }),
      ),
    );
  }

  private attentionArgs(i: number): TaskMoEBlockAttention {
    const a = this.baseConfig.moeAttention;
    const kept = this.baseConfig.keptExperts?.[`block${i}/attention`];
    return {
      numExperts: kept?.length ?? a.numExperts,
      k: a.k,
      headDim: a.headDim,
      miWeight: a.miWeight,
      sharedGate: a.router === 'shared',
      ...(kept != null ? { gateExperts: a.numExperts, keptExperts: kept } : {}),
    };
  }

  private mlpArgs(i: number): TaskMoEBlockMlp {
    const m = this.baseConfig.moeMlp;
    const kept = this.baseConfig.keptExperts?.[`block${i}/mlp`];
    return {
      numExperts: kept?.length ?? m.numExperts,
      hiddenDim: m.hiddenDim,
      router: {
        gate: m.gate,
        k: m.k as number[],
        kMax: m.kMax,
        capacityFactor: m.capacityFactor,
        evalCapacityFactor: m.evalCapacityFactor,
        noiseStd: m.noiseStd,
        miWeight: m.miWeight,
        importanceWeight: m.importanceWeight,
        loadWeight: m.loadWeight,
        sharedGate: m.router === 'shared',
        ...(kept != null ? { gateExperts: m.numExperts, keptExperts: kept } : {}),
      },
    };
  }

  protected override build(): void {
    const { dim } = this.baseConfig;
    this.position = this.addWeight('position', [1, this.numPatches, dim], { truncatedNormal: 0.02 });
    if (this.baseConfig.taskEmbedding) {
      this.taskTable = this.addWeight('task_embedding', [this.numTasks, dim], { truncatedNormal: 0.02 });
    }
  }

  /** The config, with each task's current k in `moeMlp.k` (so a checkpoint keeps AdaMV's choice). */
  get config(): TaskMoEViTConfig {
    const c = validateTaskMoEViTConfig(this.baseConfig);
    const router = this.mlpRouters()[0];
    if (router != null) c.moeMlp.k = Array.from({ length: this.numTasks }, (_, t) => router.getTaskK(t));
    return c;
  }

  /** The task-conditioned routers of the MoE MLP layers, in block order. */
  mlpRouters(): TaskConditionedRouter[] {
    return this.blocks.flatMap((b) =>
      b.mlp instanceof MoELayer && isTaskConditionedRouter(b.mlp.router) ? [b.mlp.router] : [],
    );
  }

  /** k_t of task t in the MoE MLP layers (all layers share it). */
  getTaskK(task: number): number {
    const router = this.mlpRouters()[0];
    if (router == null)
      throw new Error('TaskMoEViT.getTaskK: the model has no MoE MLP layer (moeMlp.blocks).');
    return router.getTaskK(task);
  }

  /** Sets k_t of task t in every MoE MLP layer (AdaMV's adaptive expert selection); `config` reports it. */
  setTaskK(task: number, k: number): void {
    const routers = this.mlpRouters();
    if (routers.length === 0) {
      throw new Error('TaskMoEViT.setTaskK: the model has no MoE MLP layer (moeMlp.blocks).');
    }
    const limit = Math.min(...routers.map((r) => Math.min(this.baseConfig.moeMlp.kMax, r.numExperts)));
    assertInteger('TaskMoEViT.setTaskK: k', k, { min: 1, max: limit, note: 'min(kMax, experts)' });
    for (const r of routers) r.setTaskK(task, k);
  }

  /** Task ids as an int32 [N] tensor (owned by the caller), validated. */
  private taskTensor(task: TaskIds, n: number): tf.Tensor1D {
    const T = this.numTasks;
    if (typeof task === 'number') {
      assertIndex('TaskMoEViT: ctx.task', task, T, 'the task index');
      return tf.fill([n], task, 'int32') as tf.Tensor1D;
    }
    if (task.dtype !== 'int32' || task.rank !== 1 || task.shape[0] !== n) {
      throw new Error(
        `TaskMoEViT: ctx.task must be a number or an int32 [${n}] tensor (one task per image), got ${task.dtype} [${task.shape}].`,
      );
    }
    const ids = task.dataSync();
    const bad = ids.findIndex((t) => !(t >= 0 && t < T));
    if (bad >= 0) throw new Error(`TaskMoEViT: ctx.task[${bad}] = ${ids[bad]} is outside [0, ${T}).`);
    return tf.clone(task);
  }

  private checkImages(images: tf.Tensor): void {
    const { imageSize: s, inChannels: c } = this.baseConfig;
    if (images.rank !== 4 || images.shape[1] !== s || images.shape[2] !== s || images.shape[3] !== c) {
      throw new Error(
        `TaskMoEViT: expected NHWC images [N, ${s}, ${s}, ${c}] (config imageSize, inChannels), got [${images.shape}]; resize them or change the config.`,
      );
    }
  }

  /** The backbone: images [N, H, W, C] → patch tokens [N, P, D] after the final LayerNorm. */
  forward(images: tf.Tensor4D, ctx: TaskMoEForwardContext): TaskMoEForwardOutput {
    this.ensureBuilt();
    this.checkImages(images);
    const n = images.shape[0];
    const blocks: MoEBlockMetrics[] = [];
    const out = tf.tidy(() => {
      const task = this.taskTensor(ctx.task, n);
      const h = tf.add(
        this.patchEmbed.apply(tf.transpose(images, [0, 3, 1, 2])),
        this.position,
      ) as tf.Tensor3D;
      // Mod-Squad adds the task embedding before every block (not only at the input).
      const taskEmb =
        this.taskTable == null
          ? null
          : this.numTasks === 1
            ? tf.expandDims(this.taskTable, 0) // tf.oneHot needs depth ≥ 2; the one row is every example's.
            : tf.reshape(tf.matMul(oneHot(task, this.numTasks), this.taskTable as tf.Tensor2D), [n, 1, -1]);
      const stack = runBlocks(
        this.blocks,
        h,
        { task, numTasks: this.numTasks, training: ctx.training, rng: ctx.rng },
        { auxKeys: 'slot', beforeBlock: taskEmb == null ? undefined : (x) => tf.add(x, taskEmb) },
      );
      for (const { name, block, slot, metrics: m } of stack.slots) {
        blocks.push(
          slot === 'attention'
            ? {
                name,
                block,
                kind: 'attention',
                expertTaskUsage: m.expertTaskUsage as number[][],
                routingSuccessRate: null,
              }
            : {
                name,
                block,
                kind: 'mlp',
                expertTaskUsage: m.expertTaskUsage as number[][],
                routingSuccessRate: (m.routingSuccessRate as number | null) ?? null,
                routingSuccessRateByTask: (m.routingSuccessRateByTask as (number | null)[] | null) ?? null,
              },
        );
      }
      return { tokens: this.norm.apply(stack.tokens) as tf.Tensor3D, auxLosses: stack.auxLosses };
    });
    return { tokens: out.tokens, auxLosses: out.auxLosses, metrics: { blocks } };
  }

  /** Task t's head on backbone tokens: logits [N, C] or a dense map [N, H, W, C]. */
  head(task: number, tokens: tf.Tensor): tf.Tensor {
    assertIndex('TaskMoEViT.head: task', task, this.numTasks);
    return this.heads[task].apply(tokens);
  }

  /**
   * Every listed task's prediction for the same images, in ONE backbone pass: the images are repeated
   * once per task with per-example task ids, so each MoE layer routes all tasks' tokens together and the
   * MI loss sees the joint task × expert distribution (Mod-Squad's batches mix tasks).
   */
  forwardTasks(
    images: tf.Tensor4D,
    ctx: { tasks?: number[]; training: boolean; rng?: Pick<Rng, 'normalTensor'> },
  ): TaskMoEForwardTasksOutput {
    const tasks = ctx.tasks ?? Array.from({ length: this.numTasks }, (_, t) => t);
    if (
      tasks.length === 0 ||
      tasks.some((t, i) => !Number.isInteger(t) || t < 0 || t >= this.numTasks || tasks.indexOf(t) !== i)
    ) {
      throw new Error(
        `TaskMoEViT.forwardTasks: ctx.tasks must list distinct task indices in [0, ${this.numTasks}), got ${JSON.stringify(tasks)}.`,
      );
    }
    this.checkImages(images);
    const b = images.shape[0];
    let metrics: TaskMoEForwardTasksOutput['metrics'] = { blocks: [] };
    const out = tf.tidy(() => {
      const repeated =
        tasks.length === 1 ? images : (tf.tile(images, [tasks.length, 1, 1, 1]) as tf.Tensor4D);
      const ids = tf.tensor1d(
        tasks.flatMap((t) => new Array<number>(b).fill(t)),
        'int32',
      );
      const r = this.forward(repeated, { task: ids, training: ctx.training, rng: ctx.rng });
      metrics = r.metrics;
      const outputs = tasks.map((t, i) => this.head(t, tf.slice(r.tokens, [i * b, 0, 0], [b, -1, -1])));
      return { outputs, auxLosses: r.auxLosses };
    });
    return { outputs: out.outputs, auxLosses: out.auxLosses, metrics };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return this.config as unknown as tf.serialization.ConfigDict;
  }
}
tf.serialization.registerClass(TaskMoEViT);
