import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { VMOE_GATES, expectClose, randomGates, read } from './fixtures.test-util.js';
import { gshardLoss } from './gshard.js';

/** Float64 reference: E · Σ_e f_e P_e over kept tokens, top-1 ties to the lower index. */
function gshard64(gates: number[][], mask?: number[]): number {
  const E = gates[0].length;
  const w = mask ?? gates.map(() => 1);
  const n = w.reduce((a, b) => a + b, 0);
  const f = new Array<number>(E).fill(0);
  const P = new Array<number>(E).fill(0);
  gates.forEach((row, s) => {
    let best = 0;
    for (let e = 1; e < E; e++) if (row[e] > row[best]) best = e;
    f[best] += w[s] / n;
    row.forEach((g, e) => (P[e] += (w[s] * g) / n));
  });
  return E * f.reduce((a, fe, e) => a + fe * P[e], 0);
}

describeEachBackend('gshardLoss', () => {
  it('matches the golden value 1.0875 on the vmoe routing-test gates (GShard / Switch, vmoe/nn/routing.py)', () => {
    expect(gshard64(VMOE_GATES)).toBeCloseTo(1.0875, 12);
    const gates = tf.tensor2d(VMOE_GATES);
    expect(Math.abs(read(gshardLoss(gates)) - 1.0875)).toBeLessThan(1e-6);
    gates.dispose();
  });

  it('matches a float64 reference on random gates', () => {
    for (const [S, E, seed] of [
      [16, 4, 11],
      [64, 8, 12],
      [5, 32, 13],
    ]) {
      const g = randomGates(S, E, seed);
      const gates = tf.tensor2d(g);
      expectClose(read(gshardLoss(gates)), gshard64(g));
      gates.dispose();
    }
  });

  it('gives tied top-1 gates to the lower expert index', () => {
    // Both tokens tie experts 1 and 2: f = [0, 1, 0], P = [0.2, 0.4, 0.4] → 3 · 0.4 = 1.2.
    const gates = tf.tensor2d([
      [0.2, 0.4, 0.4],
      [0.2, 0.4, 0.4],
    ]);
    expect(read(gshardLoss(gates))).toBeCloseTo(1.2, 6);
    gates.dispose();
  });

  it('is 1 under uniform routing, whatever the number of experts', () => {
    const gates = tf.fill([8, 8], 1 / 8) as tf.Tensor2D;
    expect(read(gshardLoss(gates))).toBeCloseTo(1, 6);
    gates.dispose();
  });

  it('leaves masked-out tokens out of f and P', () => {
    const g = randomGates(9, 4, 14);
    const mask = [1, 1, 0, 0, 1, 1, 1, 0, 1];
    const gates = tf.tensor2d(g);
    const m = tf.tensor1d(mask);
    const kept = tf.tensor2d(g.filter((_, s) => mask[s] === 1));
    const masked = read(gshardLoss(gates, { mask: m }));
    expectClose(masked, gshard64(g, mask));
    expectClose(masked, read(gshardLoss(kept)));
    tf.dispose([gates, m, kept]);
  });

  it('has the gradient finite differences give (through P; f is a constant)', () => {
    // The golden gates: every top-1 wins by ≥ 0.1, so a 0.01 step never changes f.
    const gates = tf.tensor2d(VMOE_GATES);
    expect(checkGradients((x) => gshardLoss(x as tf.Tensor2D), [gates]).maxRelativeError).toBeLessThan(1e-3);
    // ∂L/∂gates[s, e] = E · f_e / S = 3 · [0.5, 0, 0.5] / 4 on every row.
    const grad = tf.grad((x: tf.Tensor) => gshardLoss(x as tf.Tensor2D))(gates);
    const expected = VMOE_GATES.flatMap(() => [0.375, 0, 0.375]);
    expect(Array.from(grad.dataSync())).toEqual(expected.map((v) => expect.closeTo(v, 6)));
    tf.dispose([gates, grad]);
  });

  it('leaks no tensors, forward and backward', async () => {
    const gates = tf.tensor2d(randomGates(6, 4, 15));
    const mask = tf.tensor1d([1, 1, 1, 0, 1, 1]);
    await expectNoLeakedTensors(() =>
      tf.grad((x: tf.Tensor) => gshardLoss(x as tf.Tensor2D, { mask }))(gates),
    );
    tf.dispose([gates, mask]);
  });

  it('rejects bad input with the function name and the problem', () => {
    const rank3 = tf.zeros([2, 2, 2]);
    const nan = tf.tensor2d([[NaN, 1]]);
    const gates = tf.tensor2d(VMOE_GATES);
    const mask2d = tf.ones([4, 1]);
    expect(() => gshardLoss(rank3 as tf.Tensor2D)).toThrow(/gshardLoss: gates must be 2-D .* rank 3/);
    expect(() => gshardLoss(nan)).toThrow('gshardLoss: gates contain NaN');
    expect(() => gshardLoss(gates, { mask: mask2d as tf.Tensor1D })).toThrow(/gshardLoss: mask must be 1-D/);
    tf.dispose([rank3, nan, gates, mask2d]);
  });
});
