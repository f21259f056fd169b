import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { importanceLoss } from '../losses/importance.js';
import { mutualInformationLoss } from '../losses/mutual_information.js';
import type { RouterContext, SparseRoutingResult } from './contract.js';
import { type TaskConditionedRouter, taskConditionedRouter } from './task_conditioned.js';

const D = 3;
const E = 4;

function make(options: Record<string, unknown>): TaskConditionedRouter {
  return taskConditionedRouter.create(
    taskConditionedRouter.validateOptions({ inputDim: D, numExperts: E, ...options }),
  );
}

/** Sets task t's gate kernel (the tests' way to give tasks distinct, known gates). */
function setKernel(router: TaskConditionedRouter, t: number, values: number[][]): void {
  const v = tf.tensor2d(values);
  router.namedWeights()[`gate/task${t}/kernel`].assign(v);
  v.dispose();
}

function randomKernel(seed: number, scale = 1): number[][] {
  return tf.tidy(() => tf.randomNormal([D, E], 0, scale, 'float32', seed).arraySync() as number[][]);
}

function ctxFor(taskIds: number[], extra: Partial<RouterContext> = {}): RouterContext {
  return { training: false, task: tf.tensor1d(taskIds, 'int32'), numTasks: 2, ...extra };
}

function read(r: SparseRoutingResult) {
  return {
    index: r.expertIndex.arraySync() as number[][],
    position: r.position.arraySync() as number[][],
    weight: r.combineWeights.arraySync() as number[][],
    gates: r.gates.arraySync() as number[][],
  };
}

function disposeAll(r: SparseRoutingResult, ctx?: RouterContext): void {
  tf.dispose([r.gates, r.expertIndex, r.position, r.combineWeights, ...Object.values(r.auxLosses)]);
  tf.dispose([ctx?.task, ctx?.mask].filter((t) => t != null));
}

/** Literal K-major reference with each token's own k_t: a choice j ≥ k_t or of a masked token takes no slot. */
function referencePositions(
  index: number[][],
  gates: number[][],
  task: number[],
  k: number[],
  C: number,
  mask: number[],
  batchPriority: boolean,
): number[][] {
  const K = index[0].length;
  const order = task.map((_, s) => s).filter((s) => mask[s] !== 0);
  if (batchPriority) order.sort((a, b) => Math.max(...gates[b]) - Math.max(...gates[a]));
  const pos = index.map((row) => row.map(() => -1));
  const count = new Array<number>(E).fill(0);
  for (let j = 0; j < K; j++) {
    for (const s of order) {
      if (j >= k[task[s]]) continue;
      const e = index[s][j];
      if (count[e] < C) pos[s][j] = count[e]++;
    }
  }
  return pos;
}

describeEachBackend('taskConditionedRouter', () => {
  it('Mod-Squad zero init: uniform gates 1/E + 1e-4, lowest experts chosen, weights not renormalised', () => {
    const router = make({ gate: 'mod-squad', numTasks: 2, k: [2, 3] });
    const x = tf.randomNormal([6, D], 0, 1, 'float32', 1) as tf.Tensor2D;
    const ctx = ctxFor([0, 1, 0, 1, 0, 1]);
    const r = router.route(x, ctx);
    const { index, position, weight, gates } = read(r);
    const u = 1 / E + 1e-4;
    for (const row of gates) for (const g of row) expect(g).toBeCloseTo(u, 6);
    for (let s = 0; s < 6; s++) {
      const k = s % 2 === 0 ? 2 : 3;
      expect(index[s].slice(0, k)).toEqual([0, 1, 2].slice(0, k));
      weight[s].forEach((w, j) => expect(w).toBeCloseTo(j < k ? u : 0, 6));
      position[s].forEach((p, j) => expect(p >= 0).toBe(j < k));
    }
    expect(Object.keys(r.auxLosses)).toEqual(['mutualInformation']);
    // Uniform routing carries no information about the task: MI ≈ 0 up to the 1e-4 smoothing constants
    // (vs −ln 2 for disjoint experts), times the default weight 0.005.
    expect(Math.abs(r.auxLosses.mutualInformation.dataSync()[0])).toBeLessThan(0.005 * 2e-3);
    disposeAll(r, ctx);
    x.dispose();
    router.dispose();
  });

  it('routes every token with its own task gate', () => {
    const router = make({ numTasks: 2, k: 1 });
    setKernel(router, 0, [
      [3, 1, 0, -1],
      [3, 1, 0, -1],
      [3, 1, 0, -1],
    ]);
    setKernel(router, 1, [
      [-1, 0, 1, 3],
      [-1, 0, 1, 3],
      [-1, 0, 1, 3],
    ]);
    const x = tf.tensor2d([
      [1, 1, 1],
      [1, 1, 1],
      [0.5, 0.2, 0.1],
      [0.5, 0.2, 0.1],
    ]);
    const task = [0, 1, 0, 1];
    const ctx = ctxFor(task);
    const r = router.route(x, ctx);
    const { index, gates } = read(r);
    expect(index.map((row) => row[0])).toEqual([0, 3, 0, 3]);
    const kernels = router.namedWeights();
    const expected = tf.tidy(() =>
      task.map((t, s) => {
        const xs = tf.slice(x, [s, 0], [1, D]);
        return (tf.softmax(tf.matMul(xs, kernels[`gate/task${t}/kernel`])).arraySync() as number[][])[0];
      }),
    );
    gates.forEach((row, s) => row.forEach((g, e) => expect(g).toBeCloseTo(expected[s][e], 6)));
    // Tokens of task 1 only: the gradient reaches task 1's kernel and leaves task 0's at exactly 0.
    const only1 = ctxFor([1, 1, 1, 1]);
    const grads = tf.tidy(() => {
      const { grads: g } = tf.variableGrads(() => tf.sum(router.route(x, only1).combineWeights));
      return Object.fromEntries(
        Object.entries(g).map(([name, t]) => [name, tf.max(tf.abs(t)).dataSync()[0]]),
      );
    });
    const [k0, k1] = Object.values(kernels).map((v) => grads[v.name]);
    expect(k0).toBe(0);
    expect(k1).toBeGreaterThan(1e-3);
    tf.dispose(only1.task as tf.Tensor);
    disposeAll(r, ctx);
    x.dispose();
    router.dispose();
  });

  it('keeps each task’s own k (a k=1 task never keeps a second choice) and reports kPerTask', () => {
    const router = make({ numTasks: 2, k: [1, 3] });
    const x = tf.randomNormal([10, D], 0, 1, 'float32', 2) as tf.Tensor2D;
    const task = [0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
    const ctx = ctxFor(task);
    const r = router.route(x, ctx);
    const { position, weight } = read(r);
    expect(r.expertIndex.shape).toEqual([10, 3]);
    task.forEach((t, s) => {
      const k = t === 0 ? 1 : 3;
      position[s].forEach((p, j) => expect(p >= 0).toBe(j < k));
      weight[s].forEach((w, j) => expect(w > 0).toBe(j < k));
    });
    expect(r.metrics.kPerTask).toEqual([1, 3]);
    expect(r.metrics.routingSuccessRate).toBe(1);
    expect(r.metrics.routingSuccessRateByTask).toEqual([1, 1]);
    const usage = r.metrics.expertTaskUsage as number[][];
    expect(usage.map((row) => row.reduce((a, b) => a + b, 0))).toEqual([6, 12]);
    disposeAll(r, ctx);
    x.dispose();
    router.dispose();
  });

  it('setTaskK changes routing and getOptions, and validates its arguments', () => {
    const router = make({ numTasks: 2, k: [1, 3], kMax: 3 });
    const before = router.getOptions();
    router.setTaskK(0, 2);
    expect(router.getTaskK(0)).toBe(2);
    expect(router.getOptions().k).toEqual([2, 3]);
    expect(before.k).toEqual([1, 3]);
    const x = tf.randomNormal([4, D], 0, 1, 'float32', 3) as tf.Tensor2D;
    const ctx = ctxFor([0, 0, 0, 0]);
    const r = router.route(x, ctx);
    // Only task 0 is present, but K is still max_t k_t = 3.
    expect(read(r).position.map((row) => row.map((p) => p >= 0))).toEqual(
      Array.from({ length: 4 }, () => [true, true, false]),
    );
    expect(r.metrics.kPerTask).toEqual([2, 3]);
    expect(() => router.setTaskK(0, 0)).toThrow(/router "task-conditioned": setTaskK: k must be .*\[1, 3\]/);
    expect(() => router.setTaskK(0, 4)).toThrow(/min\(kMax, numExperts\)/);
    expect(() => router.setTaskK(2, 1)).toThrow(
      /router "task-conditioned": task must be an integer in \[0, 2\)/,
    );
    expect(() => router.getTaskK(-1)).toThrow(/task must be/);
    disposeAll(r, ctx);
    x.dispose();
    router.dispose();
  });

  for (const batchPriority of [false, true]) {
    it(`positions: K-major over all tasks, capacity never exceeded, weight 0 iff dropped (BPR ${batchPriority})`, () => {
      const k = [1, 3];
      const router = make({ numTasks: 2, k, evalCapacityFactor: 0.5, batchPriority });
      const S = 24;
      const x = tf.randomNormal([S, D], 0, 2, 'float32', 4) as tf.Tensor2D;
      const task = Array.from({ length: S }, (_, s) => ((s * 7) % 3 === 0 ? 0 : 1));
      const mask = Array.from({ length: S }, (_, s) => (s % 5 === 4 ? 0 : 1));
      const ctx = ctxFor(task, { mask: tf.tensor1d(mask) });
      const r = router.route(x, ctx);
      const { index, position, weight, gates } = read(r);
      const C = r.capacity;
      expect(C).toBe(12); // ceil(24·3·0.5/4) = 9, rounded up to a multiple of 4.
      expect(position).toEqual(referencePositions(index, gates, task, k, C, mask, batchPriority));
      const used = new Set<string>();
      position.forEach((row, s) =>
        row.forEach((p, j) => {
          expect(index[s][j] >= 0 && index[s][j] < E).toBe(true);
          expect(weight[s][j] === 0).toBe(p === -1);
          if (p === -1) return;
          expect(p).toBeLessThan(C);
          expect(weight[s][j]).toBeCloseTo(gates[s][index[s][j]], 6);
          const key = `${index[s][j]}:${p}`;
          expect(used.has(key)).toBe(false);
          used.add(key);
        }),
      );
      mask.forEach((m, s) => m === 0 && expect(position[s]).toEqual([-1, -1, -1]));
      expect(r.metrics.routingSuccessRate as number).toBeLessThan(1);
      disposeAll(r, ctx);
      x.dispose();
      router.dispose();
    });
  }

  it('training with noise: capacity holds, importance/load per task, no leaked tensors', async () => {
    const router = make({ numTasks: 3, k: [2, 1, 3], capacityFactor: 0.75, zLossWeight: 1e-4 });
    const x = tf.randomNormal([16, D], 0, 1, 'float32', 5) as tf.Tensor2D;
    const task = Array.from({ length: 16 }, (_, s) => (s % 2) * 2); // task 1 absent
    const ctx = ctxFor(task, {
      training: true,
      numTasks: 3,
      mask: tf.tensor1d(task.map((_, s) => (s < 14 ? 1 : 0))),
    });
    const r = router.route(x, ctx);
    expect(Object.keys(r.auxLosses).sort()).toEqual(['importance', 'load', 'z']);
    const { index, position } = read(r);
    const perExpert = new Array<number>(E).fill(0);
    position.forEach((row, s) => row.forEach((p, j) => p >= 0 && perExpert[index[s][j]]++));
    perExpert.forEach((n) => expect(n).toBeLessThanOrEqual(r.capacity));
    // importance = 5e-3 · mean over the tasks present (0 and 2) of each task's own importance loss.
    const expected = tf.tidy(() => {
      const mask = (t: number) => tf.tensor1d(task.map((id, s) => (id === t && s < 14 ? 1 : 0)));
      const per = [0, 2].map((t) => importanceLoss(r.gates, { mask: mask(t) }).dataSync()[0]);
      return (5e-3 * (per[0] + per[1])) / 2;
    });
    expect(r.auxLosses.importance.dataSync()[0]).toBeCloseTo(expected, 8);
    disposeAll(r);
    await expectNoLeakedTensors(() => {
      const out = router.route(x, ctx);
      return [out.gates, out.expertIndex, out.position, out.combineWeights, ...Object.values(out.auxLosses)];
    });
    const modSquad = make({ gate: 'mod-squad', numTasks: 3, k: [2, 1, 3], zLossWeight: 1e-4 });
    await expectNoLeakedTensors(() => {
      const out = modSquad.route(x, ctx);
      return [out.gates, out.expertIndex, out.position, out.combineWeights, ...Object.values(out.auxLosses)];
    });
    tf.dispose([x, ctx.task, ctx.mask].filter((t) => t != null));
    router.dispose();
    modSquad.dispose();
  });

  it('mutualInformation equals mutualInformationLoss on hand-built taskGateSums of the real tokens', () => {
    const router = make({ gate: 'mod-squad', numTasks: 2, k: 2 });
    setKernel(router, 0, randomKernel(10));
    setKernel(router, 1, randomKernel(11));
    const x = tf.randomNormal([9, D], 0, 1, 'float32', 6) as tf.Tensor2D;
    const task = [0, 0, 1, 1, 0, 1, 1, 0, 1];
    const mask = [1, 1, 1, 0, 1, 1, 1, 0, 1];
    const ctx = ctxFor(task, { mask: tf.tensor1d(mask) });
    const r = router.route(x, ctx);
    const { gates } = read(r);
    const sums = [new Array<number>(E).fill(0), new Array<number>(E).fill(0)];
    gates.forEach((row, s) => mask[s] && row.forEach((g, e) => (sums[task[s]][e] += g)));
    const expected = tf.tidy(() => mutualInformationLoss(tf.tensor2d(sums), 7).dataSync()[0]);
    expect(r.auxLosses.mutualInformation.dataSync()[0]).toBeCloseTo(0.005 * expected, 9);
    expect(expected).toBeLessThan(0);
    disposeAll(r, ctx);
    x.dispose();
    router.dispose();
  });

  it('gradients of Σ combineWeights·w and of the MI loss w.r.t. x match finite differences', () => {
    const tasks = [0, 1, 0, 1, 1];
    for (const gate of ['vmoe', 'mod-squad'] as const) {
      const router = make({ gate, numTasks: 2, k: [1, 2], miWeight: 1 });
      setKernel(router, 0, [
        [2, 0, -1, 0.5],
        [0, 1.5, 0.5, -1],
        [-1, 0.5, 2.5, 0],
      ]);
      setKernel(router, 1, [
        [0.5, -1, 0, 2],
        [1.5, 0, -1, 0.5],
        [0, 2, 1, -0.5],
      ]);
      const x = tf.tensor2d([
        [1, 0.2, -0.3],
        [0.4, 1, 0.1],
        [-0.2, 0.3, 1],
        [1, -0.5, 0.2],
        [0.1, 0.9, -0.6],
      ]);
      const ctx = ctxFor(tasks);
      // Well separated: the gap between a token's k-th and (k+1)-th gate is far above the FD step's effect.
      const probe = router.route(x, ctx);
      const { gates } = read(probe);
      gates.forEach((row, s) => {
        const sorted = [...row].sort((a, b) => b - a);
        expect(sorted[tasks[s] === 0 ? 0 : 1] - sorted[tasks[s] === 0 ? 1 : 2]).toBeGreaterThan(0.05);
      });
      disposeAll(probe);
      const w = tf.tensor2d([
        [0.7, -1.3],
        [1.1, 0.4],
        [-0.6, 0.9],
        [1.4, -0.8],
        [0.3, 1.2],
      ]);
      const combine = checkGradients(
        (xi) => tf.sum(tf.mul(router.route(xi as tf.Tensor2D, ctx).combineWeights, w)),
        [x],
      );
      expect(combine.maxRelativeError).toBeLessThan(1e-3);
      expect(Math.max(...combine.analytic[0].map(Math.abs))).toBeGreaterThan(1e-2);
      if (gate === 'mod-squad') {
        const mi = checkGradients(
          (xi) => router.route(xi as tf.Tensor2D, ctx).auxLosses.mutualInformation,
          [x],
        );
        expect(mi.maxRelativeError).toBeLessThan(1e-3);
        expect(Math.max(...mi.analytic[0].map(Math.abs))).toBeGreaterThan(1e-4);
      }
      tf.dispose([x, w, ctx.task].filter((t) => t != null));
      router.dispose();
    }
  });
});
