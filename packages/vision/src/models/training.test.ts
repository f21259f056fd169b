import * as tf from '@tensorflow/tfjs';
import { AdamW, Rng, softmaxCrossEntropy, trainStep, useBackend } from '@moevl/core';
import { beforeAll, expect, it } from 'vitest';
import { createViT } from './presets.js';

// Training sanity only, on the fast backend; the layers' numerics are tested on every backend elsewhere.
beforeAll(() => useBackend('wasm'));

/**
 * Two synthetic classes of 16×16 RGB images that no single pixel separates: a brightness ramp running
 * top→bottom (class 0) or left→right (class 1), with a random sign and offset, plus Gaussian noise.
 */
function batch(rng: Rng, n: number): { images: tf.Tensor4D; labels: tf.Tensor1D } {
  const size = 16;
  const data = new Float32Array(n * 3 * size * size);
  const labels = new Int32Array(n);
  for (let b = 0; b < n; b++) {
    const label = b % 2;
    const sign = rng.uniform() < 0.5 ? -1 : 1;
    const offset = rng.uniform() - 0.5;
    labels[b] = label;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const ramp = ((label === 0 ? y : x) / (size - 1)) * 2 - 1;
          data[((b * 3 + c) * size + y) * size + x] = sign * ramp + offset;
        }
  }
  return tf.tidy(() => ({
    images: tf.add(
      tf.tensor4d(data, [n, 3, size, size]),
      rng.normalTensor([n, 3, size, size], 0, 0.3),
    ) as tf.Tensor4D,
    labels: tf.tensor1d(labels, 'int32'),
  }));
}

it('a ti-mini ViT learns to separate two synthetic image classes in a few dozen AdamW steps', () => {
  const model = createViT('ti-mini', { imageSize: 16, numClasses: 2, seed: 0 });
  const optimizer = new AdamW({ lr: 1e-3, weightDecay: 1e-4 });
  const rng = new Rng(1);
  const vars = model.trainableWeights();
  const losses: number[] = [];
  for (let step = 0; step < 30; step++) {
    const { images, labels } = batch(rng, 16);
    const { loss } = trainStep({
      lossFn: () =>
        softmaxCrossEntropy(model.forward(images, { training: true }).logits!, labels) as tf.Scalar,
      vars,
      optimizer,
      clipNorm: 1,
    });
    losses.push(loss);
    tf.dispose([images, labels]);
  }
  const { images, labels } = batch(new Rng(99), 64);
  const accuracy = tf.tidy(() => {
    const logits = model.forward(images).logits!;
    return tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')).dataSync()[0];
  });
  const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
  const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
  expect(last).toBeLessThan(first / 2);
  expect(accuracy).toBeGreaterThanOrEqual(0.95);
  tf.dispose([images, labels]);
  optimizer.dispose();
  model.dispose();
});
