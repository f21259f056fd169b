import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import {
  VMOE_GATES,
  entropy64,
  expectClose,
  randomGates,
  read,
  weightedColumnMeans,
} from './fixtures.test-util.js';
import { globalEntropyLoss } from './global_entropy.js';

/** Float64 reference: −H(p̄), or max(0, τ − H(p̄)); 0 when the mask keeps no token. */
function global64(gates: number[][], threshold?: number, mask?: number[]): number {
  if (mask != null && mask.every((w) => w === 0)) return 0;
  const h = entropy64(weightedColumnMeans(gates, mask));
  return threshold === undefined ? -h : Math.max(0, threshold - h);
}

describeEachBackend('globalEntropyLoss', () => {
  it('matches the LIMoE global entropy golden value −1.079871 (arXiv 2206.02770, vmoe routing-test gates)', () => {
    const gates = tf.tensor2d(VMOE_GATES);
    expect(Math.abs(read(globalEntropyLoss(gates)) - -1.079871)).toBeLessThan(1e-6);
    gates.dispose();
  });

  it('matches the LIMoE thresholded golden value 0 with τ = ln 2 (arXiv 2206.02770)', () => {
    const gates = tf.tensor2d(VMOE_GATES);
    expect(Math.abs(read(globalEntropyLoss(gates, { threshold: Math.LN2 })))).toBeLessThan(1e-6);
    // With τ = ln 3 the hinge is active: ln 3 − 1.0798706 = 0.0187417.
    expect(Math.abs(read(globalEntropyLoss(gates, { threshold: Math.log(3) })) - 0.0187417)).toBeLessThan(
      1e-6,
    );
    gates.dispose();
  });

  it('matches a float64 reference on random gates, with and without a threshold', () => {
    for (const [S, E, seed] of [
      [16, 4, 41],
      [50, 8, 42],
      [6, 32, 43],
    ]) {
      // Skewed gates (one expert favoured for every token) so p̄ is far from uniform.
      const g = randomGates(S, E, seed, 2).map((row) => {
        const skew = row.map((x, e) => x * (e === 0 ? 8 : 1));
        const z = skew.reduce((a, b) => a + b, 0);
        return skew.map((x) => x / z);
      });
      const gates = tf.tensor2d(g);
      expectClose(read(globalEntropyLoss(gates)), global64(g));
      const tau = 0.9 * Math.log(E);
      expectClose(read(globalEntropyLoss(gates, { threshold: tau })), global64(g, tau));
      gates.dispose();
    }
  });

  it('uses only masked-in tokens; an empty mask gives 0, also with a threshold', () => {
    const g = randomGates(8, 4, 44);
    const mask = [1, 1, 0, 1, 0, 0, 1, 1];
    const gates = tf.tensor2d(g);
    const m = tf.tensor1d(mask);
    const none = tf.zeros([8]) as tf.Tensor1D;
    expectClose(read(globalEntropyLoss(gates, { mask: m })), global64(g, undefined, mask));
    expectClose(read(globalEntropyLoss(gates, { mask: m, threshold: 1.3 })), global64(g, 1.3, mask));
    expect(read(globalEntropyLoss(gates, { mask: none }))).toBeCloseTo(0, 7);
    expect(read(globalEntropyLoss(gates, { mask: none, threshold: 1.3 }))).toBe(0);
    tf.dispose([gates, m, none]);
  });

  it('has the gradient finite differences give, plain and thresholded (active hinge)', () => {
    const g = randomGates(5, 4, 45, 0.8);
    const gates = tf.tensor2d(g);
    const tau = Math.log(4);
    expect(global64(g, tau)).toBeGreaterThan(0.01);
    for (const threshold of [undefined, tau]) {
      const f = (x: tf.Tensor) => globalEntropyLoss(x as tf.Tensor2D, { threshold });
      expect(checkGradients(f, [gates]).maxRelativeError).toBeLessThan(1e-3);
    }
    gates.dispose();
  });

  it('leaks no tensors, forward and backward', async () => {
    const gates = tf.tensor2d(randomGates(5, 4, 46));
    const mask = tf.tensor1d([1, 1, 0, 1, 1]);
    await expectNoLeakedTensors(() =>
      tf.grad((x: tf.Tensor) => globalEntropyLoss(x as tf.Tensor2D, { mask, threshold: 1 }))(gates),
    );
    tf.dispose([gates, mask]);
  });

  it('rejects bad input with the function name and the problem', () => {
    const vec = tf.tensor1d([0.5, 0.5]);
    const nan = tf.tensor2d([[0.5, NaN]]);
    const gates = tf.tensor2d(VMOE_GATES);
    expect(() => globalEntropyLoss(vec as unknown as tf.Tensor2D)).toThrow(
      /globalEntropyLoss: gates must be 2-D/,
    );
    expect(() => globalEntropyLoss(nan)).toThrow('globalEntropyLoss: gates contain NaN');
    expect(() => globalEntropyLoss(gates, { threshold: -1 })).toThrow(/globalEntropyLoss: threshold must be/);
    expect(() => globalEntropyLoss(gates, { threshold: NaN })).toThrow(
      /globalEntropyLoss: threshold must be/,
    );
    tf.dispose([vec, nan, gates]);
  });
});
