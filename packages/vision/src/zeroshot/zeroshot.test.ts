import * as tf from '@tensorflow/tfjs';
import { describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import type { ImageTextModel } from '../model/image_text_model.js';
import { CLIP_PREPROCESS } from '../preprocess/config.js';
import { buildZeroShotClassifier, fillTemplate } from './classifier.js';
import { evaluateZeroShot } from './evaluate.js';
import { ZeroShotAccumulator } from './metrics.js';

const WORDS = ['cat', 'dog', 'car', 'ship', 'photo', 'drawing'];

/** A fake model: a text embeds as the (unnormalised) count of each known word; images pass through. */
function fakeModel(calls: string[][] = []): ImageTextModel {
  return {
    name: 'fake',
    embeddingDim: WORDS.length,
    logitScale: 100,
    preprocess: CLIP_PREPROCESS,
    embedImages: async (pixels) => tf.tidy(() => tf.reshape(pixels, [pixels.shape[0], -1]) as tf.Tensor2D),
    embedTexts: async (texts) => {
      calls.push(texts);
      const rows = texts.map((t) => WORDS.map((w) => t.split(/\W+/).filter((x) => x === w).length));
      return tf.tensor2d(rows);
    },
    dispose: () => {},
  };
}

describeEachBackend('zero-shot classification', () => {
  it('averages L2-normalised template embeddings per class and re-normalises (open_clip)', async () => {
    const calls: string[][] = [];
    const w = await buildZeroShotClassifier(
      fakeModel(calls),
      ['cat', 'dog'],
      ['a photo of a {}', 'a drawing of a {} {}'],
      {
        batchSize: 3,
      },
    );
    expect(w.shape).toEqual([6, 2]);
    // class cat: normalise [1,0,0,0,1,0] → /√2 and [2,0,0,0,0,1] → /√5; average; renormalise.
    const a = [1 / Math.SQRT2, 0, 0, 0, 1 / Math.SQRT2, 0];
    const b = [2 / Math.sqrt(5), 0, 0, 0, 0, 1 / Math.sqrt(5)];
    const m = a.map((v, i) => (v + b[i]) / 2);
    const norm = Math.hypot(...m);
    const col0 = (tf.transpose(w).arraySync() as number[][])[0];
    col0.forEach((v, i) => expect(v).toBeCloseTo(m[i] / norm, 5));
    // Texts are embedded in batches across classes (3, then 1), never per image.
    expect(calls.map((c) => c.length)).toEqual([3, 1]);
    w.dispose();
  });

  it('gives the same classifier whatever the batch size', async () => {
    const templates = ['a photo of a {}', 'a {}', 'a drawing of the {}'];
    const a = await buildZeroShotClassifier(fakeModel(), WORDS.slice(0, 4), templates, { batchSize: 1000 });
    const b = await buildZeroShotClassifier(fakeModel(), WORDS.slice(0, 4), templates, { batchSize: 5 });
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()).map((v) => expect.closeTo(v, 6)));
    tf.dispose([a, b]);
  });

  it('evaluates batches into top-1, top-5 and mean per-class recall, and leaks nothing', async () => {
    const model = fakeModel();
    const classifier = await buildZeroShotClassifier(model, WORDS.slice(0, 4), ['a {}']);
    // "images" are embeddings: one-hot on the class word; the last image of class 0 looks like class 1.
    const images = [
      [1, 0, 0, 0, 0, 0],
      [1, 0, 0, 0, 0, 0],
      [0, 1, 0, 0, 0, 0],
      [0, 0, 0, 1, 0, 0],
      [0, 1, 0, 0, 0, 0],
    ];
    const labels = [0, 0, 1, 3, 0];
    const batches = () => [
      { pixels: tf.tensor4d(images.slice(0, 3).flat(), [3, 6, 1, 1]), labels: labels.slice(0, 3) },
      { pixels: tf.tensor4d(images.slice(3).flat(), [2, 6, 1, 1]), labels: labels.slice(3) },
    ];
    const r = await evaluateZeroShot(model, classifier, batches());
    expect(r.count).toBe(5);
    expect(r.top1).toBeCloseTo(4 / 5, 6);
    expect(r.top5).toBeNull(); // only 4 classes
    expect(r.perClassRecall).toEqual([2 / 3, 1, null, 1]);
    expect(r.meanPerClassRecall).toBeCloseTo((2 / 3 + 1 + 1) / 3, 6);
    await expectNoLeakedTensors(async () => {
      await evaluateZeroShot(model, classifier, batches());
    });
    classifier.dispose();
  });
});

it('restricts predictions to a class subset (ImageNet-A/R style) and reports top-5 only with ≥ 5 classes', () => {
  const acc = new ZeroShotAccumulator(6, [1, 3, 4, 5, 0]);
  // Image 0: label 3; class 2 scores highest but is not in the subset → label 3 wins.
  acc.add(tf.tensor2d([[0, 0.1, 0.9, 0.5, 0.2, 0.3]]), [3]);
  // Image 1: label 4, ranked 3rd among the subset → top-5 hit, top-1 miss.
  acc.add(tf.tensor2d([[0.5, 0.9, 0, 0.1, 0.4, 0.6]]), [4]);
  const r = acc.result();
  expect(r.top1).toBe(0.5);
  expect(r.top5).toBe(1);
  expect(() => acc.add(tf.tensor2d([[0, 0, 0, 0, 0, 0]]), [7])).toThrow(
    /label 7 of image 0 is not a class index in \[0, 6\)/,
  );
  expect(JSON.stringify(new ZeroShotAccumulator(3).result())).not.toContain('NaN');
});

it('fills templates and refuses one without a placeholder', () => {
  expect(fillTemplate('a photo of a {}.', 'tench')).toBe('a photo of a tench.');
  expect(() => fillTemplate('a photo', 'tench')).toThrow(
    'Template "a photo" has no {} placeholder for the class name.',
  );
});
