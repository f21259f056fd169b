import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { layerNorm } from './layer_norm.js';

// float64 reference: (x − mean)/√(biased var + ε)·γ + β per row.
function reference(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  d: number,
  eps: number,
): number[] {
  const out: number[] = [];
  for (let r = 0; r < x.length / d; r++) {
    const row = Array.from(x.subarray(r * d, (r + 1) * d));
    const mean = row.reduce((a, b) => a + b, 0) / d;
    const v = row.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
    row.forEach((xi, i) => out.push(((xi - mean) / Math.sqrt(v + eps)) * gamma[i] + beta[i]));
  }
  return out;
}

describeEachBackend('layerNorm', () => {
  it('normalises the last axis with the biased variance (torch.nn.LayerNorm)', () => {
    const x = tf.randomNormal([2, 3, 5], 1, 2, 'float32', 1);
    const gamma = tf.randomNormal([5], 1, 0.5, 'float32', 2);
    const beta = tf.randomNormal([5], 0, 0.5, 'float32', 3);
    for (const eps of [1e-6, 1e-5, 0.5]) {
      const y = layerNorm(x, gamma, beta, eps);
      const want = reference(
        x.dataSync() as Float32Array,
        gamma.dataSync() as Float32Array,
        beta.dataSync() as Float32Array,
        5,
        eps,
      );
      Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
      y.dispose();
    }
    tf.dispose([x, gamma, beta]);
  });

  it('has correct gradients in x, gamma and beta', () => {
    const x = tf.randomNormal([4, 6], 0, 1, 'float32', 4);
    const gamma = tf.randomNormal([6], 1, 0.5, 'float32', 5);
    const beta = tf.randomNormal([6], 0, 0.5, 'float32', 6);
    const r = checkGradients((a, g, b) => layerNorm(a, g, b, 1e-5), [x, gamma, beta]);
    expect(r.maxRelativeError).toBeLessThan(1e-3);
    tf.dispose([x, gamma, beta]);
  });

  it('matches LayerNorm composed from tfjs ops, values and gradients, to 1e-5', () => {
    const x = tf.randomNormal([8, 10, 16], 0.5, 2, 'float32', 7);
    const gamma = tf.randomNormal([16], 1, 0.3, 'float32', 8);
    const beta = tf.randomNormal([16], 0, 0.3, 'float32', 9);
    const dy = tf.randomNormal([8, 10, 16], 0, 1, 'float32', 10);
    const composed = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const mean = tf.mean(a, -1, true);
      const c = tf.sub(a, mean);
      const n = tf.mul(c, tf.rsqrt(tf.add(tf.mean(tf.square(c), -1, true), 1e-6)));
      return tf.add(tf.mul(n, g), b);
    };
    const grads = (f: typeof composed) =>
      tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, g, b), dy)))([
        x,
        gamma,
        beta,
      ]);
    const fused = grads((a, g, b) => layerNorm(a, g, b));
    const want = grads(composed);
    const close = (p: tf.Tensor, q: tf.Tensor) =>
      expect(tf.max(tf.abs(tf.sub(p, q))).dataSync()[0]).toBeLessThan(
        1e-5 * Math.max(1, tf.max(tf.abs(q)).dataSync()[0]),
      );
    close(layerNorm(x, gamma, beta), composed(x, gamma, beta));
    fused.forEach((g, i) => close(g, want[i]));
    tf.dispose([x, gamma, beta, dy, ...fused, ...want]);
  });

  it('rejects gains that do not match the last axis', () => {
    const x = tf.zeros([2, 4]);
    expect(() => layerNorm(x, tf.ones([3]), tf.zeros([4]))).toThrow(/must be \[4\]/);
    expect(() => layerNorm(x, tf.ones([4]), tf.zeros([4]), -1)).toThrow(/epsilon/);
    x.dispose();
  });

  it('leaks no tensors', async () => {
    const x = tf.randomNormal([3, 4]);
    const gamma = tf.ones([4]);
    const beta = tf.zeros([4]);
    await expectNoLeakedTensors(() => layerNorm(x, gamma, beta));
    await expectNoLeakedTensors(() =>
      tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(layerNorm(a, g, b)))([x, gamma, beta]),
    );
    tf.dispose([x, gamma, beta]);
  });
});
