import { LIMOE_DEFAULT_ROUTER, defaultLIMoEConfig } from '../model/config.js';
import type { LIMoEConfig } from '../model/config.js';

/**
 * The four models of the Fashion-MNIST LIMoE experiment (experiments/limoe/train.mjs, zero-shot train-limoe), by name: LIMoE, the
 * same without its entropy losses, and the dense single- and two-tower baselines. Patch 7 (16 image
 * tokens) keeps a few-epoch run within an hour on two CPU cores; 24 text tokens hold the longest
 * held-out prompt ("a black and white picture of the ankle boot.", 21 tokens with the tokenizer trained on
 * the training captions), so evaluation never truncates one.
 */
export const LIMOE_VARIANTS = ['limoe', 'dense', 'two-tower', 'limoe-no-entropy'] as const;
export type LIMoEVariant = (typeof LIMOE_VARIANTS)[number];

export function limoeVariantConfig(variant: LIMoEVariant, seed: number): LIMoEConfig {
  const base: Partial<LIMoEConfig> = {
    imageSize: 28,
    channels: 1,
    patchSize: 7,
    dim: 128,
    depth: 4,
    numHeads: 4,
    mlpRatio: 2,
    embedDim: 128,
    contextLength: 24,
    seed,
  };
  const moe = { numExperts: 8, every: 2, router: LIMOE_DEFAULT_ROUTER };
  switch (variant) {
    case 'limoe':
      return defaultLIMoEConfig({ ...base, moe });
    case 'limoe-no-entropy': {
      const options = { ...LIMOE_DEFAULT_ROUTER.options, localEntropyWeight: 0, globalEntropyWeight: 0 };
      return defaultLIMoEConfig({ ...base, moe: { ...moe, router: { name: 'top-k', options } } });
    }
    case 'dense':
      return defaultLIMoEConfig({ ...base, moe: null });
    case 'two-tower':
      return defaultLIMoEConfig({ ...base, moe: null, towers: 'two' });
  }
}
