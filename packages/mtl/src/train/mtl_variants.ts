import type { TaskSpec } from '../heads/index.js';
import { type TaskMoEViTConfig, type TaskMoEViTConfigInput, taskMoEViTConfig } from '../model/index.js';
import type { AesTrainingOptions } from './train_multi_task.js';

/**
 * The models of the small-scale Mod-Squad / AdaMV-MoE reproduction (experiments/mtl), by name. All share
 * one backbone (28×28 grayscale, patch 7 → 16 tokens by default, width 64, 4 blocks, 4 heads) and equal compute per
 * token in the MLPs: a dense MLP of width 128 = k 2 × expert width 64. What differs is what the papers vary:
 * - `single`: one dense model per task (the baseline every multi-task model is compared with);
 * - `dense`: hard parameter sharing, one dense backbone and one head per task;
 * - `modsquad` / `modsquad-no-mi`: Mod-Squad (§3): per-task zero-init routers, a task embedding before every
 *   block, MoE attention (4 experts, k 2, head 16) on even and MoE MLP (8 experts, k 2) on odd blocks, with /
 *   without the mutual-information loss (0.005), no token dropping;
 * - `adamv` / `adamv-no-aes`: AdaMV-MoE (§4): per-task noisy V-MoE routers on the MoE MLP of odd blocks
 *   (dense attention), importance + load (5e-3 each), with / without Adaptive Expert Selection (k₀ = 2);
 * - `moe-shared`: `adamv-no-aes` with ONE router for all tasks (AdaMV's "task-dependent routers beat one
 *   shared router" ablation; no task embedding in either, so routing cannot see the task).
 * Every multi-task model uses uncertainty task weighting, so the comparison isolates the routing.
 */
export const MTL_VARIANTS = [
  'single',
  'dense',
  'moe-shared',
  'modsquad',
  'modsquad-no-mi',
  'adamv',
  'adamv-no-aes',
] as const;
export type MtlVariant = (typeof MTL_VARIANTS)[number];

export interface MtlVariantSetup {
  config: TaskMoEViTConfig;
  uncertainty: boolean;
  /** AES settings (only `adamv`), scaled down from upstream's Δn 2000 / patience 5000. */
  aes?: AesTrainingOptions;
  /** Keep the expert-usage EMA (Mod-Squad, for single-task extraction). */
  usageEma: boolean;
}

export interface MtlVariantOptions {
  tasks: TaskSpec[];
  seed: number;
  /** AES check interval in steps; default 50. */
  aesEvery?: number;
  /** AES patience in steps; default 100. */
  aesPatience?: number;
  /** Patch size; default 7 (16 tokens: a 28×28 step is ~3× cheaper than with patch 4's 49 tokens). */
  patchSize?: number;
  /** Model width; default 64. */
  dim?: number;
}

export function isMtlVariant(name: string): name is MtlVariant {
  return (MTL_VARIANTS as readonly string[]).includes(name);
}

export function mtlVariantSetup(variant: MtlVariant, options: MtlVariantOptions): MtlVariantSetup {
  if (!isMtlVariant(variant)) {
    throw new Error(`Unknown variant "${String(variant)}"; use one of ${MTL_VARIANTS.join(', ')}.`);
  }
  const { tasks, seed } = options;
  if (variant === 'single' && tasks.length !== 1) {
    throw new Error(`The 'single' variant trains one task, got ${tasks.length}; pass exactly one task.`);
  }
  const base: TaskMoEViTConfigInput = {
    imageSize: 28,
    patchSize: options.patchSize ?? 7,
    inChannels: 1,
    dim: options.dim ?? 64,
    depth: 4,
    numHeads: 4,
    mlpRatio: 2,
    tasks,
    seed,
  };
  const dense = (): TaskMoEViTConfig =>
    taskMoEViTConfig({
      ...base,
      taskEmbedding: false,
      moeMlp: { blocks: 'none' },
      moeAttention: { blocks: 'none' },
    });
  const modSquad = (miWeight: number) =>
    taskMoEViTConfig(
      {
        ...base,
        moeMlp: { blocks: 'odd', numExperts: 8, hiddenDim: 64, k: 2, miWeight },
        moeAttention: { blocks: 'even', numExperts: 4, k: 2, headDim: 16, miWeight },
      },
      'mod-squad',
    );
  const adamv = (router: 'per-task' | 'shared') =>
    taskMoEViTConfig(
      { ...base, moeMlp: { blocks: 'odd', numExperts: 8, hiddenDim: 64, k: 2, kMax: 8, router } },
      'adamv',
    );
  switch (variant) {
    case 'single':
      return { config: dense(), uncertainty: false, usageEma: false };
    case 'dense':
      return { config: dense(), uncertainty: true, usageEma: false };
    case 'moe-shared':
      return { config: adamv('shared'), uncertainty: true, usageEma: false };
    case 'modsquad':
      return { config: modSquad(0.005), uncertainty: true, usageEma: true };
    case 'modsquad-no-mi':
      return { config: modSquad(0), uncertainty: true, usageEma: true };
    case 'adamv':
      return {
        config: adamv('per-task'),
        uncertainty: true,
        usageEma: false,
        aes: { every: options.aesEvery ?? 50, patience: options.aesPatience ?? 100, initialK: 2, maxK: 8 },
      };
    case 'adamv-no-aes':
      return { config: adamv('per-task'), uncertainty: true, usageEma: false };
  }
}
