import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { gelu } from './gelu.js';

// Reference values computed independently in float64: x·Φ(x) with Φ via Math-based erf series is not in
// the JS standard library, so use known values of torch.nn.functional.gelu (PyTorch docs, exact and tanh).
const X = [-3, -1, -0.5, 0, 0.5, 1, 3];
const EXACT = [-0.00404969, -0.15865525, -0.15426877, 0, 0.34573123, 0.84134475, 2.99595031];
const TANH = [-0.00363752, -0.15880801, -0.15428599, 0, 0.34571401, 0.84119199, 2.99636248];

describeEachBackend('gelu', () => {
  it('matches PyTorch gelu (exact erf and tanh approximation)', () => {
    const x = tf.tensor1d(X);
    const exact = Array.from(gelu(x).dataSync());
    const tanh = Array.from(gelu(x, 'tanh').dataSync());
    exact.forEach((v, i) => expect(v).toBeCloseTo(EXACT[i], 5));
    tanh.forEach((v, i) => expect(v).toBeCloseTo(TANH[i], 5));
    x.dispose();
  });

  it('has correct gradients for both forms', () => {
    const x = tf.randomNormal([4, 5], 0, 1.5, 'float32', 21);
    expect(checkGradients((a) => gelu(a), [x]).maxRelativeError).toBeLessThan(1e-3);
    expect(checkGradients((a) => gelu(a, 'tanh'), [x]).maxRelativeError).toBeLessThan(1e-3);
    x.dispose();
  });

  it('rejects an unknown approximation', () => {
    const x = tf.zeros([1]);
    expect(() => gelu(x, 'erf' as never)).toThrow(/approximate must be 'none' or 'tanh'/);
    x.dispose();
  });

  it('leaks no tensors', async () => {
    const x = tf.randomNormal([3, 3]);
    await expectNoLeakedTensors(() => tf.grad((a: tf.Tensor) => tf.sum(gelu(a)))(x));
    await expectNoLeakedTensors(() => tf.grad((a: tf.Tensor) => tf.sum(gelu(a, 'tanh')))(x));
    x.dispose();
  });
});
