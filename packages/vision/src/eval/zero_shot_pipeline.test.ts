import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTransformersClip } from '../clip/transformers_clip.js';
import { FIXTURE_DIR } from '../clip/tiny_clip.test.helpers.js';
import type { ImageTextModel } from '../model/image_text_model.js';
import { preprocessImage } from '../preprocess/preprocess_image.js';
import { CLASS_NAMES, TEMPLATES, removeTempDirs, tempDir, writeColourFolder } from './eval.test.helpers.js';
import { classifyImages, zeroShotClassifier } from './zero_shot_pipeline.js';

let model: ImageTextModel;
let root: string;
beforeAll(async () => {
  model = await loadTransformersClip(FIXTURE_DIR);
  root = await tempDir('pipeline');
  await writeColourFolder(root, { red: ['red'], green: ['green'], blue: ['blue'] });
});
afterAll(async () => {
  await model.dispose();
  await removeTempDirs();
});

describe('one-call zero-shot classification', () => {
  it('ranks the labels of files, bytes and pixel tensors, and reports unreadable inputs in place', async () => {
    const files = ['red', 'green', 'blue'].map((c) => join(root, c, 'img00.png'));
    const broken = join(root, 'broken.png');
    await writeFile(broken, 'not a png');
    const classify = await zeroShotClassifier(model, { classNames: CLASS_NAMES, templates: TEMPLATES });
    const results = await classify([files[0], await readFile(files[1]), broken, files[2]], { topK: 3 });
    expect(results.map((r) => ('labels' in r ? r.labels[0].label : 'error'))).toEqual([
      'red',
      'green',
      'error',
      'blue',
    ]);
    expect('error' in results[2] && results[2].error).toMatch(/broken\.png/);
    const first = results[0] as { labels: Array<{ probability: number; score: number }> };
    expect(first.labels).toHaveLength(3);
    expect(first.labels[0].probability).toBeGreaterThan(first.labels[1].probability);
    const all = await classify([files[0]], { topK: CLASS_NAMES.length });
    const total = ('labels' in all[0] ? all[0].labels : []).reduce((s, l) => s + l.probability, 0);
    expect(total).toBeCloseTo(1, 5);
    const pixels = (await preprocessImage(files[2], model.preprocess)) as tf.Tensor3D;
    const fromTensor = await classify([pixels]);
    expect('labels' in fromTensor[0] && fromTensor[0].labels[0].label).toBe('blue');
    pixels.dispose();
    classify.dispose();
  });

  it('is the same as classifyImages, refuses duplicate labels, and stops on NaN', async () => {
    const file = join(root, 'green', 'img00.png');
    const once = await classifyImages(model, [file], {
      classNames: CLASS_NAMES,
      templates: TEMPLATES,
      topK: 2,
    });
    expect('labels' in once[0] && once[0].labels.map((l) => l.label)[0]).toBe('green');
    await expect(zeroShotClassifier(model, { classNames: ['red', 'red', 'green'] })).rejects.toThrow(
      'the class "red" is listed twice; give each class once.',
    );
    const broken: ImageTextModel = {
      ...model,
      name: 'nan-model',
      embedTexts: (t) => model.embedTexts(t),
      embedImages: async (px) =>
        tf.tidy(() => tf.mul(tf.ones([px.shape[0], model.embeddingDim]), NaN) as tf.Tensor2D),
      dispose: () => {},
    };
    await expect(classifyImages(broken, [file], { classNames: CLASS_NAMES })).rejects.toThrow(
      /^model nan-model produced NaN scores for image 0/,
    );
  });
});
