import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { afterAll, expect, it } from 'vitest';
import { type GrayscaleImages, fashionMultiTask } from '../data/index.js';
import { TaskMoEViT, taskMoEViTConfig } from '../model/index.js';
import { evaluateMultiTask } from './evaluate_multi_task.js';
import { multiTaskForward } from './multi_task_forward.js';
import { trainMultiTask } from './train_multi_task.js';

const root = await mkdtemp(join(tmpdir(), 'moevl-mtl-train-'));
afterAll(() => rm(root, { recursive: true, force: true }));

/** 8×8 images, 6 per class: class c is a bright square whose size and place depend on c. */
function fakeImages(perClass: number): GrayscaleImages {
  const count = 10 * perClass;
  const images = new Uint8Array(count * 64);
  const labels = Int32Array.from({ length: count }, (_, i) => Math.floor(i / perClass));
  for (let i = 0; i < count; i++) {
    const c = labels[i];
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        const on = Math.abs(x - (c % 5) - 1.5) < 1 + (c >> 2) && Math.abs(y - 3.5) < 1 + (c % 3);
        images[i * 64 + y * 8 + x] = on ? 200 + ((i * 13) % 50) : (i * 7 + x) % 30;
      }
    }
  }
  return { images, labels, count, height: 8, width: 8 };
}

const bench = fashionMultiTask({
  train: fakeImages(6),
  test: fakeImages(2),
  tasks: ['category', 'coarse', 'denoise'],
  validationPerClass: 1,
});

/** AdaMV-style tiny model: per-task noisy routers (the noise uses the run's RNG), k₀ 1 of 4 experts. */
function tinyModel(): TaskMoEViT {
  return new TaskMoEViT(
    taskMoEViTConfig(
      {
        imageSize: 8,
        patchSize: 4,
        inChannels: 1,
        dim: 16,
        depth: 2,
        numHeads: 2,
        mlpRatio: 1,
        tasks: bench.taskSpecs,
        taskEmbedding: true,
        seed: 3,
        moeMlp: {
          blocks: 'odd',
          numExperts: 4,
          hiddenDim: 8,
          k: 1,
          kMax: 4,
          router: 'per-task',
          miWeight: 0.005,
        },
        moeAttention: {
          blocks: 'even',
          numExperts: 2,
          k: 1,
          headDim: 8,
          router: 'per-task',
          miWeight: 0.005,
        },
      },
      'adamv',
    ),
  );
}

// patience 0 and a huge minDelta: only the first check improves, so k goes up at step 4 and comes back
// down and freezes at step 6, on both sides of the resume point (4).
const common = {
  validation: bench.validation,
  steps: 8,
  peakLr: 5e-3,
  warmupSteps: 2,
  uncertainty: true,
  usageEma: true,
  aes: { every: 2, patience: 0, initialK: 1, maxK: 4, minDelta: 1e9 },
  progress: false,
  seed: 11,
  checkpointEvery: 4,
};

describeEachBackend('trainMultiTask', (backend) => {
  it('resumes exactly: 4 steps + resume to 8 equals 8 uninterrupted steps, AES decisions included', async () => {
    const fullModel = tinyModel();
    const full = await trainMultiTask({
      ...common,
      model: fullModel,
      data: bench.trainStream(6, 5),
      dir: join(root, `full-${backend}`),
    });
    const partDir = join(root, `part-${backend}`);
    const first = tinyModel();
    await trainMultiTask({
      ...common,
      model: first,
      data: bench.trainStream(6, 5),
      dir: partDir,
      stopAfter: 4,
    });
    first.dispose();
    const resumedModel = tinyModel();
    const rest = await trainMultiTask({
      ...common,
      model: resumedModel,
      data: bench.trainStream(6, 5),
      dir: partDir,
      resume: true,
    });

    expect(rest.run.resumedFrom?.step).toBe(4);
    expect(rest.run.records).toHaveLength(4);
    rest.run.records.forEach((r, i) => {
      const f = full.run.records[4 + i];
      expect(Math.abs(r.loss - f.loss)).toBeLessThan(1e-6);
      for (const key of Object.keys(f.aux)) expect(Math.abs(r.aux[key] - f.aux[key])).toBeLessThan(1e-6);
    });
    expect(full.aesHistory.filter((d) => d.event !== 'improved')).toEqual(
      expect.arrayContaining([
        { step: 4, task: 'category', event: 'increase', k: 2 },
        { step: 6, task: 'category', event: 'decrease-and-freeze', k: 1 },
      ]),
    );
    expect(rest.aesHistory).toEqual(full.aesHistory);
    expect(rest.finalK).toEqual(full.finalK);
    expect(rest.usageEma!.usage()).toEqual(full.usageEma!.usage());
    // Every task loss and every aux loss is logged on its own.
    const aux = full.run.records[7].aux;
    expect(Object.keys(aux)).toEqual(
      expect.arrayContaining(['task/category', 'task/coarse', 'task/denoise']),
    );
    expect(Object.keys(aux).some((k) => k.endsWith('/mutualInformation'))).toBe(true);
    expect(full.run.records[3]).toEqual(
      expect.objectContaining({ aes: expect.any(Object), validation: expect.any(Object) }),
    );
    fullModel.dispose();
    resumedModel.dispose();
  });

  it('leaks no tensors over training steps with AES checks, nor in evaluation', async () => {
    const model = tinyModel();
    await expectNoLeakedTensors(async () => {
      await trainMultiTask({
        ...common,
        model,
        data: bench.trainStream(6, 1),
        steps: 2,
        checkpointEvery: undefined,
        aes: { ...common.aes, every: 1 },
      });
    });
    await expectNoLeakedTensors(() => {
      evaluateMultiTask(model, bench.test, { batchSize: 7 });
    });
    model.dispose();
  });
});

it('evaluates the same whatever the batch size, and runs per-task images through one pass', async () => {
  const model = tinyModel();
  const a = evaluateMultiTask(model, bench.test, { batchSize: 20 });
  const b = evaluateMultiTask(model, bench.test, { batchSize: 3 });
  expect(a.category.count).toBe(20);
  for (const task of ['category', 'coarse', 'denoise']) {
    for (const key of ['loss', 'accuracy', 'mae', 'psnr'] as const) {
      if (a[task][key] != null) expect(b[task][key]).toBeCloseTo(a[task][key]!, 4);
    }
  }
  expect(Number.isFinite(a.denoise.psnr)).toBe(true);
  // Per-example scores, for paired statistics: the same at every batch size, and they average to the metric.
  const p = evaluateMultiTask(model, bench.test, { batchSize: 7, perExample: true });
  const q = evaluateMultiTask(model, bench.test, { batchSize: 20, perExample: true });
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  expect(p.category.perExample).toHaveLength(20);
  expect(p.category.perExample!.every((v) => v === 0 || v === 1)).toBe(true);
  expect(mean(p.category.perExample!)).toBeCloseTo(a.category.accuracy!, 10);
  expect(mean(p.denoise.perExample!)).toBeCloseTo(a.denoise.mae!, 5);
  expect(q.denoise.perExample).toEqual(p.denoise.perExample!.map((v) => expect.closeTo(v, 6)));
  expect(a.category.perExample).toBeUndefined();
  const batch = [...bench.test.batches(4)][0];
  const perTask = { images: [0, 1, 2].map(() => batch.images as tf.Tensor4D), targets: batch.targets };
  const out = tf.tidy(() => multiTaskForward(model, perTask, { training: false }).outputs);
  const shared = tf.tidy(() => multiTaskForward(model, batch, { training: false }).outputs);
  expect(out.map((o) => o.shape)).toEqual([
    [4, 10],
    [4, 4],
    [4, 8, 8, 1],
  ]);
  expect(Array.from(out[2].dataSync())).toEqual(
    Array.from(shared[2].dataSync()).map((v) => expect.closeTo(v, 5)),
  );
  tf.dispose([...out, ...shared, batch as never]);
  model.dispose();
});

it('refuses data whose tasks differ from the model, and AES without a validation split', async () => {
  const model = tinyModel();
  const other = fashionMultiTask({
    train: fakeImages(6),
    test: fakeImages(2),
    tasks: ['category'],
    validationPerClass: 1,
  });
  await expect(
    trainMultiTask({ model, data: other.trainStream(4, 0), steps: 1, progress: false }),
  ).rejects.toThrow(/data's tasks \(category\) differ from the model's/);
  await expect(
    trainMultiTask({
      model,
      data: bench.trainStream(4, 0),
      steps: 1,
      progress: false,
      aes: { every: 1, patience: 1 },
    }),
  ).rejects.toThrow(/needs a validation split/);
  model.dispose();
});
