import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { FASHION_COARSE_OF_CLASS } from './coarse_labels.js';
import { type GrayscaleImages, fashionMultiTask, splitLastPerClass } from './fashion_multi_task.js';
import type { MultiTaskBatch } from './multi_task_data.js';

/** `perClass` random 6×6 images per class, grouped by class like `loadFashionMnist` returns them. */
function fakeImages(perClass: number, salt = 0): GrayscaleImages {
  const count = 10 * perClass;
  const images = new Uint8Array(count * 36);
  for (let i = 0; i < images.length; i++) images[i] = (i * 37 + salt * 11) % 256;
  const labels = Int32Array.from({ length: count }, (_, i) => Math.floor(i / perClass));
  return { images, labels, count, height: 6, width: 6 };
}

async function read(batch: MultiTaskBatch) {
  const out = {
    images: Array.from(await (batch.images as tf.Tensor).data()),
    targets: await Promise.all(batch.targets.map(async (t) => Array.from(await t.data()))),
  };
  tf.dispose(batch as unknown as tf.TensorContainer);
  return out;
}

describe('fashionMultiTask', () => {
  const train = fakeImages(12);
  const test = fakeImages(3, 1);

  it('holds out the last images of each class as validation, disjoint from train', () => {
    const bench = fashionMultiTask({ train, test, validationPerClass: 2 });
    expect(bench.validationIndices).toHaveLength(20);
    expect(bench.trainIndices).toHaveLength(100);
    const overlap = bench.trainIndices.filter((i) => bench.validationIndices.includes(i));
    expect(overlap).toEqual([]);
    expect(bench.validationIndices.slice(0, 2)).toEqual([10, 11]);
    expect(bench.test.count).toBe(30);
    expect(() => splitLastPerClass(train.labels, 12)).toThrow(/validationPerClass/);
  });

  it('gives each task its target: labels, coarse groups, and dense [B,H,W,1] maps', async () => {
    const bench = fashionMultiTask({ train, test, validationPerClass: 2, noiseStd: 0 });
    expect(bench.taskSpecs.map((s) => s.name)).toEqual(['category', 'coarse', 'edges', 'denoise']);
    const [batch] = [...bench.validation.batches(4)];
    expect((batch.images as tf.Tensor).shape).toEqual([4, 6, 6, 1]);
    expect(batch.targets.map((t) => t.shape)).toEqual([[4], [4], [4, 6, 6, 1], [4, 6, 6, 1]]);
    const got = await read(batch);
    expect(got.targets[0]).toEqual([0, 0, 1, 1]);
    expect(got.targets[1]).toEqual([0, 0, 1, 1].map((c) => FASHION_COARSE_OF_CLASS[c]));
    // No noise: the input is the clean target, normalised.
    expect(got.images[5]).toBeCloseTo((got.targets[3][5] - 0.286) / 0.353, 5);
  });

  it('has fixed evaluation noise whatever the batch size', async () => {
    const bench = fashionMultiTask({ train, test, tasks: ['denoise'], validationPerClass: 2, seed: 3 });
    const big = await read([...bench.test.batches(30)][0]);
    const small = await Promise.all([...bench.test.batches(7)].map(read));
    expect(small.flatMap((b) => b.images)).toEqual(big.images);
    const again = fashionMultiTask({ train, test, tasks: ['denoise'], validationPerClass: 2, seed: 3 });
    expect((await read([...again.test.batches(30)][0])).images).toEqual(big.images);
  });

  it('resumes the training stream exactly (order and fresh noise)', async () => {
    const bench = fashionMultiTask({ train, test, tasks: ['category', 'denoise'], validationPerClass: 2 });
    const a = bench.trainStream(8, 5);
    await read(a.next());
    const state = JSON.parse(JSON.stringify(a.getState()));
    const expected = [await read(a.next()), await read(a.next())];
    const b = bench.trainStream(8, 5);
    b.setState(state);
    expect([await read(b.next()), await read(b.next())]).toEqual(expected);
    // Fresh noise: the same image drawn twice gets different inputs.
    expect(expected[0].images).not.toEqual(expected[1].images);
    expect(() => b.setState({})).toThrow(/malformed state/);
  });

  it('names the unknown task', () => {
    expect(() => fashionMultiTask({ train, test, tasks: ['colour' as never] })).toThrow(
      /Unknown Fashion-MNIST task "colour"/,
    );
  });
});
