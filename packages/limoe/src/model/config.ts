import { assertPositiveInteger } from '@moevl/core';
import type { RouterSpec } from '@moevl/router';
import { type VMoESpec, moeBlockIndices } from '@moevl/vision';

/**
 * A LIMoE model (Mustafa et al. 2022): per-modality stems feeding ONE shared transformer whose MLPs are MoE
 * layers in some blocks, per-modality pooling and projection into a shared embedding, a learned
 * temperature. The same config builds the paper's baselines: `moe: null` is the dense single tower,
 * `towers: 'two'` the dense two-tower CLIP-style model.
 */
export interface LIMoEConfig {
  /** Image side (square) and channels (1 for Fashion-MNIST/MNIST, 3 for RGB). */
  imageSize: number;
  channels: number;
  patchSize: number;
  /** Tokenizer vocabulary size and text context length (tokens incl. <sot>/<eot>). */
  vocabSize: number;
  contextLength: number;
  /** Transformer width, depth, heads, MLP ratio. */
  dim: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  /** Width of the shared image–text embedding space. */
  embedDim: number;
  /** `single`: one shared transformer (LIMoE); `two`: separate image and text transformers. */
  towers: 'single' | 'two';
  /** MoE layers (V-MoE placement: `every`, `last`), or null for a dense model. */
  moe: VMoESpec | null;
  imagePooling: 'gap' | 'cls';
  textPooling: 'eot' | 'mean';
  /** Initial log logit scale; CLIP: ln(1/0.07). Clamped to [0, ln 100] during training. */
  logitScaleInit: number;
  seed: number;
}

export const LIMOE_DEFAULT_ROUTER: RouterSpec = {
  name: 'top-k',
  options: {
    k: 1,
    batchPriority: true,
    capacityFactor: 1.05,
    // V-MoE evaluates at cf 4; on a CPU every slot costs compute, and 2 already keeps routing success
    // near 1 for top-1, so 2 is the default here (docs/reference.md: "larger at eval").
    evalCapacityFactor: 2,
    importanceWeight: 0.005,
    loadWeight: 0.005,
    // LIMoE's entropy losses per modality; τ and weights are not verified from the paper (REFERENCE §2).
    localEntropyWeight: 0.01,
    globalEntropyWeight: 0.01,
    globalEntropyThreshold: Math.log(4),
  },
};

export function defaultLIMoEConfig(overrides: Partial<LIMoEConfig> = {}): LIMoEConfig {
  return {
    imageSize: 28,
    channels: 1,
    patchSize: 4,
    vocabSize: 1024,
    contextLength: 16,
    dim: 128,
    depth: 4,
    numHeads: 4,
    mlpRatio: 4,
    embedDim: 128,
    towers: 'single',
    moe: { numExperts: 8, every: 2, router: LIMOE_DEFAULT_ROUTER },
    imagePooling: 'gap',
    textPooling: 'eot',
    logitScaleInit: Math.log(1 / 0.07),
    seed: 0,
    ...overrides,
  };
}

export function validateLIMoEConfig(c: LIMoEConfig): LIMoEConfig {
  const positive = [
    'imageSize',
    'channels',
    'patchSize',
    'vocabSize',
    'contextLength',
    'dim',
    'depth',
    'numHeads',
    'embedDim',
  ] as const;
  for (const key of positive) assertPositiveInteger(`LIMoE config: ${key}`, c[key]);
  if (c.imageSize % c.patchSize !== 0) {
    throw new Error(`LIMoE config: imageSize ${c.imageSize} must be a multiple of patchSize ${c.patchSize}.`);
  }
  if (c.dim % c.numHeads !== 0)
    throw new Error(`LIMoE config: dim ${c.dim} must be divisible by numHeads ${c.numHeads}.`);
  if (c.towers !== 'single' && c.towers !== 'two')
    throw new Error(`LIMoE config: towers must be 'single' or 'two', got ${c.towers}.`);
  if (c.moe != null) moeBlockIndices(c.depth, c.moe);
  return c;
}

/**
 * Parameters of a LIMoE config, computed from its shapes alone (no tensor is made): stems, position
 * embeddings, blocks (attention, norms, dense MLPs or MoE experts + router), norms, projections, logit scale.
 */
export function estimateLIMoEParameters(c: LIMoEConfig): number {
  const d = c.dim;
  const h = Math.round(c.mlpRatio * d);
  const patches = (c.imageSize / c.patchSize) ** 2;
  const stems = c.channels * c.patchSize ** 2 * d + d + patches * d + (c.vocabSize + c.contextLength) * d;
  const attention = 4 * d * d + 4 * d;
  const norms = 4 * d;
  const dense = 2 * d * h + h + d;
  const moeBlocks = c.moe != null ? moeBlockIndices(c.depth, c.moe).length : 0;
  const e = c.moe?.numExperts ?? 0;
  const eh = c.moe?.hiddenDim ?? h;
  const moe = e * (2 * d * eh + eh + d) + d * e;
  const tower = (withMoE: boolean) =>
    c.depth * (attention + norms) +
    (withMoE ? moeBlocks * moe + (c.depth - moeBlocks) * dense : c.depth * dense);
  const towers = tower(true) + (c.towers === 'two' ? tower(false) : 0);
  return stems + towers + 4 * d + 2 * d * c.embedDim + 1;
}

/** Float32 bytes of the activations of one forward pass over `batch` examples (a rough upper bound). */
export function estimateLIMoEActivationBytes(c: LIMoEConfig, batch: number): number {
  const tokens = (c.imageSize / c.patchSize) ** 2 + c.contextLength;
  const widest = Math.max(c.dim, Math.round(c.mlpRatio * c.dim), c.moe?.hiddenDim ?? 0);
  const attention = c.numHeads * tokens * tokens;
  return 4 * batch * c.depth * (8 * tokens * widest + attention);
}
