import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { cvSquared } from './cv_squared.js';
import { entropy, entropyFromLogits } from './entropy.js';
import { l2Normalize } from './l2_normalize.js';
import { logsumexp } from './logsumexp.js';
import { stopGradient } from './stop_gradient.js';

// Gates from vmoe's routing tests (docs/reference.md §1), used for the golden values below.
const GATES = [
  [0.5, 0.4, 0.1],
  [0.3, 0.3, 0.4],
  [0.1, 0.2, 0.7],
  [0.8, 0.2, 0.0],
];

describeEachBackend('logsumexp', () => {
  it('matches ST-MoE z-loss golden value and survives huge and −∞ inputs', () => {
    // z-loss golden (docs/reference.md §1): mean(lse([[1,2,3],[0,0,0]])²) = 6.409364
    const z = tf.mean(
      tf.square(
        logsumexp(
          tf.tensor2d([
            [1, 2, 3],
            [0, 0, 0],
          ]),
        ),
      ),
    );
    expect(z.dataSync()[0]).toBeCloseTo(6.409364, 5);
    const big = logsumexp(tf.tensor1d([1000, 1000]));
    expect(big.dataSync()[0]).toBeCloseTo(1000 + Math.LN2, 3);
    const g = tf.grad((a: tf.Tensor) => logsumexp(a))(tf.tensor1d([-Infinity, -Infinity]));
    expect(Array.from(g.dataSync())).toEqual([0, 0]);
    tf.dispose([z, big, g]);
  });

  it('has a correct gradient, with keepDims and on axis 0', () => {
    const x = tf.randomNormal([3, 5], 0, 2, 'float32', 12);
    expect(checkGradients((a) => logsumexp(a, -1), [x]).maxRelativeError).toBeLessThan(1e-3);
    expect(checkGradients((a) => logsumexp(a, 0, true), [x]).maxRelativeError).toBeLessThan(1e-3);
    x.dispose();
  });

  it('leaks no tensors', async () => {
    const x = tf.randomNormal([4, 3]);
    await expectNoLeakedTensors(() => tf.grad((a: tf.Tensor) => tf.sum(logsumexp(a)))(x));
    x.dispose();
  });
});

describeEachBackend('entropy', () => {
  it('gives LIMoE local-entropy golden value 0.833617 on the vmoe gates', () => {
    const h = tf.mean(entropy(tf.tensor2d(GATES)));
    expect(h.dataSync()[0]).toBeCloseTo(0.833617, 5);
    h.dispose();
  });

  it('entropyFromLogits equals entropy(softmax)', () => {
    const z = tf.randomNormal([6, 5], 0, 3, 'float32', 13);
    const a = entropyFromLogits(z);
    const b = entropy(tf.softmax(z));
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()).map((v) => expect.closeTo(v, 5)));
    tf.dispose([z, a, b]);
  });

  it('has correct and finite gradients (finite at p = 0)', () => {
    const p = tf.tensor2d([
      [0.2, 0.3, 0.5],
      [0.6, 0.3, 0.1],
    ]);
    // p ln p has a large third derivative at small p, so a smaller step keeps truncation error down.
    expect(checkGradients((a) => entropy(a), [p], { eps: 1e-3 }).maxRelativeError).toBeLessThan(1e-3);
    const z = tf.randomNormal([4, 3], 0, 1, 'float32', 14);
    expect(checkGradients((a) => entropyFromLogits(a), [z]).maxRelativeError).toBeLessThan(1e-3);
    const g0 = tf.grad((a: tf.Tensor) => tf.sum(entropy(a)))(tf.tensor1d([0, 1]));
    expect(Array.from(g0.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([p, z, g0]);
  });

  it('leaks no tensors', async () => {
    const z = tf.randomNormal([4, 3]);
    await expectNoLeakedTensors(() => tf.grad((a: tf.Tensor) => tf.sum(entropyFromLogits(a)))(z));
    const p = tf.softmax(z);
    await expectNoLeakedTensors(() => tf.grad((a: tf.Tensor) => tf.sum(entropy(a)))(p));
    tf.dispose([z, p]);
  });
});

describeEachBackend('l2Normalize', () => {
  it('gives unit rows and leaves a zero row at zero', () => {
    const y = l2Normalize(
      tf.tensor2d([
        [3, 4],
        [0, 0],
      ]),
    );
    expect(y.arraySync()).toEqual([[0.6, 0.8].map(Math.fround), [0, 0]]);
    y.dispose();
  });

  it('has a correct gradient', () => {
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 15);
    expect(checkGradients((a) => l2Normalize(a), [x]).maxRelativeError).toBeLessThan(1e-3);
    expect(checkGradients((a) => l2Normalize(a, 0), [x]).maxRelativeError).toBeLessThan(1e-3);
    x.dispose();
  });

  it('leaks no tensors', async () => {
    const x = tf.randomNormal([4, 3]);
    await expectNoLeakedTensors(() => tf.grad((a: tf.Tensor) => tf.sum(l2Normalize(a)))(x));
    x.dispose();
  });
});

describeEachBackend('cvSquared', () => {
  it('gives the vmoe importance-loss golden value (ddof 0): 0.03875', () => {
    const imp = tf.sum(tf.tensor2d(GATES), 0);
    const v = cvSquared(imp);
    expect(v.dataSync()[0]).toBeCloseTo(0.03875, 6);
    tf.dispose([imp, v]);
  });

  it('has a correct gradient, finite at zero variance (vmoe PR #218)', () => {
    const x = tf.tensor1d([0.7, 1.3, 2.1, 0.4]);
    expect(checkGradients((a) => cvSquared(a), [x]).maxRelativeError).toBeLessThan(1e-3);
    const g = tf.grad((a: tf.Tensor) => cvSquared(a))(tf.tensor1d([0.25, 0.25, 0.25, 0.25]));
    expect(Array.from(g.dataSync())).toEqual([0, 0, 0, 0]);
    tf.dispose([x, g]);
  });

  it('leaks no tensors', async () => {
    const x = tf.tensor1d([1, 2, 3]);
    await expectNoLeakedTensors(() => tf.grad((a: tf.Tensor) => cvSquared(a))(x));
    x.dispose();
  });
});

describeEachBackend('stopGradient', () => {
  it('is the identity forward and blocks the gradient', () => {
    const x = tf.tensor1d([1, 2]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(stopGradient(a), a)))(x);
    expect(Array.from(g.dataSync())).toEqual([1, 2]);
    tf.dispose([x, g]);
  });

  it('leaks no tensors', async () => {
    const x = tf.tensor1d([1, 2]);
    await expectNoLeakedTensors(() => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(stopGradient(a), a)))(x));
    x.dispose();
  });
});
