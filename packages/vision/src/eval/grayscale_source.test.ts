import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTransformersClip } from '../clip/transformers_clip.js';
import { FIXTURE_DIR } from '../clip/tiny_clip.test.helpers.js';
import { loadFashionMnist } from '../data/fashion_mnist.js';
import type { GrayscaleDataset } from '../data/grayscale_dataset.js';
import type { ImageTextModel } from '../model/image_text_model.js';
import { CLIP_MEAN, CLIP_STD, CLIP_PREPROCESS } from '../preprocess/config.js';
import { grayscaleSource } from './grayscale_source.js';
import { runZeroShotEval } from './run_eval.js';

let model: ImageTextModel;
let ds: GrayscaleDataset;

beforeAll(async () => {
  model = await loadTransformersClip(FIXTURE_DIR);
  ds = await loadFashionMnist({ split: 'test', perClass: 2 });
});
afterAll(() => model.dispose());

describe('grayscaleSource on Fashion-MNIST test images', () => {
  it('describes the in-memory items', () => {
    const source = grayscaleSource(ds);
    expect(source.name).toBe('fashion-mnist');
    expect(source.count).toBe(20);
    expect(Array.from(source.labels)).toEqual(Array.from(ds.labels));
    // Named by the index in the official test file (perClass 2 skips some images).
    expect(source.id(7)).toBe(`fashion-mnist:test:${ds.indices[7]}`);
    expect(source.id(0)).toBe('fashion-mnist:test:0');
    expect(grayscaleSource(ds, 'fmnist-small').name).toBe('fmnist-small');
  });

  it('produces [N, 3, H, W] in the model’s preprocess config', async () => {
    const source = grayscaleSource(ds);
    const { pixels, loaded, errors } = await source.loadBatch([0, 5, 19], model.preprocess);
    expect(pixels!.shape).toEqual([3, 3, 32, 32]);
    expect(loaded).toEqual([0, 5, 19]);
    expect(errors).toEqual([]);
    // Grey replicated to RGB: each channel, un-normalised, is the same image.
    const [r, g, b] = tf.tidy(() =>
      tf
        .unstack(pixels!, 1)
        .map((ch, c) => tf.add(tf.mul(ch, CLIP_STD[c]), CLIP_MEAN[c]).arraySync() as number[][][]),
    );
    const [rf, gf, bf] = [r, g, b].map((ch) => ch.flat(2));
    const maxDiff = Math.max(...rf.map((v, i) => Math.max(Math.abs(v - gf[i]), Math.abs(v - bf[i]))));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(Math.max(...rf) - Math.min(...rf)).toBeGreaterThan(0.5); // a real image, not a constant
    pixels!.dispose();
  });

  it('at 28 px is exactly the bytes / 255, normalised', async () => {
    const { pixels } = await grayscaleSource(ds).loadBatch([3], {
      ...CLIP_PREPROCESS,
      size: 28,
      cropSize: 28,
    });
    const got = pixels!.dataSync();
    const bytes = ds.images.subarray(3 * 784, 4 * 784);
    const f = Math.fround;
    const expected = [0, 1, 2].flatMap((c) =>
      Array.from(bytes, (v) => f(f(f(v / 255) - f(CLIP_MEAN[c])) / f(CLIP_STD[c]))),
    );
    expect(Array.from(got)).toEqual(expected);
    pixels!.dispose();
  });

  it('resizes to CLIP’s 224 and reports indices that do not exist', async () => {
    const { pixels, loaded, errors } = await grayscaleSource(ds).loadBatch([1, 20], CLIP_PREPROCESS);
    expect(pixels!.shape).toEqual([1, 3, 224, 224]);
    expect(loaded).toEqual([1]);
    expect(errors).toEqual([{ index: 20, message: 'no image #20 in fashion-mnist (20 images)' }]);
    pixels!.dispose();
    const none = await grayscaleSource(ds).loadBatch([-1], CLIP_PREPROCESS);
    expect(none.pixels).toBeNull();
  });

  it('runs through the evaluation', async () => {
    const r = await runZeroShotEval({
      model,
      modelId: 'tiny-clip',
      source: grayscaleSource(ds),
      classNames: ds.classNames,
      templates: ['a photo of a {}'],
      cacheDir: null,
      batchSize: 8,
    });
    expect(r.counts).toMatchObject({ items: 20, evaluated: 20, skipped: 0 });
    expect(r.predictions.map((p) => p.id)).toEqual(Array.from(ds.indices, (i) => `fashion-mnist:test:${i}`));
    expect(r.metrics.perClassRecall).toHaveLength(10);
  });
});
