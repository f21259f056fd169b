import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { VMOE_GATES, randomGates } from './fixtures.test-util.js';
import { mutualInformationLoss } from './mutual_information.js';
import { taskGateSums } from './task_gate_sums.js';

/** Float64 reference: A[t, e] = Σ_{s : task[s] = t} mask[s] · gates[s, e]. */
function sums64(gates: number[][], task: number[], numTasks: number, mask?: number[]): number[][] {
  const out = Array.from({ length: numTasks }, () => new Array<number>(gates[0].length).fill(0));
  gates.forEach((row, s) => row.forEach((g, e) => (out[task[s]][e] += (mask ? mask[s] : 1) * g)));
  return out;
}

function expectMatrixClose(actual: tf.Tensor, expected: number[][], tol = 1e-6): void {
  const values = Array.from(actual.dataSync());
  expect(actual.shape).toEqual([expected.length, expected[0].length]);
  expect(values).toEqual(expected.flat().map((v) => expect.closeTo(v, -Math.log10(tol))));
  actual.dispose();
}

describeEachBackend('taskGateSums', () => {
  it('sums the gates of each task (Mod-Squad A[t, e])', () => {
    const gates = tf.tensor2d(VMOE_GATES);
    const task = tf.tensor1d([0, 1, 1, 0], 'int32');
    expectMatrixClose(taskGateSums(gates, task, 2), [
      [1.3, 0.6, 0.1],
      [0.4, 0.5, 1.1],
    ]);
    // A task with no tokens gets a zero row.
    expectMatrixClose(taskGateSums(gates, task, 3), [
      [1.3, 0.6, 0.1],
      [0.4, 0.5, 1.1],
      [0, 0, 0],
    ]);
    tf.dispose([gates, task]);
  });

  it('matches a float64 reference on random gates, with a mask', () => {
    const g = randomGates(20, 6, 61);
    const t = g.map((_, s) => (s * 7) % 3);
    const mask = g.map((_, s) => (s % 5 === 4 ? 0 : 1));
    const gates = tf.tensor2d(g);
    const task = tf.tensor1d(t, 'int32');
    const m = tf.tensor1d(mask);
    expectMatrixClose(taskGateSums(gates, task, 3), sums64(g, t, 3), 1e-5);
    expectMatrixClose(taskGateSums(gates, task, 3, m), sums64(g, t, 3, mask), 1e-5);
    tf.dispose([gates, task, m]);
  });

  it('has the gradient finite differences give, alone and through the mutual-information loss', () => {
    const gates = tf.tensor2d(randomGates(8, 4, 62));
    const task = tf.tensor1d([0, 1, 0, 1, 1, 0, 1, 0], 'int32');
    const mask = tf.tensor1d([1, 1, 1, 0, 1, 1, 1, 1]);
    const sumsOnly = (x: tf.Tensor) => taskGateSums(x as tf.Tensor2D, task, 2, mask);
    const mi = (x: tf.Tensor) => mutualInformationLoss(taskGateSums(x as tf.Tensor2D, task, 2, mask), 7);
    expect(checkGradients(sumsOnly, [gates]).maxRelativeError).toBeLessThan(1e-3);
    expect(checkGradients(mi, [gates]).maxRelativeError).toBeLessThan(1e-3);
    tf.dispose([gates, task, mask]);
  });

  it('leaks no tensors, forward and backward', async () => {
    const gates = tf.tensor2d(randomGates(6, 4, 63));
    const task = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');
    await expectNoLeakedTensors(() =>
      tf.grad((x: tf.Tensor) => mutualInformationLoss(taskGateSums(x as tf.Tensor2D, task, 3), 6))(gates),
    );
    tf.dispose([gates, task]);
  });

  it('rejects bad input with the function name and the problem', () => {
    const gates = tf.tensor2d(VMOE_GATES);
    const nan = tf.tensor2d([[NaN, 1]]);
    const task = tf.tensor1d([0, 1, 1, 0], 'int32');
    const outOfRange = tf.tensor1d([0, 1, 2, 0], 'int32');
    const floats = tf.tensor1d([0, 1, 1, 0]);
    const short = tf.tensor1d([0, 1], 'int32');
    const one = tf.tensor1d([0], 'int32');
    expect(() => taskGateSums(gates, outOfRange, 2)).toThrow(
      /taskGateSums: task\[2\] = 2 is outside \[0, 2\)/,
    );
    expect(() => taskGateSums(gates, floats as tf.Tensor1D, 2)).toThrow(/taskGateSums: task must be int32/);
    expect(() => taskGateSums(gates, short, 2)).toThrow(/taskGateSums: task must be 1-D of length 4/);
    expect(() => taskGateSums(gates, task, 0)).toThrow(/taskGateSums: numTasks must be a positive integer/);
    expect(() => taskGateSums(nan, one, 1)).toThrow('taskGateSums: gates contain NaN');
    tf.dispose([gates, nan, task, outOfRange, floats, short, one]);
  });
});
