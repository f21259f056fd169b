import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { saveModelFile } from '@moevl/core';
import { CLIP_PREPROCESS, type ImageTextModel, type ModelFamily, registerModelFamily } from '@moevl/vision';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs, run, tempDir } from './cli.test.helpers.js';

afterAll(removeTempDirs);

/**
 * A model family registered from outside the CLI, as a plugin would: `zero-shot eval --model` resolves it
 * (by its prefix, and by the format of its model files) with no change to the CLI.
 */
function toyModel(name: string, bias: number): ImageTextModel {
  return {
    name,
    embeddingDim: 2,
    logitScale: 100,
    preprocess: { ...CLIP_PREPROCESS, size: 28, cropSize: 28 },
    // Brighter images lean to the first class, darker to the second.
    embedImages: async (px) =>
      tf.tidy(() => {
        const m = tf.reshape(tf.mean(px, [1, 2, 3]), [-1, 1]);
        return tf.concat([tf.add(m, bias), tf.neg(m)], 1) as tf.Tensor2D;
      }),
    embedTexts: async (texts) =>
      tf.tidy(() => tf.tensor2d(texts.map((_, i) => (i % 2 === 0 ? [1, 0] : [0, 1])))),
    dispose: () => {},
  };
}

const toyFamily: ModelFamily = {
  specificationVersion: 'v1',
  name: 'toy',
  description: 'a test family',
  formats: ['toy-model'],
  claims: (spec) => spec.startsWith('toy:'),
  async load(spec) {
    return { model: toyModel(spec, 0), modelId: spec, source: { hub: spec } };
  },
  defaults: (dataset) =>
    dataset === 'fashion-mnist'
      ? {
          classNames: ['bright', 'dark'].concat(Array(8).fill('other')).map((n, i) => `${n}${i}`),
          templates: ['{}'],
          templatesName: 'toy',
        }
      : undefined,
};
registerModelFamily(toyFamily);

describe('model families from outside the CLI', () => {
  it('evaluates a plugin family’s model by its prefix, with the family’s own defaults', async () => {
    const r = await run([
      'eval',
      '--model',
      'toy:one',
      '--data',
      'fashion-mnist',
      '--limit',
      '50',
      '--no-cache',
      '--json',
      '--quiet',
    ]);
    expect(r.code, r.err).toBe(0);
    const result = JSON.parse(r.out);
    expect(result.model).toBe('toy:one');
    expect(result.templatesName).toBe('toy');
    expect(result.counts.evaluated).toBe(50);
  });

  it('resolves a model file by its header format, and names unknown formats with the known ones', async () => {
    const dir = await tempDir('family');
    const file = join(dir, 'toy.safetensors');
    await saveModelFile(file, { w: tf.zeros([1]) }, { format: 'toy-model', version: 1, config: {} });
    const r = await run([
      'eval',
      '--model',
      file,
      '--data',
      'fashion-mnist',
      '--limit',
      '20',
      '--no-cache',
      '--json',
      '--quiet',
    ]);
    expect(r.code, r.err).toBe(0);
    const other = join(dir, 'other.safetensors');
    await saveModelFile(other, { w: tf.zeros([1]) }, { format: 'toy-modle', version: 1, config: {} });
    const bad = await run(['eval', '--model', other, '--data', 'fashion-mnist', '--no-cache', '--quiet']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(
      /has the model format "toy-modle", which no model family reads \(did you mean "toy-model"\?\); known formats: moevl-limoe, toy-model/,
    );
  });

  it('is listed by zero-shot models', async () => {
    const r = await run(['models', '--json']);
    expect(JSON.parse(r.out).families.map((f: { name: string }) => f.name)).toEqual(['clip', 'limoe', 'toy']);
  });
});

describe('hub conventions', () => {
  it('--offline never downloads, hf-hub: and @revision name hub models, and errors name the CLI flags', async () => {
    const dir = await tempDir('hub');
    for (const model of ['hf-hub:Xenova/clip-vit-base-patch32', 'Xenova/clip-vit-base-patch32@main']) {
      const r = await run([
        'eval',
        '--model',
        model,
        '--data',
        'fashion-mnist',
        '--offline',
        '--model-cache-dir',
        dir,
        '--no-cache',
        '--quiet',
      ]);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(
        /Failed to load "Xenova\/clip-vit-base-patch32" from the local cache .*Offline \(--offline/,
      );
    }
  });
});
