import * as tf from '@tensorflow/tfjs';
import { env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageTextModel } from '../model/image_text_model.js';
import { loadTransformersClip } from './transformers_clip.js';
import type { TransformersClipOptions } from './transformers_clip.js';
import type { TransformersClipModel } from './transformers_clip_model.js';
import {
  FIXTURE_DIR,
  FIXTURE_LOGIT_SCALE,
  expectedImageEmbedding,
  expectedTextEmbedding,
  solidPixels,
} from './tiny_clip.test.helpers.js';

const COLOURS: Record<string, number[]> = {
  red: [1, 0, 0],
  green: [0, 1, 0],
  blue: [0, 0, 1],
  yellow: [1, 1, 0],
  cyan: [0, 1, 1],
  magenta: [1, 0, 1],
  dark: [0.3, 0.05, 0.05],
  bright: [0.95, 0.9, 0.92],
};
const LABELS = Object.keys(COLOURS);
const PROMPTS = LABELS.map((c) => `a photo of ${c}`);

/** Every network call fails the test: the fixture must load with no network at all. */
const savedFetch = env.fetch;
const networkCalls: string[] = [];
beforeAll(() => {
  env.fetch = async (url: string | URL) => {
    networkCalls.push(String(url));
    throw new Error(`network access attempted: ${String(url)}`);
  };
});
afterAll(() => {
  env.fetch = savedFetch;
  expect(networkCalls).toEqual([]);
});

function expectRowsClose(actual: tf.Tensor2D, expected: number[][], tol: number): void {
  const rows = actual.arraySync();
  expect(actual.shape).toEqual([expected.length, expected[0].length]);
  rows.forEach((row, i) => row.forEach((x, j) => expect(Math.abs(x - expected[i][j])).toBeLessThan(tol)));
}

function expectUnitRows(t: tf.Tensor2D): void {
  for (const row of t.arraySync()) expect(Math.hypot(...row)).toBeCloseTo(1, 5);
}

const VARIANTS: { label: string; options: TransformersClipOptions; tol: number }[] = [
  { label: 'fp32, separate towers', options: { dtype: 'fp32', combined: false }, tol: 1e-5 },
  { label: 'fp32, combined graph', options: { dtype: 'fp32', combined: true }, tol: 1e-5 },
  { label: 'q8, separate towers', options: { dtype: 'q8', combined: false }, tol: 0.03 },
  { label: 'quantized (alias), combined graph', options: { dtype: 'quantized', combined: true }, tol: 0.03 },
];

describe.each(VARIANTS)('loadTransformersClip on the tiny fixture ($label)', ({ options, tol }) => {
  let model: ImageTextModel;
  beforeAll(async () => {
    model = await loadTransformersClip(FIXTURE_DIR, { ...options, batchSize: 3 });
  });
  afterAll(() => model.dispose());

  it('reads name, width, logit scale and preprocessing from the folder', () => {
    expect(model.name).toBe(FIXTURE_DIR);
    expect(model.embeddingDim).toBe(8);
    expect(model.logitScale).toBeCloseTo(FIXTURE_LOGIT_SCALE, 4);
    expect(model.preprocess.cropSize).toBe(32);
    expect(model.preprocess.size).toBe(32);
    expect(model.preprocess.mean).toEqual([0.48145466, 0.4578275, 0.40821073]);
  });

  it('embeds images to the designed unit vectors', async () => {
    const colours = Object.values(COLOURS);
    const pixels = solidPixels(colours);
    const emb = await model.embedImages(pixels);
    expectUnitRows(emb);
    expectRowsClose(emb, colours.map(expectedImageEmbedding), tol);
    tf.dispose([pixels, emb]);
  });

  it('embeds texts to the designed unit vectors', async () => {
    const texts = [...PROMPTS, 'A PHOTO OF A DOG.', 'an unknown word', ''];
    const emb = await model.embedTexts(texts);
    expectUnitRows(emb);
    expectRowsClose(
      emb,
      texts.map((t) => expectedTextEmbedding(t)),
      tol,
    );
    emb.dispose();
  });

  it('ranks the matching colour word first for every colour', async () => {
    const pixels = solidPixels(Object.values(COLOURS));
    const [img, txt] = [await model.embedImages(pixels), await model.embedTexts(PROMPTS)];
    const best = tf.tidy(() => tf.argMax(tf.matMul(img, txt, false, true), 1).arraySync() as number[]);
    expect(best.map((i) => LABELS[i])).toEqual(LABELS);
    tf.dispose([pixels, img, txt]);
  });
});

describe('batching and layouts', () => {
  it('embeds a plain NCHW buffer (embedPixelData) exactly as the same pixels as a tensor', async () => {
    const model = (await loadTransformersClip(FIXTURE_DIR, { batchSize: 2 })) as TransformersClipModel;
    const pixels = solidPixels([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    const fromTensor = await model.embedImages(pixels);
    const fromData = await model.embedPixelData(Float32Array.from(pixels.dataSync()), pixels.shape);
    expect(fromData.arraySync()).toEqual(fromTensor.arraySync());
    await expect(model.embedPixelData(new Float32Array(5), pixels.shape)).rejects.toThrow(/5 values/);
    tf.dispose([pixels, fromTensor, fromData]);
    await model.dispose();
  });

  it('gives the same embeddings in batches of 2 as in one batch, and across layouts', async () => {
    const colours = [...Object.values(COLOURS), [0.2, 0.4, 0.6], [0.7, 0.3, 0.1]];
    const texts = [...PROMPTS, 'red and dark', 'a dog in a car', 'green'];
    const results: number[][][][] = [];
    for (const options of [
      { batchSize: 2, combined: false },
      { batchSize: 100, combined: false },
      { batchSize: 3, combined: true },
    ]) {
      const model = await loadTransformersClip(FIXTURE_DIR, options);
      const pixels = solidPixels(colours);
      const [img, txt] = [await model.embedImages(pixels), await model.embedTexts(texts)];
      results.push([img.arraySync(), txt.arraySync()]);
      tf.dispose([pixels, img, txt]);
      await model.dispose();
    }
    for (const other of results.slice(1)) {
      for (let k = 0; k < 2; k++) {
        other[k].forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(results[0][k][i][j], 5)));
      }
    }
  });

  it('handles empty inputs, leaks no tensors, and rejects wrongly sized pixels', async () => {
    const model = await loadTransformersClip(FIXTURE_DIR);
    const pixels = solidPixels([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    const before = tf.memory().numTensors;
    const emb = await loadTransformersClip(FIXTURE_DIR, { batchSize: 2 }).then(async (m) => {
      const out = await m.embedImages(pixels);
      await m.dispose();
      return out;
    });
    expect(tf.memory().numTensors).toBe(before + 1); // only the result: batch slices are released
    tf.dispose([pixels, emb]);
    const none = await model.embedTexts([]);
    expect(none.shape).toEqual([0, 8]);
    const wrong = tf.zeros([1, 3, 24, 24]) as tf.Tensor4D;
    await expect(model.embedImages(wrong)).rejects.toThrow(/\[N, 3, 32, 32\].*got \[1, 3, 24, 24\]/);
    tf.dispose([none, wrong]);
    await model.dispose();
    await expect(model.embedTexts(['red'])).rejects.toThrow(/disposed/);
  });
});

describe('truncation and padding', () => {
  it('truncates to max_position_embeddings (16) and keeps the end token, as CLIP does', async () => {
    const model = await loadTransformersClip(FIXTURE_DIR);
    // 20 words + start + end = 22 tokens: the graph's 16-row position table would fail without truncation.
    const long = Array(20).fill('red').join(' ');
    const [emb] = (await model.embedTexts([long, 'red'])).arraySync();
    // 14 words survive, and the end token (the only carrier of feature 7) is still there.
    expect(emb[0]).toBeCloseTo(14 / Math.hypot(14, 0.25), 6);
    expect(emb[7]).toBeCloseTo(0.25 / Math.hypot(14, 0.25), 6);
    await model.dispose();
  });

  it('pads a short text without changing its embedding (the attention mask is honoured)', async () => {
    const model = await loadTransformersClip(FIXTURE_DIR);
    const alone = (await model.embedTexts(['blue'])).arraySync()[0];
    const padded = (await model.embedTexts(['blue', 'a photo of a dark cyan car with a dog'])).arraySync()[0];
    alone.forEach((x, j) => expect(padded[j]).toBeCloseTo(x, 5));
    await model.dispose();
  });

  it('batches texts by length but returns them in the order given', async () => {
    const model = await loadTransformersClip(FIXTURE_DIR, { batchSize: 2 });
    const texts = ['a photo of a dark cyan car with a dog', 'red', 'a bright green cat', 'blue', 'dog'];
    const together = (await model.embedTexts(texts)).arraySync();
    for (const [i, text] of texts.entries()) {
      const alone = (await model.embedTexts([text])).arraySync()[0];
      alone.forEach((x, j) => expect(together[i][j]).toBeCloseTo(x, 5));
    }
    await model.dispose();
  });
});

describe('offline behaviour', () => {
  it('loads with env.allowRemoteModels=false and with localOnly, and restores the env', async () => {
    const saved = { remote: env.allowRemoteModels, local: env.localModelPath, fsCache: env.useFSCache };
    env.allowRemoteModels = false;
    const a = await loadTransformersClip(FIXTURE_DIR);
    expect(env.allowRemoteModels).toBe(false);
    env.allowRemoteModels = true;
    const b = await loadTransformersClip(FIXTURE_DIR, { localOnly: true, dtype: 'q8' });
    expect(env.allowRemoteModels).toBe(true);
    expect(env.localModelPath).toBe(saved.local);
    expect(env.useFSCache).toBe(saved.fsCache);
    await Promise.all([a.dispose(), b.dispose()]);
    env.allowRemoteModels = saved.remote;
    expect(networkCalls).toEqual([]);
  });
});
