import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { cv2_64, erf64, expectClose, randomMatrix, read, weightedColumnMeans } from './fixtures.test-util.js';
import { loadLoss } from './load.js';

// vmoe/nn/routing_test.py: clean logits, a fixed noise draw, σ = 0.1, k = 2 → 0.485738645.
const LOGITS = [
  [0.9, 0.06, 0.04],
  [0.7, 0.18, 0.12],
  [0.85, 0.05, 0.1],
];
const NOISE = [
  [-0.037, 0.026, -0.018],
  [-0.074, 0.045, -0.015],
  [-0.067, -0.059, 0.073],
];
const NOISY = LOGITS.map((row, s) => row.map((x, e) => x + NOISE[s][e]));

/** Float64 reference of the V-MoE load loss; σ = noiseStd / E. */
function load64(clean: number[][], noisy: number[][], k: number, noiseStd: number, mask?: number[]): number {
  const E = clean[0].length;
  const sigma = noiseStd / E;
  const p = clean.map((row, s) => {
    // k-th largest noisy logit, ties to the lower index.
    const order = noisy[s].map((_, e) => e).sort((a, b) => noisy[s][b] - noisy[s][a] || a - b);
    const threshold = noisy[s][order[k - 1]];
    return row.map((x) => 1 - 0.5 * (1 + erf64((threshold - x) / sigma / Math.SQRT2)));
  });
  return cv2_64(weightedColumnMeans(p, mask));
}

function randomPair(S: number, E: number, seed: number, noiseScale: number): [number[][], number[][]] {
  const clean = randomMatrix(S, E, seed);
  const noise = randomMatrix(S, E, seed + 1000, noiseScale);
  return [clean, clean.map((row, s) => row.map((x, e) => x + noise[s][e]))];
}

describeEachBackend('loadLoss', () => {
  it('matches the vmoe golden value 0.485738645 (vmoe/nn/routing.py _load_auxiliary_loss test)', () => {
    // vmoe derived the golden in float32; the float64 formula lands 1.7e-7 from it (their test: places=6).
    expect(Math.abs(load64(LOGITS, NOISY, 2, 0.3) - 0.485738645)).toBeLessThan(1e-6);
    const clean = tf.tensor2d(LOGITS);
    const noisy = tf.tensor2d(NOISY);
    expect(Math.abs(read(loadLoss(clean, noisy, { k: 2, noiseStd: 0.3 })) - 0.485738645)).toBeLessThan(1e-6);
    tf.dispose([clean, noisy]);
  });

  it('matches a float64 reference on random logits', () => {
    for (const [S, E, k, noiseStd, seed] of [
      [16, 4, 1, 4, 1],
      [32, 8, 2, 8, 2],
      [9, 6, 6, 3, 3],
      [20, 16, 4, 1, 4],
    ]) {
      const [c, n] = randomPair(S, E, seed, noiseStd / E);
      const clean = tf.tensor2d(c);
      const noisy = tf.tensor2d(n);
      expectClose(read(loadLoss(clean, noisy, { k, noiseStd })), load64(c, n, k, noiseStd), 1e-4);
      tf.dispose([clean, noisy]);
    }
  });

  it('leaves masked-out tokens out of the mean over tokens', () => {
    const [c, n] = randomPair(8, 4, 5, 1);
    const mask = [1, 0, 1, 1, 0, 1, 1, 1];
    const clean = tf.tensor2d(c);
    const noisy = tf.tensor2d(n);
    const m = tf.tensor1d(mask);
    const keptClean = tf.tensor2d(c.filter((_, s) => mask[s] === 1));
    const keptNoisy = tf.tensor2d(n.filter((_, s) => mask[s] === 1));
    const masked = read(loadLoss(clean, noisy, { k: 2, noiseStd: 4, mask: m }));
    expectClose(masked, load64(c, n, 2, 4, mask), 1e-4);
    expectClose(masked, read(loadLoss(keptClean, keptNoisy, { k: 2, noiseStd: 4 })), 1e-5);
    tf.dispose([clean, noisy, m, keptClean, keptNoisy]);
  });

  it('has the gradient finite differences give, for clean and noisy logits', () => {
    // The golden inputs: every k-th and (k+1)-th noisy logit differ by > 0.06, far from a tie at ±eps.
    const clean = tf.tensor2d(LOGITS);
    const noisy = tf.tensor2d(NOISY);
    const f = (c: tf.Tensor, n: tf.Tensor) =>
      loadLoss(c as tf.Tensor2D, n as tf.Tensor2D, { k: 2, noiseStd: 0.3 });
    // σ = 0.1 makes the loss curve on a 0.1 scale: a smaller step keeps the truncation error small.
    const { maxRelativeError, analytic } = checkGradients(f, [clean, noisy], { eps: 1e-3 });
    expect(maxRelativeError).toBeLessThan(1e-3);
    // vmoe: the threshold takes gradient from the noisy logit it selects.
    expect(analytic[1].some((v) => Math.abs(v) > 1e-3)).toBe(true);
    tf.dispose([clean, noisy]);
  });

  it('has the gradient finite differences give on random logits', () => {
    const [c, n] = randomPair(6, 4, 6, 0.1);
    const clean = tf.tensor2d(c);
    const noisy = tf.tensor2d(n);
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      loadLoss(a as tf.Tensor2D, b as tf.Tensor2D, { k: 2, noiseStd: 4 });
    expect(checkGradients(f, [clean, noisy], { eps: 1e-3 }).maxRelativeError).toBeLessThan(1e-3);
    tf.dispose([clean, noisy]);
  });

  it('leaks no tensors, forward and backward', async () => {
    const clean = tf.tensor2d(LOGITS);
    const noisy = tf.tensor2d(NOISY);
    const mask = tf.tensor1d([1, 1, 0]);
    await expectNoLeakedTensors(() =>
      tf.grads((c: tf.Tensor, n: tf.Tensor) =>
        loadLoss(c as tf.Tensor2D, n as tf.Tensor2D, { k: 2, noiseStd: 0.3, mask }),
      )([clean, noisy]),
    );
    tf.dispose([clean, noisy, mask]);
  });

  it('rejects bad input with the function name and the problem', () => {
    const clean = tf.tensor2d(LOGITS);
    const noisy = tf.tensor2d(NOISY);
    const other = tf.tensor2d([[0.1, 0.2, 0.3]]);
    const nan = tf.tensor2d([
      [0.1, NaN, 0.3],
      [0.1, 0.2, 0.3],
      [0.1, 0.2, 0.3],
    ]);
    const vec = tf.tensor1d([0.1, 0.2, 0.3]);
    const opts = { k: 2, noiseStd: 0.3 };
    expect(() => loadLoss(clean, other, opts)).toThrow(
      /loadLoss: cleanLogits \[3,3\] and noisyLogits \[1,3\]/,
    );
    expect(() => loadLoss(clean, noisy, { k: 4, noiseStd: 0.3 })).toThrow(
      /loadLoss: k must be an integer in \[1, 3\]/,
    );
    expect(() => loadLoss(clean, noisy, { k: 0, noiseStd: 0.3 })).toThrow(/loadLoss: k must be/);
    expect(() => loadLoss(clean, noisy, { k: 2, noiseStd: 0 })).toThrow(/loadLoss: noiseStd must be/);
    expect(() => loadLoss(clean, nan, opts)).toThrow('loadLoss: noisyLogits contain NaN');
    expect(() => loadLoss(nan, noisy, opts)).toThrow('loadLoss: cleanLogits contain NaN');
    expect(() => loadLoss(vec as unknown as tf.Tensor2D, noisy, opts)).toThrow(
      /loadLoss: cleanLogits must be 2-D/,
    );
    tf.dispose([clean, noisy, other, nan, vec]);
  });
});
