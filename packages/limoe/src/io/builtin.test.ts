import { useBackend } from '@moevl/core';
import { buildZeroShotClassifier, evaluateZeroShot, loadFashionMnist } from '@moevl/vision';
import { statSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { FASHION_MNIST_MEAN, FASHION_MNIST_STD, imageTensor } from '../train/pair_data.js';
import { TRAIN_TEMPLATES } from '../train/captions.js';
import { builtinModels, resolveBuiltinModel } from './builtin.js';
import { loadLIMoE } from './limoe_checkpoint.js';
import { LIMoEImageTextModel } from './limoe_image_text_model.js';

beforeAll(() => useBackend('wasm'));

it('ships the Fashion-MNIST LIMoE checkpoint (≤ 10 MB) and names unknown builtins', () => {
  const m = resolveBuiltinModel('limoe-fashion-mnist');
  expect(statSync(m.path).size).toBeLessThanOrEqual(10 * 1024 * 1024);
  expect(builtinModels().map((b) => b.name)).toContain('limoe-fashion-mnist');
  expect(() => resolveBuiltinModel('limoe-imagenet')).toThrow(
    /Unknown builtin model "limoe-imagenet"; available: limoe-fashion-mnist/,
  );
  // Evaluation prompts were never training captions.
  expect(m.templates.some((t) => TRAIN_TEMPLATES.includes(t))).toBe(false);
});

it('the shipped checkpoint classifies held-out Fashion-MNIST test images zero-shot (a 1,000-image sample)', async () => {
  const m = resolveBuiltinModel('limoe-fashion-mnist');
  const { model, tokenizer, metadata } = await loadLIMoE(m.path);
  expect(metadata.imageMean).toBeCloseTo(FASHION_MNIST_MEAN, 6);
  const itm = new LIMoEImageTextModel(model, tokenizer, metadata, { name: m.name });
  const classifier = await buildZeroShotClassifier(itm, [...m.classNames], [...m.templates]);
  const test = await loadFashionMnist({ split: 'test', perClass: 100 });
  const data = { images: test.images, labels: test.labels, count: test.count, side: 28 };
  const idx = Array.from({ length: test.count }, (_, i) => i);
  const metrics = await evaluateZeroShot(itm, classifier, [
    {
      pixels: imageTensor(data, idx, FASHION_MNIST_MEAN, FASHION_MNIST_STD),
      labels: Array.from(test.labels),
    },
  ]);
  // The full 10,000-image number is in docs/experiments/limoe.md; a sample must stay well above chance (10%).
  expect(metrics.top1).toBeGreaterThan(0.75);
  classifier.dispose();
  itm.dispose();
});
