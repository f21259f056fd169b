import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { VMOE_GATES, cv2_64, expectClose, randomGates, read } from './fixtures.test-util.js';
import { importanceLoss } from './importance.js';

/** Float64 reference: CV² (ddof 0) of the per-expert gate sums over kept tokens. */
function importance64(gates: number[][], mask?: number[]): number {
  const w = mask ?? gates.map(() => 1);
  return cv2_64(gates[0].map((_, e) => gates.reduce((a, row, s) => a + w[s] * row[e], 0)));
}

describeEachBackend('importanceLoss', () => {
  it('matches the vmoe golden value 0.03875 (vmoe/nn/routing.py _importance_auxiliary_loss, ddof 0)', () => {
    const gates = tf.tensor2d(VMOE_GATES);
    expect(Math.abs(read(importanceLoss(gates)) - 0.03875)).toBeLessThan(1e-6);
    gates.dispose();
  });

  it('matches a float64 reference on random gates', () => {
    for (const [S, E, seed] of [
      [16, 4, 1],
      [50, 8, 2],
      [7, 32, 3],
    ]) {
      const g = randomGates(S, E, seed);
      const gates = tf.tensor2d(g);
      expectClose(read(importanceLoss(gates)), importance64(g));
      gates.dispose();
    }
  });

  it('is 0 for perfectly balanced gates, with a finite gradient (vmoe PR #218)', () => {
    const gates = tf.fill([6, 4], 0.25) as tf.Tensor2D;
    expect(read(importanceLoss(gates))).toBeCloseTo(0, 7);
    const g = tf.grad((x: tf.Tensor) => importanceLoss(x as tf.Tensor2D))(gates);
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([gates, g]);
  });

  it('leaves masked-out tokens out of the importance', () => {
    const g = randomGates(10, 5, 4);
    const mask = [1, 1, 0, 1, 0, 1, 1, 1, 0, 1];
    const gates = tf.tensor2d(g);
    const m = tf.tensor1d(mask);
    const kept = tf.tensor2d(g.filter((_, s) => mask[s] === 1));
    const masked = read(importanceLoss(gates, { mask: m }));
    expectClose(masked, importance64(g, mask));
    expectClose(masked, read(importanceLoss(kept)));
    const none = tf.zeros([10]) as tf.Tensor1D;
    expect(read(importanceLoss(gates, { mask: none }))).toBe(0);
    tf.dispose([gates, m, kept, none]);
  });

  it('has the gradient finite differences give', () => {
    const gates = tf.tensor2d(randomGates(6, 4, 5));
    const { maxRelativeError } = checkGradients((x) => importanceLoss(x as tf.Tensor2D), [gates]);
    expect(maxRelativeError).toBeLessThan(1e-3);
    gates.dispose();
  });

  it('leaks no tensors, forward and backward', async () => {
    const gates = tf.tensor2d(randomGates(6, 4, 6));
    const mask = tf.tensor1d([1, 0, 1, 1, 1, 0]);
    await expectNoLeakedTensors(() =>
      tf.grad((x: tf.Tensor) => importanceLoss(x as tf.Tensor2D, { mask }))(gates),
    );
    tf.dispose([gates, mask]);
  });

  it('rejects bad input with the function name and the problem', () => {
    const vec = tf.tensor1d([0.5, 0.5]);
    const nan = tf.tensor2d([
      [0.5, NaN],
      [0.2, 0.8],
    ]);
    const gates = tf.tensor2d(VMOE_GATES);
    const shortMask = tf.tensor1d([1, 1]);
    expect(() => importanceLoss(vec as unknown as tf.Tensor2D)).toThrow(/importanceLoss: gates must be 2-D/);
    expect(() => importanceLoss(nan)).toThrow('importanceLoss: gates contain NaN');
    expect(() => importanceLoss(gates, { mask: shortMask })).toThrow(
      /importanceLoss: mask must be 1-D of length 4/,
    );
    tf.dispose([vec, nan, gates, shortMask]);
  });
});
