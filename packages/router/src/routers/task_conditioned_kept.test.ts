import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { mutualInformationLoss } from '../losses/mutual_information.js';
import type { RouterContext, SparseRoutingResult } from './contract.js';
import { type TaskConditionedRouter, taskConditionedRouter } from './task_conditioned.js';

const D = 3;

function make(options: Record<string, unknown>): TaskConditionedRouter {
  return taskConditionedRouter.create(taskConditionedRouter.validateOptions({ inputDim: D, ...options }));
}

function assign(router: TaskConditionedRouter, path: string, values: number[][]): void {
  const v = tf.tensor2d(values);
  router.namedWeights()[path].assign(v);
  v.dispose();
}

function arrays(r: SparseRoutingResult) {
  return {
    index: r.expertIndex.arraySync() as number[][],
    position: r.position.arraySync() as number[][],
    weight: r.combineWeights.arraySync() as number[][],
    gates: r.gates.arraySync() as number[][],
  };
}

function dispose(r: SparseRoutingResult): void {
  tf.dispose([r.gates, r.expertIndex, r.position, r.combineWeights, ...Object.values(r.auxLosses)]);
}

const KERNEL = [
  [2, 0, -1, 0.5, 0.3],
  [0, 1.5, 0.5, -1, 1.2],
  [-1, 0.5, 2.5, 0, -0.4],
];
const X = [
  [1, 0.2, -0.3],
  [0.4, 1, 0.1],
  [-0.2, 0.3, 1],
  [1, -0.5, 0.2],
];

describeEachBackend('taskConditionedRouter sharedGate and keptExperts', () => {
  it('sharedGate: one kernel scores every task, while each task keeps its own k and MI share', () => {
    const router = make({ gate: 'mod-squad', numExperts: 5, k: [1, 2], sharedGate: true, miWeight: 1 });
    expect(Object.keys(router.namedWeights())).toEqual(['gate/shared/kernel']);
    expect(router.namedWeights()['gate/shared/kernel'].shape).toEqual([3, 5]);
    assign(router, 'gate/shared/kernel', KERNEL);
    // The same token under task 0 and task 1: identical gates, but k = 1 vs k = 2 choices kept.
    const x = tf.tensor2d([X[0], X[0], X[1], X[1]]);
    const task = tf.tensor1d([0, 1, 0, 1], 'int32');
    const r = router.route(x, { training: false, task });
    const a = arrays(r);
    expect(a.gates[1]).toEqual(a.gates[0]);
    expect(a.gates[3]).toEqual(a.gates[2]);
    expect(a.position[0][1]).toBe(-1);
    expect(a.weight[0][1]).toBe(0);
    expect(a.position[1][1]).toBeGreaterThanOrEqual(0);
    expect(a.weight[1][1]).toBeCloseTo(a.gates[1][a.index[1][1]], 6);
    // MI from each task's own soft gate mass: A[t] = Σ over task t's tokens of p.
    const rows = [a.gates[0].map((p, e) => p + a.gates[2][e]), a.gates[1].map((p, e) => p + a.gates[3][e])];
    const expected = tf.tidy(() => mutualInformationLoss(tf.tensor2d(rows), 4).dataSync()[0]);
    expect(r.auxLosses.mutualInformation.dataSync()[0]).toBeCloseTo(expected, 6);
    expect(router.getOptions().sharedGate).toBe(true);
    dispose(r);
    tf.dispose([x, task]);
    router.dispose();
  });

  it('keptExperts: gates equal the full gate’s columns (Mod-Squad softmax over all experts, not renormalised)', () => {
    const full = make({ gate: 'mod-squad', numExperts: 5, numTasks: 1, k: 2, evalCapacityFactor: 100 });
    const kept = make({
      gate: 'mod-squad',
      numExperts: 3,
      gateExperts: 5,
      keptExperts: [0, 2, 4],
      numTasks: 1,
      k: 2,
      evalCapacityFactor: 100,
    });
    expect(kept.namedWeights()['gate/task0/kernel'].shape).toEqual([3, 5]);
    assign(full, 'gate/task0/kernel', KERNEL);
    assign(kept, 'gate/task0/kernel', KERNEL);
    const x = tf.tensor2d(X);
    const ctx: RouterContext = { training: false, task: tf.tensor1d([0, 0, 0, 0], 'int32') };
    const rf = full.route(x, ctx);
    const rk = kept.route(x, ctx);
    const [f, k] = [arrays(rf), arrays(rk)];
    const ids = [0, 2, 4];
    for (let s = 0; s < X.length; s++) {
      // Hand-computed: softmax over the 5 logits, + 1e-4, columns 0, 2, 4.
      const logits = KERNEL[0].map((_, e) => X[s].reduce((acc, v, d) => acc + v * KERNEL[d][e], 0));
      const z = logits.reduce((acc, l) => acc + Math.exp(l), 0);
      const p = logits.map((l) => Math.exp(l) / z + 1e-4);
      ids.forEach((e, i) => expect(k.gates[s][i]).toBeCloseTo(p[e], 6));
      // Top-2 among the kept experts only, reported as slots; weights are the full model's p.
      const order = ids.map((e, i) => [p[e], i]).sort((u, v) => v[0] - u[0]);
      expect(k.index[s]).toEqual([order[0][1], order[1][1]]);
      expect(k.weight[s][0]).toBeCloseTo(p[ids[order[0][1]]], 6);
      expect(k.weight[s][1]).toBeCloseTo(p[ids[order[1][1]]], 6);
      // Where the full model's choices were all kept experts, the extracted router makes the same ones.
      if (f.index[s].every((e) => ids.includes(e))) {
        expect(k.index[s].map((i) => ids[i])).toEqual(f.index[s]);
        expect(k.weight[s]).toEqual(f.weight[s]);
      }
    }
    // Token 0 chooses experts 0 and 4 in the full model (all kept); token 1 chooses 1, which is not kept.
    expect(f.index[0]).toEqual([0, 4]);
    expect(f.index[1][0]).toBe(1);
    expect(kept.getOptions()).toMatchObject({ gateExperts: 5, keptExperts: [0, 2, 4], numExperts: 3 });
    [rf, rk].forEach(dispose);
    tf.dispose([x, ctx.task as tf.Tensor]);
    full.dispose();
    kept.dispose();
  });

  it('keptExperts with noise and losses: finite-difference gradients, no leaks', async () => {
    const router = make({
      gate: 'vmoe',
      numExperts: 3,
      gateExperts: 5,
      keptExperts: [1, 2, 4],
      numTasks: 2,
      k: [1, 2],
      miWeight: 1,
    });
    assign(router, 'gate/task0/kernel', KERNEL);
    assign(
      router,
      'gate/task1/kernel',
      KERNEL.map((row) => row.map((v) => -v)),
    );
    const x = tf.tensor2d(X);
    const ctx: RouterContext = { training: false, task: tf.tensor1d([0, 1, 0, 1], 'int32') };
    const w = tf.tensor2d([
      [0.7, -1.3],
      [1.1, 0.4],
      [-0.6, 0.9],
      [1.4, -0.8],
    ]);
    const combine = checkGradients(
      (xi) => tf.sum(tf.mul(router.route(xi as tf.Tensor2D, ctx).combineWeights, w)),
      [x],
    );
    expect(combine.maxRelativeError).toBeLessThan(1e-3);
    expect(Math.max(...combine.analytic[0].map(Math.abs))).toBeGreaterThan(1e-2);
    const mi = checkGradients((xi) => router.route(xi as tf.Tensor2D, ctx).auxLosses.mutualInformation, [x]);
    expect(mi.maxRelativeError).toBeLessThan(1e-3);
    const train: RouterContext = { ...ctx, training: true };
    await expectNoLeakedTensors(() => {
      const r = router.route(x, train);
      expect(Object.keys(r.auxLosses).sort()).toEqual(['importance', 'load', 'mutualInformation']);
      dispose(r);
    });
    tf.dispose([x, w, ctx.task as tf.Tensor]);
    router.dispose();
  });
});
