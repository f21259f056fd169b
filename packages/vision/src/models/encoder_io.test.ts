import * as tf from '@tensorflow/tfjs';
import { ModelTooLargeError, deserializeLayer, readSafetensors, writeSafetensors } from '@moevl/core';
import { describeEachBackend } from '@moevl/core/testing';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ENCODER_FORMAT, ENCODER_VERSION, loadEncoder, loadEncoderFile, saveEncoder } from './encoder_io.js';
import { VisionTransformer, type VisionTransformerArgs } from './vision_transformer.js';

const dir = await mkdtemp(join(tmpdir(), 'moevl-vision-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const TINY: VisionTransformerArgs = { imageSize: 8, patchSize: 4, dim: 16, depth: 2, numHeads: 2, seed: 3 };
const VARIANTS: Record<string, Partial<VisionTransformerArgs>> = {
  vit: { projectionDim: 8, numClasses: 3, headZeroInit: false },
  vmoe: { depth: 4, moe: { numExperts: 4, last: 1, router: { name: 'top-k', options: { k: 2 } } } },
};

function expectSame(a: tf.Tensor, b: tf.Tensor): void {
  expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
}

describeEachBackend('encoder checkpoints', (backend) => {
  const images = (size = 8) => tf.randomNormal([2, 3, size, size], 0, 1, 'float32', 11);

  for (const [variant, extra] of Object.entries(VARIANTS)) {
    it(`${variant}: weights round-trip through safetensors into a model with another seed`, async () => {
      const model = new VisionTransformer({ ...TINY, ...extra });
      const path = join(dir, `${variant}-${backend}.safetensors`);
      await saveEncoder(path, model, { step: 42, dataset: 'squares' });
      const { tensors, metadata } = await readSafetensors(path);
      // Core's model file: format name/version, the config and each extra as JSON.
      expect(metadata).toEqual({
        format: `${ENCODER_FORMAT}/${ENCODER_VERSION}`,
        config: expect.any(String),
        step: '42',
        dataset: '"squares"',
      });
      expect(Object.keys(tensors).sort()).toEqual(Object.keys(model.namedWeights()).sort());
      // Only the checkpoint can make a model built with another seed produce the same outputs.
      const spec = JSON.parse(metadata.config);
      spec.config.seed = 999;
      const fresh = deserializeLayer<VisionTransformer>(spec);
      const x = images();
      const [a, before] = [model.apply(x), fresh.apply(x)];
      expect(Array.from(before.dataSync())).not.toEqual(Array.from(a.dataSync()));
      fresh.loadWeights(tensors, { source: path });
      const b = fresh.apply(x);
      expectSame(a, b);
      const { model: loaded, extras, version } = await loadEncoderFile(path);
      expect(loaded).toBeInstanceOf(VisionTransformer);
      expect({ extras, version }).toEqual({ extras: { step: 42, dataset: 'squares' }, version: 2 });
      const c = loaded.apply(x);
      expectSame(a, c);
      tf.dispose([x, a, before, b, c, ...Object.values(tensors)]);
      [model, fresh, loaded].forEach((m) => m.dispose());
    });
  }

  it('loads a checkpoint at a new resolution with interpolated position embeddings', async () => {
    const model = new VisionTransformer({ ...TINY, dynamicImageSize: false });
    const path = join(dir, `resize-${backend}.safetensors`);
    await saveEncoder(path, model);
    const big = await loadEncoder(path, { imageSize: 16 });
    expect(big.grid).toEqual([4, 4]);
    expect(big.namedWeights()['pos_embed'].shape).toEqual([1, 17, 16]);
    // The same resize the dynamic forward pass does at call time.
    const dynamic = new VisionTransformer({ ...TINY, dynamicImageSize: true });
    dynamic.loadWeights(model.namedWeights());
    const x = images(16);
    const [a, b] = [big.apply(x), dynamic.apply(x)];
    const [va, vb] = [a.dataSync(), b.dataSync()];
    for (let i = 0; i < va.length; i++) expect(va[i]).toBeCloseTo(vb[i], 5);
    expect(() => model.apply(x)).toThrow(/expected 8×8 images, got 16×16/);
    await expect(loadEncoder(path, { imageSize: 18 })).rejects.toThrow(
      /18×18 is not a multiple of the model's patch size 4/,
    );
    tf.dispose([x, a, b]);
    [model, big, dynamic].forEach((m) => m.dispose());
  });

  it('explains files it cannot load', async () => {
    const plain = join(dir, `plain-${backend}.safetensors`);
    const w = tf.zeros([2]);
    await writeSafetensors(plain, { w });
    w.dispose();
    await expect(loadEncoder(plain)).rejects.toThrow(
      `${plain}: not a vision encoder file (format undefined, expected "moevl-vision-encoder/2"); saveEncoder writes`,
    );
    await expect(loadEncoder(plain)).rejects.toThrow(/build the model yourself and call model.loadWeights/);
    const model = new VisionTransformer(TINY);
    await expect(saveEncoder(plain, model, { config: 'x' })).rejects.toThrow(/must not set "config"/);
    // A damaged header is named as such, and nothing is left allocated.
    await saveEncoder(plain, model);
    const { tensors, metadata } = await readSafetensors(plain);
    await writeSafetensors(plain, tensors, { ...metadata, config: '{"className": ' });
    tf.dispose(Object.values(tensors));
    const before = tf.memory().numTensors;
    await expect(loadEncoder(plain)).rejects.toThrow(
      /header \(config, extras\) is not valid JSON; the file is damaged/,
    );
    await expect(loadEncoder(plain, { imageSize: 16 })).rejects.toThrow(/the file is damaged/);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

const V1_FIXTURE = fileURLToPath(new URL('../../test/fixtures/encoder-v1/', import.meta.url));

describeEachBackend(
  'encoder files of version 1 (moevl-vision-encoder/v1, written before the model file)',
  () => {
    it('load with their weights, extras and outputs unchanged, also resized', async () => {
      const path = join(V1_FIXTURE, 'vmoe-tiny.safetensors');
      const before = tf.memory().numTensors;
      const stored = await readSafetensors(path);
      expect(stored.metadata.format).toBe('moevl-vision-encoder/v1');
      const { model, extras, version } = await loadEncoderFile(path);
      expect({ extras, version }).toEqual({
        extras: { step: '42', dataset: 'none (random init)' },
        version: 1,
      });
      const weights = model.namedWeights();
      expect(Object.keys(weights).sort()).toEqual(Object.keys(stored.tensors).sort());
      for (const [name, t] of Object.entries(stored.tensors)) expectSame(t, weights[name]);
      // The outputs the writing code produced (cpu backend) on the same input.
      const expected = JSON.parse(await readFile(join(V1_FIXTURE, 'vmoe-tiny.outputs.json'), 'utf8')) as {
        shape: number[];
        outputs: number[];
      };
      const x = tf.tidy(() =>
        tf.sin(
          tf
            .range(0, 2 * 3 * 8 * 8)
            .reshape([2, 3, 8, 8])
            .mul(0.37),
        ),
      );
      const y = model.apply(x);
      expect(y.shape).toEqual(expected.shape);
      const got = y.dataSync();
      expected.outputs.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4));
      const big = await loadEncoder(path, { imageSize: 16 });
      expect(big.namedWeights()['pos_embed'].shape).toEqual([1, 17, 16]);
      tf.dispose([x, y, ...Object.values(stored.tensors)]);
      [model, big].forEach((m) => m.dispose());
      expect(tf.memory().numTensors).toBe(before);
    });
  },
);

it('refuses an encoder file whose config cannot fit, in one sentence and before allocating', async () => {
  const model = new VisionTransformer(TINY);
  const path = join(dir, 'huge.safetensors');
  await saveEncoder(path, model);
  model.dispose();
  const { tensors, metadata } = await readSafetensors(path);
  const spec = JSON.parse(metadata.config);
  spec.config = { ...spec.config, dim: 1e6, depth: 1000 };
  await writeSafetensors(path, tensors, { ...metadata, config: JSON.stringify(spec) });
  tf.dispose(Object.values(tensors));
  const before = tf.memory().numTensors;
  const error = await loadEncoder(path).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ModelTooLargeError);
  expect((error as Error).message).toMatch(
    /^ViT \S+ \(dim 1000000, depth 1000\) needs about [\d.]+ GiB .*GiB/,
  );
  expect((error as Error).message.split(/\.\s/).length).toBe(1);
  expect(tf.memory().numTensors).toBe(before);
});
