import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { VMOE_GATES, entropy64, expectClose, randomGates, read, weightedMean } from './fixtures.test-util.js';
import { localEntropyLoss } from './local_entropy.js';

describeEachBackend('localEntropyLoss', () => {
  it('matches the LIMoE local entropy golden value 0.833617 (arXiv 2206.02770, vmoe routing-test gates)', () => {
    const gates = tf.tensor2d(VMOE_GATES);
    expect(Math.abs(read(localEntropyLoss(gates)) - 0.833617)).toBeLessThan(1e-6);
    gates.dispose();
  });

  it('matches a float64 reference on random gates', () => {
    for (const [S, E, seed] of [
      [16, 4, 31],
      [50, 8, 32],
      [6, 32, 33],
    ]) {
      const g = randomGates(S, E, seed, 3);
      const gates = tf.tensor2d(g);
      expectClose(read(localEntropyLoss(gates)), weightedMean(g.map(entropy64)));
      gates.dispose();
    }
  });

  it('is 0 for one-hot routing and ln E for uniform routing', () => {
    const oneHot = tf.tensor2d([
      [1, 0, 0, 0],
      [0, 0, 1, 0],
    ]);
    const uniform = tf.fill([3, 4], 0.25) as tf.Tensor2D;
    expect(read(localEntropyLoss(oneHot))).toBeCloseTo(0, 7);
    expect(read(localEntropyLoss(uniform))).toBeCloseTo(Math.log(4), 6);
    tf.dispose([oneHot, uniform]);
  });

  it('averages over the masked-in tokens only; an empty mask gives 0', () => {
    const g = randomGates(8, 4, 34);
    const mask = [0, 1, 1, 0, 1, 0, 0, 1];
    const gates = tf.tensor2d(g);
    const m = tf.tensor1d(mask);
    const none = tf.zeros([8]) as tf.Tensor1D;
    expectClose(read(localEntropyLoss(gates, { mask: m })), weightedMean(g.map(entropy64), mask));
    const empty = localEntropyLoss(gates, { mask: none });
    const grad = tf.grad((x: tf.Tensor) => localEntropyLoss(x as tf.Tensor2D, { mask: none }))(gates);
    expect(read(empty)).toBe(0);
    expect(Array.from(grad.dataSync()).every((v) => v === 0)).toBe(true);
    tf.dispose([gates, m, none, grad]);
  });

  it('has the gradient finite differences give', () => {
    // Random softmax gates are > 0.01 everywhere: no step crosses the p = 0 floor of the log. −p ln p
    // curves like 1/p, so a 1e-3 step keeps the central difference's truncation error small.
    const gates = tf.tensor2d(randomGates(5, 4, 35, 0.8));
    const { maxRelativeError } = checkGradients((x) => localEntropyLoss(x as tf.Tensor2D), [gates], {
      eps: 1e-3,
    });
    expect(maxRelativeError).toBeLessThan(1e-3);
    gates.dispose();
  });

  it('leaks no tensors, forward and backward', async () => {
    const gates = tf.tensor2d(randomGates(5, 4, 36));
    const mask = tf.tensor1d([1, 0, 1, 1, 1]);
    await expectNoLeakedTensors(() =>
      tf.grad((x: tf.Tensor) => localEntropyLoss(x as tf.Tensor2D, { mask }))(gates),
    );
    tf.dispose([gates, mask]);
  });

  it('rejects bad input with the function name and the problem', () => {
    const vec = tf.tensor1d([0.5, 0.5]);
    const nan = tf.tensor2d([[0.5, NaN]]);
    const gates = tf.tensor2d(VMOE_GATES);
    const badMask = tf.tensor1d([1, -1, 1, 1]);
    expect(() => localEntropyLoss(vec as unknown as tf.Tensor2D)).toThrow(
      /localEntropyLoss: gates must be 2-D/,
    );
    expect(() => localEntropyLoss(nan)).toThrow('localEntropyLoss: gates contain NaN');
    expect(() => localEntropyLoss(gates, { mask: badMask })).toThrow(
      /localEntropyLoss: mask must be finite and ≥ 0/,
    );
    tf.dispose([vec, nan, gates, badMask]);
  });
});
