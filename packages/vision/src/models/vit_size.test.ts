import { ModelTooLargeError } from '@moevl/core';
import { describe, expect, it } from 'vitest';
import { VisionTransformer, type VisionTransformerArgs } from './vision_transformer.js';
import { estimateViTParameters, vitShapeOf } from './vit_size.js';

const SMALL: VisionTransformerArgs = { imageSize: 16, patchSize: 4, dim: 16, depth: 4, numHeads: 2, seed: 1 };

describe('VisionTransformer size check', () => {
  it.each<[string, Partial<VisionTransformerArgs>]>([
    ['dense ViT', {}],
    [
      'gap, pre-norm, projection, head, no patch bias',
      { classToken: false, preNorm: true, projectionDim: 8, numClasses: 5, patchBias: false },
    ],
    ['V-MoE every 2', { moe: { numExperts: 4 } }],
    [
      'V-MoE last 2, own expert width',
      { numClasses: 3, moe: { numExperts: 3, every: 1, last: 2, hiddenDim: 12 } },
    ],
  ])('estimates the parameters of a %s exactly and builds it', (_, over) => {
    const model = new VisionTransformer({ ...SMALL, ...over });
    expect(estimateViTParameters(vitShapeOf(model))).toBe(model.countParams());
    model.dispose();
  });

  it('refuses a config that cannot fit, at once and in one sentence naming the size and the limit', () => {
    const start = Date.now();
    let error: unknown;
    try {
      new VisionTransformer({ imageSize: 224, patchSize: 16, dim: 1e6, depth: 1000, numHeads: 8 });
    } catch (e) {
      error = e;
    }
    expect(Date.now() - start).toBeLessThan(1000);
    expect(error).toBeInstanceOf(ModelTooLargeError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^ViT \S+ \(dim 1000000, depth 1000\) needs about [\d.]+ GiB .* more than the [\d.]+ GiB /,
    );
    expect(message.split(/\.\s/).length).toBe(1);
    expect(() => new VisionTransformer({ ...SMALL, dim: 1e5, depth: 100, moe: { numExperts: 32 } })).toThrow(
      /^V-MoE .* \(dim 100000, depth 100\) needs about/,
    );
  });
});
