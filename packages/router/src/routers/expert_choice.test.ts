import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { describe, expect, it } from 'vitest';
import type { Router, SparseRoutingResult } from './contract.js';
import { expertChoiceRouter } from './expert_choice.js';

const make = (extra: Record<string, unknown> = {}): Router =>
  expertChoiceRouter.create(expertChoiceRouter.validateOptions({ inputDim: 4, numExperts: 3, ...extra }));

const sparse = (r: ReturnType<Router['route']>): SparseRoutingResult => {
  if (r.kind !== 'sparse') throw new Error('expected a sparse result');
  return r;
};

const tensorsOf = (r: SparseRoutingResult): tf.Tensor[] => [
  r.gates,
  r.expertIndex,
  r.position,
  r.combineWeights,
  ...Object.values(r.auxLosses),
];

describe('expertChoiceRouter.validateOptions', () => {
  it("fills the defaults (capacity factor 2 = the paper's EC-CF2, no aux loss)", () => {
    expect(expertChoiceRouter.validateOptions({ inputDim: 4, numExperts: 3 })).toEqual({
      inputDim: 4,
      numExperts: 3,
      seed: 0,
      capacityFactor: 2,
      zLossWeight: 0,
    });
    expect(expertChoiceRouter).toMatchObject({ specificationVersion: 'v1', name: 'expert-choice' });
  });

  it('rejects bad values and unknown options, naming router and option', () => {
    const base = { inputDim: 4, numExperts: 3 };
    expect(() => expertChoiceRouter.validateOptions({ ...base, capacityFactor: 0 })).toThrow(
      'router "expert-choice": option capacityFactor must be a finite number > 0, got 0.',
    );
    expect(() => expertChoiceRouter.validateOptions({ ...base, zLossWeight: -1 })).toThrow(
      /router "expert-choice": option zLossWeight must be a finite number ≥ 0/,
    );
    expect(() => expertChoiceRouter.validateOptions({ ...base, k: 2 })).toThrow(
      /router "expert-choice": unknown option k/,
    );
    expect(() => expertChoiceRouter.validateOptions({ numExperts: 3 })).toThrow(/option inputDim/);
  });
});

describeEachBackend('expertChoiceRouter', () => {
  it('fills every expert with its top-C tokens, as a K = E sparse result', () => {
    const router = make({ seed: 3 });
    const x = tf.randomNormal([10, 4], 0, 1, 'float32', 1) as tf.Tensor2D;
    const r = sparse(router.route(x, { training: true }));
    // C = round(10·2/3) = round(6.67) = 7.
    expect(r.capacity).toBe(7);
    expect(r.numExperts).toBe(3);
    expect(r.expertIndex.shape).toEqual([10, 3]);
    expect(r.expertIndex.arraySync()).toEqual(Array.from({ length: 10 }, () => [0, 1, 2]));
    const gates = r.gates.arraySync();
    const pos = r.position.arraySync();
    const w = r.combineWeights.arraySync();
    for (let e = 0; e < 3; e++) {
      const taken = pos.map((row) => row[e]).filter((p) => p >= 0);
      expect(taken.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      for (let s = 0; s < 10; s++) {
        expect(w[s][e]).toBe(pos[s][e] >= 0 ? gates[s][e] : 0);
      }
    }
    gates.forEach((row) => expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5));
    expect(r.auxLosses).toEqual({});
    expect(r.metrics).toMatchObject({ capacity: 7, tokens: 10, k: 3, expertCounts: [7, 7, 7] });
    expect(r.metrics.meanExpertsPerToken).toBeCloseTo(2.1, 10);
    expect(typeof r.metrics.fractionTokensProcessed).toBe('number');
    expect(JSON.parse(JSON.stringify(r.metrics))).toEqual(r.metrics);
    tf.dispose([x, ...tensorsOf(r)]);
    router.dispose();
  });

  it('never takes padding and caps capacity at S', () => {
    const router = make({ capacityFactor: 4 });
    const x = tf.randomNormal([4, 4], 0, 1, 'float32', 2) as tf.Tensor2D;
    const mask = tf.tensor1d([1, 0, 1, 1]);
    const r = sparse(router.route(x, { training: false, mask }));
    // round(4·4/3) = 5 > S = 4.
    expect(r.capacity).toBe(4);
    const pos = r.position.arraySync();
    expect(pos[1]).toEqual([-1, -1, -1]);
    expect(r.combineWeights.arraySync()[1]).toEqual([0, 0, 0]);
    // Three real tokens, each taken by all three experts.
    for (const s of [0, 2, 3]) pos[s].forEach((p) => expect(p).toBeGreaterThanOrEqual(0));
    expect(r.metrics).toMatchObject({ tokens: 3, minExpertsPerToken: 3, fractionTokensProcessed: 1 });
    tf.dispose([x, mask, ...tensorsOf(r)]);
    router.dispose();
  });

  it('adds the weighted z-loss only when asked', () => {
    const router = make({ zLossWeight: 0.5, seed: 1 });
    const x = tf.randomNormal([6, 4], 0, 1, 'float32', 3) as tf.Tensor2D;
    const r = sparse(router.route(x, { training: true }));
    expect(Object.keys(r.auxLosses)).toEqual(['z']);
    // z = mean_s logsumexp(logits_s)²; recompute from the kernel.
    const expected = tf.tidy(() => {
      const l = tf.matMul(x, router.namedWeights()['gate/kernel']);
      return tf.mul(tf.mean(tf.square(tf.logSumExp(l, 1))), 0.5).dataSync()[0];
    });
    expect(r.auxLosses.z.dataSync()[0]).toBeCloseTo(expected, 5);
    tf.dispose([x, ...tensorsOf(r)]);
    router.dispose();
  });

  it('gives the right gradient of the combine weights w.r.t. x (assignment fixed by separated gates)', () => {
    const router = make({ seed: 11, capacityFactor: 1 });
    const x = tf.randomNormal([8, 4], 0, 2, 'float32', 5) as tf.Tensor2D;
    const r = sparse(router.route(x, { training: true }));
    // Precondition: in every expert column, the C-th and (C+1)-th largest gates differ by far more than a
    // 1e-2 step in x can move them, so finite differences never change which tokens are taken.
    const gates = r.gates.arraySync();
    for (let e = 0; e < 3; e++) {
      const col = gates.map((row) => row[e]).sort((a, b) => b - a);
      expect(col[r.capacity - 1] - col[r.capacity]).toBeGreaterThan(0.02);
    }
    tf.dispose([...tensorsOf(r)]);
    const f = (v: tf.Tensor) => sparse(router.route(v as tf.Tensor2D, { training: true })).combineWeights;
    expect(checkGradients(f, [x]).maxRelativeError).toBeLessThan(1e-3);
    x.dispose();
    router.dispose();
  });

  it('leaks no tensors (the result and its aux losses belong to the caller)', async () => {
    const router = make({ zLossWeight: 1e-4 });
    await expectNoLeakedTensors(() => {
      const x = tf.randomNormal([6, 4], 0, 1, 'float32', 4) as tf.Tensor2D;
      const mask = tf.tensor1d([1, 1, 1, 1, 0, 1]);
      const r = sparse(router.route(x, { training: true, mask }));
      return [x, mask, ...tensorsOf(r)];
    });
    router.dispose();
  });

  it('round-trips its options: create(validateOptions(getOptions())) routes identically', () => {
    const a = make({ seed: 42, capacityFactor: 1.5, zLossWeight: 1e-3 });
    const b = expertChoiceRouter.create(expertChoiceRouter.validateOptions(a.getOptions()));
    expect(b.getOptions()).toEqual(a.getOptions());
    expect(b.namedWeights()['gate/kernel'].arraySync()).toEqual(a.namedWeights()['gate/kernel'].arraySync());
    const x = tf.randomNormal([9, 4], 0, 1, 'float32', 6) as tf.Tensor2D;
    const ra = sparse(a.route(x, { training: true }));
    const rb = sparse(b.route(x, { training: true }));
    expect(rb.position.arraySync()).toEqual(ra.position.arraySync());
    expect(rb.combineWeights.arraySync()).toEqual(ra.combineWeights.arraySync());
    expect(rb.metrics).toEqual(ra.metrics);
    tf.dispose([x, ...tensorsOf(ra), ...tensorsOf(rb)]);
    a.dispose();
    b.dispose();
  });

  it('rejects tokens of the wrong width', () => {
    const router = make();
    const x = tf.zeros([3, 5]) as tf.Tensor2D;
    expect(() => router.route(x, { training: true })).toThrow(
      'router "expert-choice": expected tokens [S, 4], got [3,5].',
    );
    x.dispose();
    router.dispose();
  });
});
