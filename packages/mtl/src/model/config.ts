import { assertNonNegativeInteger, assertPositiveInteger, type MoEPlacement, placeBlocks } from '@moevl/core';
import type { TaskSpec } from '../heads/task_spec.js';
import { validateTaskSpecs } from '../heads/task_spec.js';

/**
 * Which blocks (0-based) get a sparse layer: Mod-Squad puts MoE attention on even blocks and MoE MLPs on
 * odd blocks; `'all'`, `'none'` or an explicit list are there for ablations. Core's `MoEPlacement`, so
 * V-MoE's `{ every, last }` works too.
 */
export type BlockSelection = MoEPlacement;

/** Whether each task scores experts with its own gate, or one gate serves all tasks (the ablation). */
export type TaskRouterKind = 'per-task' | 'shared';

/** The MoE MLP layers: shared experts, task-conditioned top-k routing (`task-conditioned` router). */
export interface MoEMlpSpec {
  blocks: BlockSelection;
  numExperts: number;
  /** Hidden width of each expert (Mod-Squad: the dense MLP's width / 4). */
  hiddenDim: number;
  /** Experts per token, one for all tasks or one per task (AdaMV's k_t; `setTaskK` changes it). */
  k: number | number[];
  /** Upper bound of every k_t (AdaMV's k_max). */
  kMax: number;
  /** `'mod-squad'`: zero-init gate, softmax + 1e-4, no noise; `'vmoe'`: AdaMV's noisy V-MoE gate. */
  gate: 'mod-squad' | 'vmoe';
  router: TaskRouterKind;
  capacityFactor: number;
  evalCapacityFactor: number;
  noiseStd: number;
  miWeight: number;
  importanceWeight: number;
  loadWeight: number;
}

/** Mod-Squad's mixture of attention heads (`MoEAttention`), always with its zero-init Mod-Squad gate. */
export interface MoEAttentionSpec {
  blocks: BlockSelection;
  numExperts: number;
  k: number;
  headDim: number;
  router: TaskRouterKind;
  miWeight: number;
}

export interface TaskMoEViTConfig {
  imageSize: number;
  patchSize: number;
  inChannels: number;
  dim: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  tasks: TaskSpec[];
  /** Mod-Squad adds a learned task embedding [T, D] to the tokens before every block. */
  taskEmbedding: boolean;
  moeMlp: MoEMlpSpec;
  moeAttention: MoEAttentionSpec;
  seed: number;
  /**
   * Set by `extractSingleTask`: per MoE layer (`block<i>/mlp`, `block<i>/attention`), the original expert
   * ids it kept, increasing. Such a layer has only those experts, but its gate still scores all
   * `numExperts` original experts, so the kept experts' probabilities are exactly the full model's.
   */
  keptExperts?: Record<string, number[]>;
}

/** What `taskMoEViTConfig` accepts: `tasks` and anything else to override. */
export type TaskMoEViTConfigInput = Partial<Omit<TaskMoEViTConfig, 'moeMlp' | 'moeAttention'>> & {
  tasks: TaskSpec[];
  moeMlp?: Partial<MoEMlpSpec>;
  moeAttention?: Partial<MoEAttentionSpec>;
};

/** Which paper's defaults `taskMoEViTConfig` fills in. */
export type TaskMoEPreset = 'mod-squad' | 'adamv';

/**
 * A complete config from a partial one. Defaults (small, CPU-friendly sizes: 32×32 images, patch 4, D 64,
 * depth 4):
 *  - `mod-squad` (Chen et al. 2023): task embedding on; MoE attention on even blocks (8 experts, top-4,
 *    head size D/numHeads — expert counts for this small scale, not the paper's) and MoE MLP on odd blocks
 *    (16 experts, top-4, hidden = mlpRatio·D/4); per-task zero-init routers, MI weight 0.005, no noise, no
 *    importance/load loss. Capacity factor E/k in training and eval: Mod-Squad runs every token on its
 *    chosen experts with no buffer, and C = ceil(S·k·(E/k)/E) = S never drops a choice.
 *  - `adamv` (AdaMV-MoE): no task embedding, no MoE attention; MoE MLP on odd blocks with V-MoE's noisy
 *    gate per task, k₀ = 2, k_max = 8, importance + load 5e-3 each, capacity factors 1.25 / 4.
 */
export function taskMoEViTConfig(
  partial: TaskMoEViTConfigInput,
  preset: TaskMoEPreset = 'mod-squad',
): TaskMoEViTConfig {
  if (preset !== 'mod-squad' && preset !== 'adamv') {
    throw new Error(
      `taskMoEViTConfig: preset must be 'mod-squad' or 'adamv', got ${JSON.stringify(preset)}.`,
    );
  }
  const mod = preset === 'mod-squad';
  const { moeMlp = {}, moeAttention = {}, ...rest } = partial;
  const dim = rest.dim ?? 64;
  const numHeads = rest.numHeads ?? 4;
  const mlpRatio = rest.mlpRatio ?? 4;
  const numExperts = moeMlp.numExperts ?? (mod ? 16 : 8);
  const k = moeMlp.k ?? (mod ? 4 : 2);
  const maxK = Array.isArray(k) ? Math.max(...k) : k;
  const dropless = numExperts / Math.max(1, maxK);
  const config: TaskMoEViTConfig = {
    imageSize: 32,
    patchSize: 4,
    inChannels: 3,
    depth: 4,
    seed: 0,
    taskEmbedding: mod,
    ...rest,
    dim,
    numHeads,
    mlpRatio,
    moeMlp: {
      blocks: 'odd',
      numExperts,
      hiddenDim: Math.max(1, Math.round((mlpRatio * dim) / (mod ? 4 : 1))),
      k,
      kMax: 8,
      gate: mod ? 'mod-squad' : 'vmoe',
      router: 'per-task',
      capacityFactor: mod ? dropless : 1.25,
      evalCapacityFactor: mod ? dropless : 4,
      noiseStd: mod ? 0 : 1,
      miWeight: mod ? 0.005 : 0,
      importanceWeight: mod ? 0 : 5e-3,
      loadWeight: mod ? 0 : 5e-3,
      ...moeMlp,
    },
    moeAttention: {
      blocks: mod ? 'even' : 'none',
      numExperts: 8,
      k: 4,
      headDim: Math.max(1, Math.round(dim / numHeads)),
      router: 'per-task',
      miWeight: mod ? 0.005 : 0,
      ...moeAttention,
    },
  };
  return validateTaskMoEViTConfig(config);
}

/** The 0-based block indices a selection names, for a model of `depth` blocks (core's `placeBlocks`). */
export function selectBlocks(selection: BlockSelection, depth: number, what: string): number[] {
  return placeBlocks(selection, depth, `TaskMoEViT config: ${what}`);
}

function positiveInt(value: unknown, key: string): void {
  assertPositiveInteger(`TaskMoEViT config: ${key}`, value);
}

function nonNegative(value: unknown, key: string, strict = false): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (strict && value === 0)) {
    throw new Error(
      `TaskMoEViT config: ${key} must be a finite number ${strict ? '> 0' : '≥ 0'}, got ${JSON.stringify(value)}.`,
    );
  }
}

/**
 * Checks a complete config and returns a copy with `moeMlp.k` as one integer per task. Every message
 * names the field and the allowed values, since configs usually come from files.
 */
export function validateTaskMoEViTConfig(config: TaskMoEViTConfig): TaskMoEViTConfig {
  const c = config;
  for (const key of ['imageSize', 'patchSize', 'inChannels', 'dim', 'depth', 'numHeads'] as const) {
    positiveInt(c[key], key);
  }
  if (c.imageSize % c.patchSize !== 0) {
    throw new Error(
      `TaskMoEViT config: imageSize ${c.imageSize} must be a multiple of patchSize ${c.patchSize}.`,
    );
  }
  if (c.dim % c.numHeads !== 0) {
    throw new Error(`TaskMoEViT config: dim ${c.dim} must be divisible by numHeads ${c.numHeads}.`);
  }
  nonNegative(c.mlpRatio, 'mlpRatio', true);
  assertNonNegativeInteger('TaskMoEViT config: seed', c.seed);
  if (typeof c.taskEmbedding !== 'boolean') {
    throw new Error(
      `TaskMoEViT config: taskEmbedding must be true or false, got ${JSON.stringify(c.taskEmbedding)}.`,
    );
  }
  validateTaskSpecs(c.tasks);
  const T = c.tasks.length;
  const m = c.moeMlp;
  const a = c.moeAttention;
  if (m == null || a == null) throw new Error('TaskMoEViT config: moeMlp and moeAttention are required.');
  const mlpBlocks = selectBlocks(m.blocks, c.depth, 'moeMlp');
  const attnBlocks = selectBlocks(a.blocks, c.depth, 'moeAttention');
  for (const key of ['numExperts', 'hiddenDim', 'kMax'] as const) positiveInt(m[key], `moeMlp.${key}`);
  for (const key of ['numExperts', 'k', 'headDim'] as const) positiveInt(a[key], `moeAttention.${key}`);
  for (const key of ['capacityFactor', 'evalCapacityFactor'] as const)
    nonNegative(m[key], `moeMlp.${key}`, true);
  for (const key of ['noiseStd', 'miWeight', 'importanceWeight', 'loadWeight'] as const) {
    nonNegative(m[key], `moeMlp.${key}`);
  }
  nonNegative(a.miWeight, 'moeAttention.miWeight');
  if (m.gate !== 'mod-squad' && m.gate !== 'vmoe') {
    throw new Error(
      `TaskMoEViT config: moeMlp.gate must be 'mod-squad' or 'vmoe', got ${JSON.stringify(m.gate)}.`,
    );
  }
  for (const [key, v] of [
    ['moeMlp.router', m.router],
    ['moeAttention.router', a.router],
  ] as const) {
    if (v !== 'per-task' && v !== 'shared') {
      throw new Error(`TaskMoEViT config: ${key} must be 'per-task' or 'shared', got ${JSON.stringify(v)}.`);
    }
  }
  const kept = c.keptExperts ?? {};
  const expertsOf = (layer: string, E: number) => kept[layer]?.length ?? E;
  const kLimit = (E: number) => Math.min(m.kMax, E);
  const minMlpExperts = Math.min(
    m.numExperts,
    ...mlpBlocks.map((i) => expertsOf(`block${i}/mlp`, m.numExperts)),
  );
  const k = typeof m.k === 'number' ? new Array<number>(T).fill(m.k) : m.k;
  if (
    !Array.isArray(k) ||
    k.length !== T ||
    k.some((v) => !Number.isInteger(v) || v < 1 || v > kLimit(minMlpExperts))
  ) {
    throw new Error(
      `TaskMoEViT config: moeMlp.k must be an integer in [1, ${kLimit(minMlpExperts)}] (min(kMax, experts)) or one per task (${T}), got ${JSON.stringify(m.k)}.`,
    );
  }
  const minAttnExperts = Math.min(
    a.numExperts,
    ...attnBlocks.map((i) => expertsOf(`block${i}/attention`, a.numExperts)),
  );
  if (a.k > minAttnExperts) {
    throw new Error(
      `TaskMoEViT config: moeAttention.k must be in [1, ${minAttnExperts}] (numExperts), got ${a.k}.`,
    );
  }
  const layers = new Map<string, number>([
    ...mlpBlocks.map((i) => [`block${i}/mlp`, m.numExperts] as const),
    ...attnBlocks.map((i) => [`block${i}/attention`, a.numExperts] as const),
  ]);
  for (const [layer, ids] of Object.entries(kept)) {
    const E = layers.get(layer);
    if (E == null) {
      throw new Error(
        `TaskMoEViT config: keptExperts names "${layer}", which is not an MoE layer (${[...layers.keys()].join(', ')}).`,
      );
    }
    if (
      !Array.isArray(ids) ||
      ids.length === 0 ||
      ids.some((e, j) => !Number.isInteger(e) || e < 0 || e >= E || (j > 0 && e <= ids[j - 1]))
    ) {
      throw new Error(
        `TaskMoEViT config: keptExperts["${layer}"] must be strictly increasing expert ids in [0, ${E}), got ${JSON.stringify(ids)}.`,
      );
    }
  }
  const out: TaskMoEViTConfig = {
    ...c,
    tasks: c.tasks.map((t) => ({ ...t })),
    moeMlp: { ...m, k: [...k], blocks: Array.isArray(m.blocks) ? [...m.blocks] : m.blocks },
    moeAttention: { ...a, blocks: Array.isArray(a.blocks) ? [...a.blocks] : a.blocks },
  };
  if (c.keptExperts != null) {
    out.keptExperts = Object.fromEntries(Object.entries(c.keptExperts).map(([l, ids]) => [l, [...ids]]));
  } else {
    delete out.keptExperts;
  }
  return out;
}
