import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserializeLayer, readSafetensors, serializeLayer, writeSafetensors } from '@moevl/core';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { type LIMoEConfig, defaultLIMoEConfig } from './config.js';
import { LIMoEModel, type TextBatch } from './limoe_model.js';

const dir = await mkdtemp(join(tmpdir(), 'moevl-limoe-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const tiny = (overrides: Partial<LIMoEConfig> = {}) =>
  defaultLIMoEConfig({
    imageSize: 8,
    patchSize: 4,
    dim: 16,
    depth: 2,
    numHeads: 2,
    mlpRatio: 2,
    embedDim: 8,
    vocabSize: 20,
    contextLength: 5,
    moe: {
      numExperts: 4,
      every: 2,
      router: {
        name: 'top-k',
        options: { k: 1, globalEntropyThreshold: 0.5, localEntropyWeight: 0.01, globalEntropyWeight: 0.01 },
      },
    },
    seed: 3,
    ...overrides,
  });

function batch(b = 3): { images: tf.Tensor4D; text: TextBatch } {
  const ids = [
    [1, 5, 6, 2, 0],
    [1, 7, 2, 0, 0],
    [1, 8, 9, 10, 2],
  ].slice(0, b);
  return {
    images: tf.randomNormal([b, 1, 8, 8], 0, 1, 'float32', 5) as tf.Tensor4D,
    text: {
      ids: tf.tensor2d(ids, undefined, 'int32'),
      mask: tf.tensor2d(ids.map((r) => r.map((v, j) => (j === 0 || v !== 0 ? 1 : 0)))),
      eotIndex: ids.map((r) => r.indexOf(2)),
    },
  };
}

describeEachBackend('LIMoEModel', (backend) => {
  it('returns normalised embeddings, per-block aux losses per modality, and routing metrics by modality', () => {
    const model = new LIMoEModel(tiny());
    const { images, text } = batch();
    const out = model.forward(images, text, { training: true });
    expect(out.imageEmbeddings.shape).toEqual([3, 8]);
    expect(
      Array.from(tf.norm(out.textEmbeddings, 2, 1).dataSync()).every((v) => Math.abs(v - 1) < 1e-5),
    ).toBe(true);
    expect(Object.keys(out.auxLosses).sort()).toEqual(
      expect.arrayContaining([
        'block1/importance',
        'block1/localEntropy/m0',
        'block1/localEntropy/m1',
        'block1/globalEntropy/m1',
      ]),
    );
    const m = out.metrics.block1 as {
      routingSuccessRateByModality: number[];
      expertModalityUsage: number[][];
    };
    expect(m.routingSuccessRateByModality).toHaveLength(2);
    // 3 images × 4 patches and 3 captions with 4 + 3 + 5 real tokens were routed.
    expect(m.expertModalityUsage[0].reduce((a, b) => a + b)).toBeLessThanOrEqual(12);
    tf.dispose([
      images,
      text.ids,
      text.mask,
      out.imageEmbeddings,
      out.textEmbeddings,
      ...Object.values(out.auxLosses),
    ]);
    model.dispose();
  });

  it('packing with a block-diagonal mask equals encoding each modality alone (dense tower)', () => {
    const model = new LIMoEModel(tiny({ moe: null }));
    const { images, text } = batch();
    const packed = model.forward(images, text, { training: false });
    const img = model.encodeImages(images);
    const txt = model.encodeTexts(text);
    const a = packed.imageEmbeddings.dataSync();
    const b = img.embeddings.dataSync();
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 5);
    const c = packed.textEmbeddings.dataSync();
    const d = txt.embeddings.dataSync();
    for (let i = 0; i < c.length; i++) expect(c[i]).toBeCloseTo(d[i], 5);
    tf.dispose([
      images,
      text.ids,
      text.mask,
      packed.imageEmbeddings,
      packed.textEmbeddings,
      img.embeddings,
      txt.embeddings,
    ]);
    model.dispose();
  });

  it('builds the two-tower baseline and has gradients w.r.t. the images', () => {
    const model = new LIMoEModel(tiny({ towers: 'two', moe: null }));
    expect(Object.keys(model.namedWeights()).some((k) => k.startsWith('text_blocks/1/'))).toBe(true);
    const { images, text } = batch(2);
    const f = (x: tf.Tensor) => {
      const out = model.forward(x as tf.Tensor4D, text, { training: false });
      tf.dispose(out.textEmbeddings);
      return out.imageEmbeddings;
    };
    expect(checkGradients(f, [images]).maxRelativeError).toBeLessThan(1e-3);
    tf.dispose([images, text.ids, text.mask]);
    model.dispose();
  });

  it('round-trips config and weights through safetensors', async () => {
    const model = new LIMoEModel(tiny());
    const path = join(dir, `limoe-${backend}.safetensors`);
    await writeSafetensors(path, model.namedWeights(), { config: JSON.stringify(serializeLayer(model)) });
    const { tensors, metadata } = await readSafetensors(path);
    const spec = JSON.parse(metadata.config);
    spec.config.config.seed = 77;
    const copy = deserializeLayer<LIMoEModel>(spec);
    copy.loadWeights(tensors, { source: path });
    tf.dispose(Object.values(tensors));
    const { images, text } = batch();
    const a = model.forward(images, text, { training: false });
    const b = copy.forward(images, text, { training: false });
    expect(Array.from(b.imageEmbeddings.dataSync())).toEqual(Array.from(a.imageEmbeddings.dataSync()));
    expect(Array.from(b.textEmbeddings.dataSync())).toEqual(Array.from(a.textEmbeddings.dataSync()));
    tf.dispose([
      images,
      text.ids,
      text.mask,
      a.imageEmbeddings,
      a.textEmbeddings,
      b.imageEmbeddings,
      b.textEmbeddings,
    ]);
    tf.dispose([...Object.values(a.auxLosses), ...Object.values(b.auxLosses)]);
    model.dispose();
    copy.dispose();
  });

  it('leaks no tensors in a forward+backward step', async () => {
    const model = new LIMoEModel(tiny());
    const { images, text } = batch();
    const vars = Object.values(model.trainableWeights());
    await expectNoLeakedTensors(() =>
      tf.variableGrads(() => {
        const out = model.forward(images, text, { training: true });
        return tf.addN([
          tf.sum(tf.mul(out.imageEmbeddings, out.textEmbeddings)),
          ...Object.values(out.auxLosses),
        ]) as tf.Scalar;
      }, vars),
    );
    tf.dispose([images, text.ids, text.mask]);
    model.dispose();
  });

  it('rejects bad configs with the option named', () => {
    expect(() => new LIMoEModel(tiny({ imageSize: 10 }))).toThrow(
      'LIMoE config: imageSize 10 must be a multiple of patchSize 4.',
    );
    expect(() => new LIMoEModel(tiny({ moe: { numExperts: 4, every: 5 } }))).toThrow(
      /moe.every = 5 selects no block/,
    );
  });
});

describe('model size before allocation', () => {
  it('estimates the parameters of every variant exactly, and refuses a config too large to hold', async () => {
    const { LIMOE_VARIANTS, limoeVariantConfig } = await import('../train/variants.js');
    const { estimateLIMoEParameters } = await import('./config.js');
    for (const v of LIMOE_VARIANTS) {
      const c = { ...limoeVariantConfig(v, 0), vocabSize: 148 };
      const m = new LIMoEModel(c);
      expect(estimateLIMoEParameters(c), v).toBe(m.countParams());
      m.dispose();
    }
    const t0 = Date.now();
    expect(
      () => new LIMoEModel({ ...limoeVariantConfig('limoe', 0), dim: 1_000_000, depth: 1000, numHeads: 1 }),
    ).toThrow(
      /^LIMoE model \(dim 1000000, depth 1000\) needs about [\d.]+ GiB \([\d.]+B parameters plus activations\), more than the [\d.]+ GiB this machine and engine can hold/,
    );
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
