import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { biasGelu } from './bias_gelu.js';

// float64 references: erf by Simpson's rule on its integral (error < 1e-12 on these ranges), GELU as
// x·Φ(x) and the tanh form as written in PyTorch's docs.
function erf64(x: number): number {
  const n = 2000;
  const h = x / n;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return ((2 / Math.sqrt(Math.PI)) * s * h) / 3;
}
const gelu64 = (u: number) => 0.5 * u * (1 + erf64(u / Math.SQRT2));
const geluTanh64 = (u: number) => 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3)));

function reference(x: tf.Tensor, bias: tf.Tensor, f: (u: number) => number): number[] {
  const xs = x.dataSync();
  const bs = bias.dataSync();
  const [h] = bias.shape.slice(-1);
  const perExpert = bias.rank === 3;
  const c = x.shape[x.rank - 2];
  return Array.from(xs, (v, i) => {
    const j = i % h;
    const e = Math.floor(i / (c * h));
    return f(v + bs[perExpert ? e * h + j : j]);
  });
}

describeEachBackend('biasGelu', () => {
  const x = () => tf.randomNormal([3, 5, 7], 0, 1.5, 'float32', 3);

  it('is gelu(x + bias) for a [D] bias and a per-expert [E, 1, D] bias, exact and tanh forms', () => {
    const xs = x();
    for (const bias of [
      tf.randomNormal([7], 0, 1, 'float32', 4),
      tf.randomNormal([3, 1, 7], 0, 1, 'float32', 5),
    ]) {
      const exact = Array.from(biasGelu(xs, bias).dataSync());
      const tanh = Array.from(biasGelu(xs, bias, 'tanh').dataSync());
      reference(xs, bias, gelu64).forEach((v, i) => expect(exact[i]).toBeCloseTo(v, 6));
      reference(xs, bias, geluTanh64).forEach((v, i) => expect(tanh[i]).toBeCloseTo(v, 6));
      bias.dispose();
    }
    xs.dispose();
  });

  it('has correct gradients in x and in the bias', () => {
    const xs = x();
    for (const bias of [
      tf.randomNormal([7], 0, 1, 'float32', 6),
      tf.randomNormal([3, 1, 7], 0, 1, 'float32', 7),
    ]) {
      for (const approximate of ['none', 'tanh'] as const) {
        const r = checkGradients((a, b) => biasGelu(a, b, approximate), [xs, bias]);
        expect(r.maxRelativeError).toBeLessThan(1e-3);
      }
      bias.dispose();
    }
    xs.dispose();
  });

  it('matches gelu composed from tfjs ops, forward and backward, to 1e-6', () => {
    const xs = x();
    const bias = tf.randomNormal([7], 0, 1, 'float32', 8);
    const dy = tf.randomNormal([3, 5, 7], 0, 1, 'float32', 9);
    const composed = (a: tf.Tensor, b: tf.Tensor) => {
      const u = tf.add(a, b);
      return tf.mul(u, tf.mul(tf.add(tf.erf(tf.mul(u, Math.SQRT1_2)), 1), 0.5));
    };
    const [gx, gb] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(biasGelu(a, b), dy)))([xs, bias]);
    const [cx, cb] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(composed(a, b), dy)))([xs, bias]);
    const close = (p: tf.Tensor, q: tf.Tensor) =>
      expect(tf.max(tf.abs(tf.sub(p, q))).dataSync()[0]).toBeLessThan(
        1e-6 * Math.max(1, tf.max(tf.abs(q)).dataSync()[0]),
      );
    close(biasGelu(xs, bias), composed(xs, bias));
    close(gx, cx);
    close(gb, cb);
    tf.dispose([xs, bias, dy, gx, gb, cx, cb]);
  });

  it('rejects a bias that does not broadcast as a bias, and non-float input', () => {
    const xs = tf.zeros([2, 3, 4]);
    expect(() => biasGelu(xs, tf.zeros([3]))).toThrow(/bias \[3\] must be \[4\]/);
    expect(() => biasGelu(xs, tf.zeros([2, 3, 1]))).toThrow(/must be \[4\]/);
    expect(() => biasGelu(xs, tf.zeros([4]), 'erf' as never)).toThrow(/approximate must be 'none' or 'tanh'/);
    expect(() => biasGelu(tf.zeros([2, 4], 'int32'), tf.zeros([4]))).toThrow(/float32/);
    xs.dispose();
  });

  it('leaks no tensors', async () => {
    const xs = tf.randomNormal([4, 6]);
    const bias = tf.randomNormal([6]);
    await expectNoLeakedTensors(() => biasGelu(xs, bias));
    await expectNoLeakedTensors(() =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(biasGelu(a, b, 'tanh')))([xs, bias]),
    );
    tf.dispose([xs, bias]);
  });
});
