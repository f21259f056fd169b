import * as tf from '@tensorflow/tfjs';
import { assertIndex } from '@moevl/core';
import { MoELayer } from '@moevl/router';
import { MoEAttention } from '../layers/moe_attention.js';
import type { TaskMoEViTConfig } from './config.js';
import { ExpertUsageEMA, type LayerUsage } from './expert_usage_ema.js';
import { TaskMoEViT } from './task_moe_vit.js';

/** Mod-Squad's extraction threshold (percent of a task's usage, divided by k). */
const DEFAULT_THRESHOLD = 3;

export interface ExtractSingleTaskOptions {
  /** Expert usage per MoE layer and task: an `ExpertUsageEMA` fed during training, or its `usage()`. */
  usage: ExpertUsageEMA | LayerUsage[];
  /** Keep expert e if 100·u_t[e]/Σu_t > threshold/k. Default 3 (Mod-Squad). */
  threshold?: number;
}

/** Total number of weights of a model, for reporting how much smaller an extracted model is. */
export function parameterCount(model: TaskMoEViT): number {
  return model.countParams();
}

/**
 * The experts Mod-Squad keeps for one task in one layer: every e with 100·u[e]/Σu > threshold/k, and at least
 * the k most used (ties to the lower index); returned as increasing indices into `usage`.
 */
export function selectKeptExperts(usage: number[], k: number, threshold = DEFAULT_THRESHOLD): number[] {
  const total = usage.reduce((a, b) => a + b, 0);
  if (!(total > 0)) {
    throw new Error(
      'selectKeptExperts: the task has no recorded expert usage; run the model on its data first.',
    );
  }
  const keep = new Set<number>();
  usage.forEach((u, e) => {
    if ((100 * u) / total > threshold / k) keep.add(e);
  });
  const byUse = usage.map((u, e) => [u, e]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let j = 0; j < Math.min(k, usage.length); j++) keep.add(byUse[j][1]);
  return [...keep].sort((a, b) => a - b);
}

/** Rows `ids` of axis `axis` (weights, no gradient needed). */
function take(t: tf.Tensor, ids: number[], axis: number): tf.Tensor {
  return tf.tidy(() => tf.gather(t, tf.tensor1d(ids, 'int32'), axis));
}

/**
 * Mod-Squad's single-task extraction: a new, smaller `TaskMoEViT` for task `task` alone, with only the
 * experts that task uses in each MoE layer (see `selectKeptExperts`), that task's gates (kept whole, so
 * the probabilities do not change), task-embedding row and head. Where the full model's chosen experts
 * for a token were all kept (and nothing was dropped for capacity), its outputs are the full model's.
 * Extracting from an already extracted model composes the expert maps.
 */
export function extractSingleTask(
  model: TaskMoEViT,
  task: number,
  options: ExtractSingleTaskOptions,
): TaskMoEViT {
  const c = model.config;
  assertIndex('extractSingleTask: task', task, model.numTasks);
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  if (!(threshold >= 0)) throw new Error(`extractSingleTask: threshold must be ≥ 0, got ${threshold}.`);
  const layers = options.usage instanceof ExpertUsageEMA ? options.usage.usage() : options.usage;
  const usageOf = new Map(layers.map((l) => [l.name, l.usage]));

  // Per MoE layer: slots of the current model to keep, and their original expert ids.
  const slots = new Map<string, number[]>();
  const kept: Record<string, number[]> = {};
  model.blocks.forEach((block, i) => {
    const moe: [string, number, number][] = [];
    if (block.attn instanceof MoEAttention)
      moe.push([`block${i}/attention`, block.attn.numExperts, block.attn.k]);
    if (block.mlp instanceof MoELayer)
      moe.push([`block${i}/mlp`, block.mlp.numExperts, model.getTaskK(task)]);
    for (const [name, E, k] of moe) {
      const u = usageOf.get(name)?.[task];
      if (u == null || u.length !== E) {
        throw new Error(
          `extractSingleTask: no usage of task ${task} for layer ${name} with ${E} experts; update the ExpertUsageEMA with this model's forward metrics first.`,
        );
      }
      let chosen: number[];
      try {
        chosen = selectKeptExperts(u, k, threshold);
      } catch {
        throw new Error(
          `extractSingleTask: task ${task} has no recorded usage in layer ${name}; run the model on that task's data (updating the EMA) before extracting.`,
        );
      }
      slots.set(name, chosen);
      const original = c.keptExperts?.[name];
      kept[name] = chosen.map((s) => (original == null ? s : original[s]));
    }
  });

  const config: TaskMoEViTConfig = {
    ...c,
    tasks: [c.tasks[task]],
    moeMlp: { ...c.moeMlp, k: [(c.moeMlp.k as number[])[task]] },
    keptExperts: kept,
  };
  const small = new TaskMoEViT(config);
  const source = model.namedWeights();
  const gateOf = (prefix: string) =>
    source[`${prefix}/gate/shared/kernel`] ?? source[`${prefix}/gate/task${task}/kernel`];
  const owned: tf.Tensor[] = [];
  const weights: Record<string, tf.Tensor> = {};
  for (const [path, v] of Object.entries(small.namedWeights())) {
    let w: tf.Tensor | undefined;
    const block = /^blocks\/(\d+)\/(attn|mlp)\/(.*)$/.exec(path);
    if (path === 'task_embedding') {
      w = take(source.task_embedding, [task], 0);
      owned.push(w);
    } else if (path.startsWith('heads/task0/')) {
      w = source[`heads/task${task}/${path.slice('heads/task0/'.length)}`];
    } else if (block != null) {
      const [, i, part, rest] = block;
      const ids = slots.get(`block${i}/${part === 'attn' ? 'attention' : 'mlp'}`);
      const prefix = `blocks/${i}/${part}`;
      if (ids == null) {
        w = source[path];
      } else if (rest === 'gate/task0/kernel' || rest === 'router/gate/task0/kernel') {
        w = gateOf(rest.startsWith('router/') ? `${prefix}/router` : prefix);
      } else if (/^experts\/(w1|b1|w2|b2)$/.test(rest) || rest === 'out/kernel') {
        w = take(source[path], ids, 0);
        owned.push(w);
      } else if (rest === 'query/kernel') {
        const q = source[path];
        const [D, EH] = q.shape;
        const H = EH / (model.blocks[Number(i)].attn as MoEAttention).numExperts;
        w = tf.tidy(() => tf.reshape(take(tf.reshape(q, [D, EH / H, H]), ids, 1), [D, ids.length * H]));
        owned.push(w);
      } else {
        w = source[path];
      }
    } else {
      w = source[path];
    }
    if (w == null) throw new Error(`extractSingleTask: internal error, no source weight for ${path}.`);
    if (w.shape.join() !== v.shape.join()) {
      throw new Error(`extractSingleTask: internal error, ${path} is [${w.shape}], expected [${v.shape}].`);
    }
    weights[path] = w;
  }
  try {
    small.loadWeights(weights, { source: 'extractSingleTask' });
  } finally {
    tf.dispose(owned);
  }
  return small;
}
