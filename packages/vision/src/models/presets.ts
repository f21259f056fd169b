import type { VMoESpec } from './moe_placement.js';
import { VisionTransformer, type VisionTransformerArgs } from './vision_transformer.js';

/** The shape of a ViT preset; everything else takes `VisionTransformerArgs` defaults or overrides. */
export interface ViTPreset {
  /** What the preset is for, with its size. */
  description: string;
  imageSize: number;
  patchSize: number;
  dim: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
}

/**
 * ViT sizes by the names of the ViT and V-MoE papers (`<size>/<patch>`: Ti = tiny, S = small, B = base,
 * L = large), plus `ti-mini` for CPU experiments and tests. Parameter counts are for the encoder without a
 * classifier head at the listed image size (with a 1000-class head they equal timm's, e.g. B/16 86,567,656).
 */
export const vitPresets = {
  'ti-mini': {
    description:
      'CPU-sized ViT for 28–32 px images (MNIST, Fashion-MNIST, CIFAR): D 64, 4 blocks, 4 heads, patch 4; 207k params at 32 px.',
    imageSize: 32,
    patchSize: 4,
    dim: 64,
    depth: 4,
    numHeads: 4,
    mlpRatio: 4,
  },
  'ti/16': {
    description: 'ViT-Ti/16 (DeiT-Tiny): D 192, 12 blocks, 3 heads, patch 16 at 224 px; 5.5M params.',
    imageSize: 224,
    patchSize: 16,
    dim: 192,
    depth: 12,
    numHeads: 3,
    mlpRatio: 4,
  },
  's/32': {
    description: 'ViT-S/32: D 384, 12 blocks, 6 heads, patch 32 at 224 px (49 tokens); 22.5M params.',
    imageSize: 224,
    patchSize: 32,
    dim: 384,
    depth: 12,
    numHeads: 6,
    mlpRatio: 4,
  },
  's/16': {
    description: 'ViT-S/16: D 384, 12 blocks, 6 heads, patch 16 at 224 px (196 tokens); 21.7M params.',
    imageSize: 224,
    patchSize: 16,
    dim: 384,
    depth: 12,
    numHeads: 6,
    mlpRatio: 4,
  },
  'b/32': {
    description:
      'ViT-B/32 (CLIP ViT-B/32 vision tower size): D 768, 12 blocks, 12 heads, patch 32; 87.5M params.',
    imageSize: 224,
    patchSize: 32,
    dim: 768,
    depth: 12,
    numHeads: 12,
    mlpRatio: 4,
  },
  'b/16': {
    description: 'ViT-B/16: D 768, 12 blocks, 12 heads, patch 16 at 224 px (196 tokens); 85.8M params.',
    imageSize: 224,
    patchSize: 16,
    dim: 768,
    depth: 12,
    numHeads: 12,
    mlpRatio: 4,
  },
  'l/16': {
    description:
      'ViT-L/16 (V-MoE-L/16, LIMoE-L/16 backbone): D 1024, 24 blocks, 16 heads, patch 16; 303M params.',
    imageSize: 224,
    patchSize: 16,
    dim: 1024,
    depth: 24,
    numHeads: 16,
    mlpRatio: 4,
  },
} as const satisfies Record<string, ViTPreset>;

export type ViTPresetName = keyof typeof vitPresets;

const NAMES = Object.keys(vitPresets) as ViTPresetName[];

/** Looks a preset up, forgiving case and a `vit-` prefix (`ViT-B/16` → `b/16`); unknown names list them all. */
export function resolveViTPreset(name: string): ViTPreset {
  const key = name
    .trim()
    .toLowerCase()
    .replace(/^vit[-_]?/, '');
  if (key in vitPresets) return vitPresets[key as ViTPresetName];
  const lines = NAMES.map((n) => `  ${n}: ${vitPresets[n].description}`).join('\n');
  throw new Error(`Unknown ViT preset "${name}". Presets:\n${lines}`);
}

/** Fields of `VisionTransformerArgs` a caller may change on top of a preset. */
export type ViTOverrides = Partial<VisionTransformerArgs>;

/**
 * A dense ViT from a preset, e.g. `createViT('b/16', { numClasses: 1000 })` or
 * `createViT('ti-mini', { imageSize: 28, inChannels: 1 })`. Overrides win over the preset.
 */
export function createViT(preset: ViTPresetName | string, overrides: ViTOverrides = {}): VisionTransformer {
  const { description: _description, ...shape } = resolveViTPreset(preset);
  return new VisionTransformer({ ...shape, ...overrides });
}

/**
 * A V-MoE from a preset and an MoE spec, e.g. V-MoE-S/32 "Every-2" with 8 experts and top-2 routing:
 * `createVMoE('s/32', { numExperts: 8, every: 2, router: { name: 'top-k', options: { k: 2 } } })`.
 */
export function createVMoE(
  preset: ViTPresetName | string,
  moe: VMoESpec,
  overrides: ViTOverrides = {},
): VisionTransformer {
  return createViT(preset, { ...overrides, moe });
}
