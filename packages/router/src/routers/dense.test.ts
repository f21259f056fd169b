import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { describe, expect, it } from 'vitest';
import type { Router, SparseRoutingResult } from './contract.js';
import { denseRouter } from './dense.js';

const make = (extra: Record<string, unknown> = {}): Router =>
  denseRouter.create(denseRouter.validateOptions({ inputDim: 4, numExperts: 3, ...extra }));

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

describe('denseRouter.validateOptions', () => {
  it('fills the defaults: every aux loss off', () => {
    expect(denseRouter.validateOptions({ inputDim: 4, numExperts: 3 })).toEqual({
      inputDim: 4,
      numExperts: 3,
      seed: 0,
      importanceWeight: 0,
      gshardWeight: 0,
      zLossWeight: 0,
      localEntropyWeight: 0,
      globalEntropyWeight: 0,
      globalEntropyThreshold: undefined,
    });
    expect(denseRouter).toMatchObject({ specificationVersion: 'v1', name: 'dense' });
  });

  it('rejects bad values and unknown options (the load loss has no meaning without noise)', () => {
    const base = { inputDim: 4, numExperts: 3 };
    expect(() => denseRouter.validateOptions({ ...base, zLossWeight: 'x' })).toThrow(
      'router "dense": option zLossWeight must be a finite number ≥ 0, got "x".',
    );
    expect(() => denseRouter.validateOptions({ ...base, numExperts: 0 })).toThrow(/option numExperts/);
    expect(() => denseRouter.validateOptions({ ...base, loadWeight: 0.01 })).toThrow(
      /router "dense": unknown option loadWeight/,
    );
  });
});

describeEachBackend('denseRouter', () => {
  it('sends every real token to every expert with its softmax gate', () => {
    const router = make({ seed: 2 });
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 1) as tf.Tensor2D;
    const mask = tf.tensor1d([1, 1, 0, 1, 1], 'int32');
    const r = sparse(router.route(x, { training: true, mask }));
    expect(r.capacity).toBe(5);
    expect(r.expertIndex.arraySync()).toEqual(Array.from({ length: 5 }, () => [0, 1, 2]));
    expect(r.position.arraySync()).toEqual([
      [0, 0, 0],
      [1, 1, 1],
      [-1, -1, -1],
      [3, 3, 3],
      [4, 4, 4],
    ]);
    const probs = tf.tidy(() => tf.softmax(tf.matMul(x, router.namedWeights()['gate/kernel'])));
    const expected = probs.arraySync() as number[][];
    probs.dispose();
    const w = r.combineWeights.arraySync();
    expect(r.gates.arraySync()).toEqual(expected);
    expect(w[2]).toEqual([0, 0, 0]);
    for (const s of [0, 1, 3, 4]) {
      expect(w[s]).toEqual(expected[s]);
      expect(w[s].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    expect(r.auxLosses).toEqual({});
    expect(r.metrics).toMatchObject({ tokens: 4, k: 3, routingSuccessRate: 1, expertCounts: [4, 4, 4] });
    tf.dispose([x, mask, ...tensorsOf(r)]);
    router.dispose();
  });

  it('adds the aux losses it is given weights for', () => {
    const router = make({ importanceWeight: 0.1, zLossWeight: 1e-4, globalEntropyWeight: 0.01 });
    const x = tf.randomNormal([6, 4], 0, 1, 'float32', 2) as tf.Tensor2D;
    const r = sparse(router.route(x, { training: true }));
    expect(Object.keys(r.auxLosses).sort()).toEqual(['globalEntropy', 'importance', 'z']);
    for (const l of Object.values(r.auxLosses)) expect(Number.isFinite(l.dataSync()[0])).toBe(true);
    tf.dispose([x, ...tensorsOf(r)]);
    router.dispose();
  });

  it('gives the right gradient of the combine weights w.r.t. x (finite differences)', () => {
    const router = make({ seed: 7 });
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 3) as tf.Tensor2D;
    const mask = tf.tensor1d([1, 0, 1, 1, 1]);
    const f = (v: tf.Tensor) =>
      sparse(router.route(v as tf.Tensor2D, { training: true, mask })).combineWeights;
    expect(checkGradients(f, [x]).maxRelativeError).toBeLessThan(1e-3);
    tf.dispose([x, mask]);
    router.dispose();
  });

  it('leaks no tensors (the result and its aux losses belong to the caller)', async () => {
    const router = make({ zLossWeight: 1e-4, importanceWeight: 0.005 });
    await expectNoLeakedTensors(() => {
      const x = tf.randomNormal([6, 4], 0, 1, 'float32', 4) as tf.Tensor2D;
      const mask = tf.tensor1d([1, 1, 0, 1, 1, 1]);
      const r = sparse(router.route(x, { training: true, mask }));
      return [x, mask, ...tensorsOf(r)];
    });
    router.dispose();
  });

  it('round-trips its options: create(validateOptions(getOptions())) routes identically', () => {
    const a = make({ seed: 9, gshardWeight: 0.01, globalEntropyThreshold: 0.5 });
    const b = denseRouter.create(denseRouter.validateOptions(a.getOptions()));
    expect(b.getOptions()).toEqual(a.getOptions());
    const x = tf.randomNormal([4, 4], 0, 1, 'float32', 5) as tf.Tensor2D;
    const ra = sparse(a.route(x, { training: false }));
    const rb = sparse(b.route(x, { training: false }));
    expect(rb.combineWeights.arraySync()).toEqual(ra.combineWeights.arraySync());
    expect(rb.auxLosses.gshard.arraySync()).toEqual(ra.auxLosses.gshard.arraySync());
    tf.dispose([x, ...tensorsOf(ra), ...tensorsOf(rb)]);
    a.dispose();
    b.dispose();
  });
});
