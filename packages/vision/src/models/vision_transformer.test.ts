import * as tf from '@tensorflow/tfjs';
import { deserializeLayer, serializeLayer } from '@moevl/core';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { VisionTransformer, type VisionTransformerArgs } from './vision_transformer.js';

/** A ViT small enough for finite differences: 8×8 images, patch 4 (4 patches), D 16, 2 blocks. */
const TINY: VisionTransformerArgs = { imageSize: 8, patchSize: 4, dim: 16, depth: 2, numHeads: 2, seed: 1 };

/** Gradients of `loss` w.r.t. every trainable weight, as L2 norms by path. */
function gradientNorms(model: VisionTransformer, loss: () => tf.Scalar): Record<string, number> {
  const vars = model.trainableWeights();
  const { value, grads } = tf.variableGrads(loss, Object.values(vars));
  const norms: Record<string, number> = {};
  for (const [path, v] of Object.entries(vars)) {
    norms[path] = grads[v.name] != null ? tf.tidy(() => tf.norm(grads[v.name]).dataSync()[0]) : 0;
  }
  tf.dispose([value, ...Object.values(grads)]);
  return norms;
}

describeEachBackend('VisionTransformer', () => {
  const images = (b = 2, h = 8, w = 8) => tf.randomNormal([b, 3, h, w], 0, 1, 'float32', 5);

  it('returns features, logits and tokens of the right shapes for cls, gap, projection and classifier', () => {
    const x = images();
    const cases: [Partial<VisionTransformerArgs>, number, number | null][] = [
      [{}, 16, null],
      [{ pooling: 'gap' }, 16, null],
      [{ classToken: false }, 16, null],
      [{ projectionDim: 12 }, 12, null],
      [{ numClasses: 3 }, 16, 3],
      [{ projectionDim: 12, numClasses: 5 }, 12, 5],
    ];
    for (const [extra, featureDim, numClasses] of cases) {
      const model = new VisionTransformer({ ...TINY, ...extra });
      const out = model.forward(x, { returnTokens: true });
      expect(out.features.shape, JSON.stringify(extra)).toEqual([2, featureDim]);
      expect(out.logits?.shape).toEqual(numClasses == null ? undefined : [2, numClasses]);
      expect(out.tokens?.shape).toEqual([2, 4 + model.numPrefixTokens, 16]);
      expect(out.auxLosses).toEqual({});
      expect(out.metrics).toEqual({});
      tf.dispose([out.features, out.logits, out.tokens].filter((t) => t != null));
      model.dispose();
    }
    x.dispose();
  });

  it('pools the class token (cls) or the mean of the patch tokens only (gap)', () => {
    const x = images();
    for (const pooling of ['cls', 'gap'] as const) {
      const model = new VisionTransformer({ ...TINY, pooling });
      const { features, tokens } = model.forward(x, { returnTokens: true });
      const expected = tf.tidy(() =>
        pooling === 'cls'
          ? tf.squeeze(tf.slice(tokens!, [0, 0, 0], [2, 1, 16]), [1])
          : tf.mean(tf.slice(tokens!, [0, 1, 0], [2, 4, 16]), 1),
      );
      const [a, b] = [features.dataSync(), expected.dataSync()];
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 6);
      tf.dispose([features, tokens!, expected]);
      model.dispose();
    }
    x.dispose();
  });

  it('names its weights by stable paths', () => {
    const model = new VisionTransformer({ ...TINY, projectionDim: 8, numClasses: 3, preNorm: true });
    const paths = Object.keys(model.namedWeights());
    for (const p of [
      'patch/kernel',
      'patch/bias',
      'cls_token',
      'pos_embed',
      'ln_pre/gamma',
      'blocks/0/ln1/gamma',
      'blocks/1/attn/qkv/kernel',
      'blocks/1/mlp/fc2/bias',
      'norm/beta',
      'proj/kernel',
      'head/kernel',
      'head/bias',
    ]) {
      expect(paths).toContain(p);
    }
    expect(paths).not.toContain('proj/bias');
    expect(model.namedWeights()['pos_embed'].shape).toEqual([1, 5, 16]);
    const gap = new VisionTransformer({ ...TINY, classToken: false });
    expect(Object.keys(gap.namedWeights())).not.toContain('cls_token');
    expect(gap.namedWeights()['pos_embed'].shape).toEqual([1, 4, 16]);
    model.dispose();
    gap.dispose();
  });

  it('runs at another resolution by interpolating the position embeddings', () => {
    const model = new VisionTransformer({ ...TINY, numClasses: 2 });
    const x = images(1, 16, 12);
    const out = model.forward(x, { returnTokens: true });
    expect(out.tokens?.shape).toEqual([1, 1 + 4 * 3, 16]);
    expect(out.logits?.shape).toEqual([1, 2]);
    tf.dispose([x, out.features, out.logits!, out.tokens!]);
    model.dispose();
  });

  it('passes a finite-difference gradient check w.r.t. the images (cls + projection, and gap)', () => {
    const x = images(1);
    for (const extra of [{ projectionDim: 6 }, { pooling: 'gap' as const, classToken: false }]) {
      const model = new VisionTransformer({ ...TINY, ...extra });
      expect(checkGradients((a) => model.apply(a), [x]).maxRelativeError, JSON.stringify(extra)).toBeLessThan(
        1e-3,
      );
      model.dispose();
    }
    x.dispose();
  });

  it('gradients reach every trainable weight (finite, non-zero)', () => {
    const model = new VisionTransformer({
      ...TINY,
      projectionDim: 8,
      numClasses: 3,
      headZeroInit: false,
      preNorm: true,
    });
    const x = images();
    const norms = gradientNorms(model, () => {
      const out = model.forward(x, { training: true });
      return tf.add(tf.sum(tf.square(out.logits!)), tf.sum(out.features)) as tf.Scalar;
    });
    expect(Object.keys(norms).length).toBe(Object.keys(model.trainableWeights()).length);
    for (const [path, n] of Object.entries(norms)) expect(Number.isFinite(n) && n > 0, path).toBe(true);
    x.dispose();
    model.dispose();
  });

  it('leaks no tensors in forward and backward', async () => {
    const model = new VisionTransformer({ ...TINY, numClasses: 2 });
    const x = images();
    const x2 = images(2, 12, 8); // other resolution: interpolated position embeddings
    await expectNoLeakedTensors(() => model.apply(x));
    await expectNoLeakedTensors(() => {
      const out = model.forward(x2, { returnTokens: true });
      return [out.features, out.logits!, out.tokens!];
    });
    const vars = Object.values(model.trainableWeights());
    await expectNoLeakedTensors(() =>
      tf.variableGrads(() => tf.sum(model.forward(x2, { training: true }).logits!) as tf.Scalar, vars),
    );
    tf.dispose([x, x2]);
    model.dispose();
  });

  it('round-trips its config: same seed → identical outputs', () => {
    const model = new VisionTransformer({
      ...TINY,
      imageSize: [8, 12],
      projectionDim: 4,
      numClasses: 3,
      epsilon: 1e-5,
    });
    const spec = JSON.parse(JSON.stringify(serializeLayer(model)));
    const copy = deserializeLayer<VisionTransformer>(spec);
    expect(copy).toBeInstanceOf(VisionTransformer);
    expect(serializeLayer(copy)).toEqual(spec);
    const x = images(2, 8, 12);
    const [a, b] = [model.apply(x), copy.apply(x)];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    model.dispose();
    copy.dispose();
  });

  it('rejects wrong image sizes and bad arguments with clear errors', () => {
    const fixed = new VisionTransformer({ ...TINY, dynamicImageSize: false });
    const big = images(1, 12, 12);
    expect(() => fixed.apply(big)).toThrow(/expected 8×8 images, got 12×12.*dynamicImageSize: true/);
    const odd = images(1, 10, 8);
    expect(() => fixed.apply(odd)).toThrow(/image size 10×8 is not a multiple of the patch size 4/);
    const gray = tf.zeros([1, 1, 8, 8]);
    expect(() => fixed.apply(gray)).toThrow(/expected NCHW images \[B, 3, H, W\], got \[1,1,8,8\]/);
    tf.dispose([big, odd, gray]);
    expect(() => new VisionTransformer({ ...TINY, imageSize: 10 })).toThrow(
      /imageSize 10×10 is not a multiple of the patch size 4/,
    );
    expect(() => new VisionTransformer({ ...TINY, classToken: false, pooling: 'cls' })).toThrow(
      /pooling "cls" needs classToken: true/,
    );
    expect(() => new VisionTransformer({ ...TINY, numHeads: 3 })).toThrow(/divisible by numHeads 3/);
    expect(() => new VisionTransformer({ ...TINY, depth: 0 })).toThrow(/depth must be a positive integer/);
    fixed.dispose();
  });
});
