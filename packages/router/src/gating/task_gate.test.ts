import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { MOD_SQUAD_GATE_EPS, TaskGate, type TaskGateArgs } from './task_gate.js';

const D = 3;
const E = 4;

function gate(args: Partial<TaskGateArgs> = {}): TaskGate {
  const g = new TaskGate({ inputDim: D, numExperts: E, numTasks: 2, gate: 'vmoe', seed: 5, ...args });
  g.ensureBuilt();
  return g;
}

function matrix(rows: number, cols: number, seed: number): number[][] {
  return tf.tidy(() => tf.randomNormal([rows, cols], 0, 1, 'float32', seed).arraySync() as number[][]);
}

function matMul(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, i) => s + v * b[i][j], 0)));
}

describeEachBackend('TaskGate', () => {
  it("scores each token with its own task's kernel", () => {
    const g = gate({ numTasks: 3 });
    const kernels = g.kernels.map((k) => k.arraySync() as number[][]);
    expect(Object.keys(g.namedWeights()).sort()).toEqual(['task0/kernel', 'task1/kernel', 'task2/kernel']);
    const xs = matrix(5, D, 1);
    const tasks = [2, 0, 1, 1, 0];
    const x = tf.tensor2d(xs);
    const task = tf.tensor1d(tasks, 'int32');
    const logits = g.logits(x, task).arraySync();
    tasks.forEach((t, s) => {
      const want = matMul([xs[s]], kernels[t])[0];
      want.forEach((v, e) => expect(logits[s][e]).toBeCloseTo(v, 5));
    });
    tf.dispose([x, task]);
    g.dispose();
  });

  it("sends the gradient to exactly the tokens' own tasks' kernels (finite differences)", () => {
    const g = gate({ numTasks: 3 });
    const x = tf.tensor2d(matrix(4, D, 2));
    const task = tf.tensor1d([0, 0, 2, 0], 'int32');
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(g.logits(x, task))), g.kernels);
    const norms = g.kernels.map((k) => tf.tidy(() => tf.sum(tf.abs(grads[k.name])).dataSync()[0]));
    expect(norms[0]).toBeGreaterThan(0);
    expect(norms[1]).toBe(0);
    expect(norms[2]).toBeGreaterThan(0);
    tf.dispose(Object.values(grads));
    const f = (xt: tf.Tensor) => g.probabilities(g.logits(xt as tf.Tensor2D, task));
    expect(checkGradients(f, [x]).maxRelativeError).toBeLessThan(1e-2);
    tf.dispose([x, task]);
    g.dispose();
  });

  it("Mod-Squad's gate starts at zero (uniform routing) and adds 1e-4 to every probability", () => {
    const g = gate({ gate: 'mod-squad' });
    expect(g.kernels.every((k) => Array.from(k.dataSync()).every((v) => v === 0))).toBe(true);
    const x = tf.tensor2d(matrix(2, D, 3));
    const task = tf.tensor1d([0, 1], 'int32');
    const p = g.probabilities(g.logits(x, task)).arraySync();
    for (const row of p) for (const v of row) expect(v).toBeCloseTo(1 / E + MOD_SQUAD_GATE_EPS, 6);
    const v = gate({ gate: 'vmoe' });
    expect(Array.from(v.kernels[0].dataSync()).some((w) => w !== 0)).toBe(true);
    tf.dispose([x, task]);
    g.dispose();
    v.dispose();
  });

  it('with sharedGate gives every task one kernel', () => {
    const g = gate({ sharedGate: true, numTasks: 3 });
    expect(Object.keys(g.namedWeights())).toEqual(['shared/kernel']);
    const xs = matrix(3, D, 4);
    const x = tf.tensor2d([xs[0], xs[0], xs[0]]);
    const task = tf.tensor1d([0, 1, 2], 'int32');
    const l = g.logits(x, task).arraySync();
    expect(l[1]).toEqual(l[0]);
    expect(l[2]).toEqual(l[0]);
    tf.dispose([x, task]);
    g.dispose();
  });

  it("keep() selects the kept experts' columns with their probabilities unchanged", () => {
    const g = gate({ numExperts: 2, gateExperts: 5, keptExperts: [1, 3] });
    expect(g.kernels[0].shape).toEqual([D, 5]);
    const x = tf.tensor2d(matrix(3, D, 5));
    const task = tf.tensor1d([0, 1, 0], 'int32');
    const p = g.probabilities(g.logits(x, task));
    const all = p.arraySync();
    const kept = g.keep(p).arraySync();
    all.forEach((row, s) => {
      expect(kept[s][0]).toBeCloseTo(row[1], 6);
      expect(kept[s][1]).toBeCloseTo(row[3], 6);
    });
    tf.dispose([x, task, p]);
    g.dispose();
  });

  it('leaks no tensors', async () => {
    await expectNoLeakedTensors(() => {
      const g = gate({ numExperts: 2, gateExperts: 4, keptExperts: [0, 2], gate: 'mod-squad' });
      const x = tf.tensor2d(matrix(3, D, 6));
      const task = tf.tensor1d([0, 1, 1], 'int32');
      const out = tf.tidy(() => g.keep(g.probabilities(g.logits(x, task))));
      g.dispose();
      return [x, task, out];
    });
  });

  it('rejects inconsistent gateExperts and keptExperts, naming its owner', () => {
    expect(() => gate({ gateExperts: 3, owner: 'MoEAttention attn_1' })).toThrow(
      'MoEAttention attn_1: gateExperts must be an integer ≥ numExperts = 4, got 3.',
    );
    expect(() => gate({ gateExperts: 6 })).toThrow(/keptExperts must list numExperts = 4/);
    expect(() => gate({ gateExperts: 6, keptExperts: [0, 2, 1, 5] })).toThrow(/strictly increasing/);
    expect(() => gate({ gateExperts: 6, keptExperts: [0, 2, 3, 6] })).toThrow(/strictly increasing/);
  });
});
