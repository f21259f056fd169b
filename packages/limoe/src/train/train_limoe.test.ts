import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEachBackend } from '@moevl/core/testing';
import { buildZeroShotClassifier, evaluateZeroShot } from '@moevl/vision';
import { useBackend } from '@moevl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMoEImageTextModel } from '../io/limoe_image_text_model.js';
import { loadLIMoE, saveLIMoE } from '../io/limoe_checkpoint.js';
import { defaultLIMoEConfig } from '../model/config.js';
import { EVAL_TEMPLATES } from './captions.js';
import { imageTensor } from './pair_data.js';
import { trainLIMoE } from './train_limoe.js';

const dir = await mkdtemp(join(tmpdir(), 'moevl-limoe-train-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** 3 classes of 8×8 images: bright top half, bright left half, bright centre; plus noise. */
function synthetic(count: number) {
  const side = 8;
  const images = new Uint8Array(count * side * side);
  const labels = new Int32Array(count);
  let s = 12345;
  const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < count; i++) {
    const c = i % 3;
    labels[i] = c;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const on = c === 0 ? y < 4 : c === 1 ? x < 4 : Math.abs(x - 3.5) < 2 && Math.abs(y - 3.5) < 2;
        images[i * 64 + y * 8 + x] = Math.round(Math.min(255, (on ? 200 : 30) + 40 * rand()));
      }
    }
  }
  return { images, labels, count, side };
}

const config = defaultLIMoEConfig({
  imageSize: 8,
  patchSize: 4,
  dim: 16,
  depth: 2,
  numHeads: 2,
  mlpRatio: 2,
  embedDim: 8,
  // Holds every held-out prompt ("a black and white picture of the centre.") with the tiny tokenizer.
  contextLength: 32,
  moe: { numExperts: 4, every: 2 },
});
const classNames = ['top', 'left', 'centre'];

it('refuses, before training, a text context that would cut a held-out prompt', async () => {
  const data = synthetic(12);
  await expect(
    trainLIMoE({
      config: { ...config, contextLength: 10 },
      data,
      classNames,
      steps: 1,
      batchSize: 12,
      progress: false,
    }),
  ).rejects.toThrow(
    /^LIMoE: the held-out prompt "a blurry photo of a top\." is 13 tokens with the trained tokenizer, longer than the text context \(10\)/,
  );
});

describeEachBackend('trainLIMoE', (backend) => {
  it('resumes exactly: 4 steps + resume to 8 equals 8 uninterrupted steps', async () => {
    const data = synthetic(48);
    const common = { config, data, classNames, steps: 8, batchSize: 12, progress: false, seed: 1 };
    const full = await trainLIMoE({ ...common, dir: join(dir, `full-${backend}`), checkpointEvery: 4 });
    full.model.dispose();
    const partDir = join(dir, `part-${backend}`);
    const first = await trainLIMoE({ ...common, dir: partDir, checkpointEvery: 4, stopAfter: 4 });
    first.model.dispose();
    const rest = await trainLIMoE({ ...common, dir: partDir, checkpointEvery: 4, resume: true });
    rest.model.dispose();
    expect(rest.run.resumedFrom?.step).toBe(4);
    rest.run.records.forEach((r, i) =>
      expect(Math.abs(r.loss - full.run.records[4 + i].loss)).toBeLessThan(1e-6),
    );
    const r = full.run.records[7];
    expect(r.aux).toEqual(
      expect.objectContaining({ contrastive: expect.any(Number), 'block1/importance': expect.any(Number) }),
    );
    expect(r).toEqual(
      expect.objectContaining({
        temperature: expect.any(Number),
        routingSuccessImage: expect.any(Number),
        routingSuccessText: expect.any(Number),
      }),
    );
    expect(full.tokensPerSecond).toBeGreaterThan(0);
  });
});

// Learning is checked on the default engine only: the cpu backend is ~30x slower, and what it could add
// (gradient correctness) is covered by the finite-difference tests of every op and layer on both.
describe('trainLIMoE on wasm', () => {
  beforeAll(() => useBackend('wasm'));

  it('learns the synthetic task, saves, loads, and zero-shot classifies through ImageTextModel', async () => {
    const data = synthetic(90);
    const trained = await trainLIMoE({
      config,
      data,
      classNames,
      steps: 120,
      batchSize: 30,
      peakLr: 5e-3,
      progress: false,
      seed: 2,
    });
    const path = join(dir, 'model.safetensors');
    await saveLIMoE(path, trained.model, trained.tokenizer, { imageMean: 0.286, imageStd: 0.353 });
    trained.model.dispose();
    const loaded = await loadLIMoE(path);
    const itm = new LIMoEImageTextModel(loaded.model, loaded.tokenizer, loaded.metadata);
    const classifier = await buildZeroShotClassifier(itm, classNames, EVAL_TEMPLATES);
    const test = synthetic(30);
    const pixels = imageTensor(
      test,
      Array.from({ length: 30 }, (_, i) => i),
    );
    const metrics = await evaluateZeroShot(itm, classifier, [{ pixels, labels: Array.from(test.labels) }]);
    // Prompts never used as captions; chance is 1/3.
    expect(metrics.top1).toBeGreaterThan(0.8);
    classifier.dispose();
    itm.dispose();
  });
});
