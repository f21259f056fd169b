import * as tf from '@tensorflow/tfjs';
import { describeEachBackend } from '@moevl/core/testing';
import { describe, expect, it } from 'vitest';
import type { RouterContext, SparseRoutingResult } from './contract.js';
import { isTaskConditionedRouter, taskConditionedRouter } from './task_conditioned.js';

const base = { inputDim: 3, numExperts: 4 };
const validate = (options: Record<string, unknown>) =>
  taskConditionedRouter.validateOptions({ ...base, ...options });

describe('taskConditionedRouter.validateOptions', () => {
  it('fills the AdaMV (vmoe) defaults', () => {
    expect(validate({ numTasks: 2 })).toEqual({
      ...base,
      seed: 0,
      gate: 'vmoe',
      numTasks: 2,
      k: [2, 2],
      kMax: 8,
      capacityFactor: 1.25,
      evalCapacityFactor: 4,
      noiseStd: 1,
      batchPriority: false,
      capacityMultipleOf: 4,
      miWeight: 0,
      importanceWeight: 5e-3,
      loadWeight: 5e-3,
      zLossWeight: 0,
      sharedGate: false,
      gateExperts: 4,
      keptExperts: null,
    });
  });

  it('fills the Mod-Squad defaults and takes numTasks from a per-task k', () => {
    const o = validate({ gate: 'mod-squad', k: [1, 3, 4] });
    expect(o).toMatchObject({ numTasks: 3, k: [1, 3, 4], miWeight: 0.005, noiseStd: 0 });
    expect(o).toMatchObject({ importanceWeight: 0, loadWeight: 0, zLossWeight: 0 });
    expect(validate({ numTasks: 2, k: 3 }).k).toEqual([3, 3]);
    expect(validate({ numExperts: 1, numTasks: 1 }).k).toEqual([1]);
  });

  it('rejects bad options with messages that name the router and the option', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ numTasks: 2, topK: 2 }, /router "task-conditioned": unknown option topK/],
      [{ k: 2 }, /router "task-conditioned": option numTasks must be an integer .*\(required\)/],
      [{ numTasks: 0 }, /option numTasks must be an integer ≥ 1, got 0/],
      [{ numTasks: 2, k: [1, 5] }, /router "task-conditioned": option k must be .*\[1, 4\].*got \[1,5\]/],
      [{ numTasks: 2, k: [1, 2, 3] }, /option k must be .*numTasks = 2/],
      [{ numTasks: 2, k: 1.5 }, /option k must be/],
      [{ numTasks: 2, k: 3, kMax: 2 }, /option k must be an integer in \[1, 2\] \(min\(kMax, numExperts\)\)/],
      [{ numTasks: 2, kMax: 0 }, /option kMax must be an integer/],
      [{ numTasks: 2, gate: 'soft' }, /option gate must be one of mod-squad, vmoe, got "soft"/],
      [{ numTasks: 2, capacityFactor: 0 }, /option capacityFactor must be a finite number > 0/],
      [{ numTasks: 2, miWeight: -1 }, /option miWeight must be a finite number ≥ 0/],
      [{ numTasks: 2, batchPriority: 'yes' }, /option batchPriority must be true or false/],
      [{ numTasks: 2, inputDim: undefined }, /option inputDim must be an integer .*\(required\)/],
      [{ numTasks: 2, sharedGate: 1 }, /option sharedGate must be true or false/],
      [{ numTasks: 2, gateExperts: 3 }, /option gateExperts must be an integer ≥ 4/],
      [
        { numTasks: 2, gateExperts: 6 },
        /option keptExperts must be given when gateExperts \(6\) > numExperts \(4\)/,
      ],
      [
        { numTasks: 2, gateExperts: 6, keptExperts: [0, 1, 2] },
        /option keptExperts must be .*numExperts = 4/,
      ],
      [{ numTasks: 2, gateExperts: 6, keptExperts: [0, 2, 2, 5] }, /strictly increasing/],
      [{ numTasks: 2, gateExperts: 6, keptExperts: [0, 1, 2, 6] }, /\[0, gateExperts = 6\), got \[0,1,2,6\]/],
      [{ numTasks: 2, keptExperts: [0, 1, 2, 3.5] }, /option keptExperts must be/],
    ];
    for (const [options, message] of bad) expect(() => validate(options)).toThrow(message);
  });

  it('accepts kept experts of a larger gate and copies the list', () => {
    const kept = [0, 2, 3, 7];
    const o = validate({ numTasks: 1, gateExperts: 8, keptExperts: kept });
    kept[0] = 1;
    expect(o).toMatchObject({ gateExperts: 8, keptExperts: [0, 2, 3, 7] });
    expect(validate({ numTasks: 1, keptExperts: [0, 1, 2, 3] }).keptExperts).toEqual([0, 1, 2, 3]);
  });

  it('keeps the caller’s k array unshared', () => {
    const k = [1, 2];
    const o = validate({ k });
    k[0] = 4;
    expect(o.k).toEqual([1, 2]);
  });
});

function resultArrays(r: SparseRoutingResult) {
  return {
    gates: r.gates.arraySync(),
    expertIndex: r.expertIndex.arraySync(),
    position: r.position.arraySync(),
    combineWeights: r.combineWeights.arraySync(),
    auxLosses: Object.fromEntries(Object.entries(r.auxLosses).map(([name, l]) => [name, l.dataSync()[0]])),
    metrics: r.metrics,
  };
}

function disposeResult(r: SparseRoutingResult): void {
  tf.dispose([r.gates, r.expertIndex, r.position, r.combineWeights, ...Object.values(r.auxLosses)]);
}

describeEachBackend('taskConditionedRouter instances', () => {
  it('round-trips its options (with the current k_t) and routes identically with the same seed', () => {
    for (const gate of ['vmoe', 'mod-squad'] as const) {
      const router = taskConditionedRouter.create(
        validate({ gate, numTasks: 2, k: [1, 2], seed: 5, noiseStd: 1 }),
      );
      router.setTaskK(1, 3);
      const saved = JSON.parse(JSON.stringify(router.getOptions())) as Record<string, unknown>;
      expect(saved.k).toEqual([1, 3]);
      const rebuilt = taskConditionedRouter.create(taskConditionedRouter.validateOptions(saved));
      expect(rebuilt.getOptions()).toEqual(router.getOptions());
      expect(isTaskConditionedRouter(rebuilt)).toBe(true);
      const x = tf.randomNormal([12, 3], 0, 1, 'float32', 9) as tf.Tensor2D;
      const ctx: RouterContext = {
        training: true,
        task: tf.tensor1d([0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0], 'int32'),
      };
      const a = router.route(x, ctx);
      const b = rebuilt.route(x, ctx);
      expect(resultArrays(b)).toEqual(resultArrays(a));
      expect(Object.keys(a.auxLosses).length).toBeGreaterThan(0);
      [a, b].forEach(disposeResult);
      tf.dispose([x, ctx.task as tf.Tensor]);
      router.dispose();
      rebuilt.dispose();
    }
  });

  it('names one gate kernel per task', () => {
    const router = taskConditionedRouter.create(validate({ gate: 'mod-squad', numTasks: 3 }));
    const weights = router.namedWeights();
    expect(Object.keys(weights)).toEqual(['gate/task0/kernel', 'gate/task1/kernel', 'gate/task2/kernel']);
    for (const w of Object.values(weights)) {
      expect(w.shape).toEqual([3, 4]);
      expect(w.trainable).toBe(true);
      expect(tf.tidy(() => tf.max(tf.abs(w)).dataSync()[0])).toBe(0);
    }
    const vmoe = taskConditionedRouter.create(validate({ numTasks: 2 }));
    const [w0, w1] = Object.values(vmoe.namedWeights()).map((w) => w.arraySync());
    expect(w0).not.toEqual(w1);
    router.dispose();
    vmoe.dispose();
  });

  it('rejects a context without valid task ids', () => {
    const router = taskConditionedRouter.create(validate({ numTasks: 2 }));
    const x = tf.zeros([3, 3]) as tf.Tensor2D;
    const ok = tf.tensor1d([0, 1, 0], 'int32');
    const bad: [RouterContext, RegExp][] = [
      [{ training: false }, /router "task-conditioned": needs ctx\.task/],
      [{ training: false, task: ok, numTasks: 3 }, /ctx\.numTasks = 3 differs from option numTasks = 2/],
      [{ training: false, task: tf.tensor1d([0, 2, 0], 'int32') }, /ctx\.task\[1\] = 2 is outside \[0, 2\)/],
      [{ training: false, task: tf.tensor1d([0, 1, 0], 'float32') }, /ctx\.task must be int32 \[3\]/],
      [{ training: false, task: tf.tensor1d([0, 1], 'int32') }, /ctx\.task must be int32 \[3\]/],
    ];
    for (const [ctx, message] of bad) expect(() => router.route(x, ctx)).toThrow(message);
    const y = tf.zeros([3, 2]) as tf.Tensor2D;
    expect(() => router.route(y, { training: false, task: ok })).toThrow(
      /router "task-conditioned": expected tokens \[S, 3\]/,
    );
    tf.dispose([
      x,
      y,
      ok,
      ...bad.map(([ctx]) => ctx.task).filter((t) => t != null && t !== ok),
    ] as tf.Tensor[]);
    router.dispose();
  });
});
