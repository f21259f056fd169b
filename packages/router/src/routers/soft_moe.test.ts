import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { describe, expect, it } from 'vitest';
import type { Router, SoftRoutingResult } from './contract.js';
import { softMoERouter } from './soft_moe.js';

const make = (extra: Record<string, unknown> = {}): Router =>
  softMoERouter.create(softMoERouter.validateOptions({ inputDim: 4, numExperts: 3, ...extra }));

const soft = (r: ReturnType<Router['route']>): SoftRoutingResult => {
  if (r.kind !== 'soft') throw new Error('expected a soft result');
  return r;
};

const tensorsOf = (r: SoftRoutingResult): tf.Tensor[] => [
  r.gates,
  r.dispatchWeights,
  r.combineWeights,
  ...Object.values(r.auxLosses),
];

const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);

/** Soft MoE written out in float64: the normalisation has its 1e-6 inside the rsqrt. */
function reference(x: number[][], mu: number[][], scale: number) {
  const rsqrt = (v: number[]) => 1 / Math.sqrt(sum(v.map((a) => a * a)) + 1e-6);
  const xn = x.map((row) => row.map((a) => a * rsqrt(row)));
  const n = mu[0].length;
  const cols = Array.from({ length: n }, (_, j) => mu.map((row) => row[j]));
  const mun = cols.map((col) => col.map((a) => a * rsqrt(col)));
  const logits = xn.map((row) => mun.map((col) => scale * sum(row.map((a, d) => a * col[d]))));
  const softmax = (v: number[]) => {
    const m = Math.max(...v);
    const e = v.map((a) => Math.exp(a - m));
    return e.map((a) => a / sum(e));
  };
  const combine = logits.map(softmax);
  const dispatchCols = Array.from({ length: n }, (_, j) => softmax(logits.map((row) => row[j])));
  const dispatch = x.map((_, s) => dispatchCols.map((col) => col[s]));
  return { dispatch, combine };
}

describe('softMoERouter.validateOptions', () => {
  it('fills the defaults (one slot per expert)', () => {
    expect(softMoERouter.validateOptions({ inputDim: 4, numExperts: 3 })).toEqual({
      inputDim: 4,
      numExperts: 3,
      seed: 0,
      slotsPerExpert: 1,
    });
    expect(softMoERouter).toMatchObject({ specificationVersion: 'v1', name: 'soft-moe' });
  });

  it('rejects bad values and unknown options, naming router and option', () => {
    const base = { inputDim: 4, numExperts: 3 };
    expect(() => softMoERouter.validateOptions({ ...base, slotsPerExpert: 0 })).toThrow(
      'router "soft-moe": option slotsPerExpert must be an integer ≥ 1, got 0.',
    );
    expect(() => softMoERouter.validateOptions({ ...base, slotsPerExpert: 1.5 })).toThrow(/slotsPerExpert/);
    expect(() => softMoERouter.validateOptions({ ...base, capacityFactor: 1 })).toThrow(
      /router "soft-moe": unknown option capacityFactor/,
    );
  });
});

describeEachBackend('softMoERouter', () => {
  it('matches a float64 reference (normalised tokens and slots, eps inside the rsqrt, scale)', () => {
    const router = make({ slotsPerExpert: 2 });
    const w = router.namedWeights();
    expect(Object.keys(w).sort()).toEqual(['mu', 'scale']);
    expect(w.mu.shape).toEqual([4, 6]);
    expect(w.scale.dataSync()[0]).toBe(1);
    const mu = tf.randomNormal([4, 6], 0, 1, 'float32', 1).arraySync() as number[][];
    w.mu.assign(tf.tensor2d(mu));
    w.scale.assign(tf.scalar(3));
    // Token 1 is tiny: rsqrt(Σx² + 1e-6) shrinks it to norm 1/√2, where x/max(‖x‖, eps) would give 1.
    const rows = [
      [1, -2, 0.5, 0],
      [1e-3, 0, 0, 0],
      [0, 0, 0, 0],
      [-0.3, 0.8, 2, -1],
    ];
    const x = tf.tensor2d(rows);
    const r = soft(router.route(x, { training: true }));
    const want = reference(rows, mu, 3);
    const close = (got: number[][], exp: number[][]) =>
      got.forEach((row, s) => row.forEach((v, j) => expect(v).toBeCloseTo(exp[s][j], 5)));
    close(r.dispatchWeights.arraySync(), want.dispatch);
    close(r.combineWeights.arraySync(), want.combine);
    // gates = per-expert sums of the combine weights (slot j = e·p + c).
    const gates = want.combine.map((row) => [0, 1, 2].map((e) => row[2 * e] + row[2 * e + 1]));
    close(r.gates.arraySync(), gates);
    expect(r).toMatchObject({ kind: 'soft', numExperts: 3, capacity: 2, auxLosses: {} });
    tf.dispose([x, ...tensorsOf(r)]);
    router.dispose();
  });

  it('dispatch columns sum to 1 over real tokens, padding gets 0; combine rows sum to 1', () => {
    const router = make({ seed: 4, slotsPerExpert: 2 });
    const x = tf.randomNormal([7, 4], 0, 1, 'float32', 2) as tf.Tensor2D;
    const maskValues = [1, 1, 0, 1, 0, 1, 1];
    const mask = tf.tensor1d(maskValues, 'int32');
    const r = soft(router.route(x, { training: false, mask }));
    expect(r.dispatchWeights.shape).toEqual([7, 6]);
    expect(r.combineWeights.shape).toEqual([7, 6]);
    expect(r.gates.shape).toEqual([7, 3]);
    const d = r.dispatchWeights.arraySync();
    for (let j = 0; j < 6; j++) expect(sum(d.map((row) => row[j]))).toBeCloseTo(1, 5);
    expect(d[2]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(d[4]).toEqual([0, 0, 0, 0, 0, 0]);
    r.combineWeights.arraySync().forEach((row) => expect(sum(row)).toBeCloseTo(1, 5));
    r.gates.arraySync().forEach((row) => expect(sum(row)).toBeCloseTo(1, 5));
    const m = r.metrics;
    expect(m).toMatchObject({ numExperts: 3, capacity: 2, slots: 6, tokens: 5 });
    expect(sum(m.slotLoad as number[])).toBeCloseTo(1, 6);
    expect(sum(m.expertLoad as number[])).toBeCloseTo(1, 6);
    expect(m.dispatchEntropyNormalized as number).toBeGreaterThan(0);
    expect(m.dispatchEntropyNormalized as number).toBeLessThanOrEqual(1 + 1e-6);
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
    tf.dispose([x, mask, ...tensorsOf(r)]);
    router.dispose();
  });

  it('an all-padding group dispatches nothing and reports null metrics, never NaN', () => {
    const router = make();
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 3) as tf.Tensor2D;
    const mask = tf.tensor1d([0, 0, 0]);
    const r = soft(router.route(x, { training: true, mask }));
    expect(r.dispatchWeights.arraySync()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(r.metrics).toMatchObject({ tokens: 0, dispatchEntropy: null, expertLoad: null });
    expect(JSON.stringify(r.metrics)).not.toMatch(/NaN|Infinity/);
    tf.dispose([x, mask, ...tensorsOf(r)]);
    router.dispose();
  });

  it('gives the right gradients of dispatch and combine weights w.r.t. x (finite differences)', () => {
    const router = make({ seed: 5, slotsPerExpert: 2 });
    router.namedWeights().scale.assign(tf.scalar(2.5));
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 4) as tf.Tensor2D;
    const mask = tf.tensor1d([1, 1, 0, 1, 1]);
    const route = (v: tf.Tensor) => soft(router.route(v as tf.Tensor2D, { training: true, mask }));
    expect(checkGradients((v) => route(v).dispatchWeights, [x]).maxRelativeError).toBeLessThan(1e-3);
    expect(checkGradients((v) => route(v).combineWeights, [x]).maxRelativeError).toBeLessThan(1e-3);
    tf.dispose([x, mask]);
    router.dispose();
  });

  it('trains mu and scale: both get finite, non-zero gradients', () => {
    const router = make({ seed: 6 });
    const x = tf.randomNormal([6, 4], 0, 1, 'float32', 5) as tf.Tensor2D;
    const target = tf.randomUniform([6, 3], 0, 1, 'float32', 6);
    const weights = router.namedWeights();
    const { value, grads } = tf.variableGrads(() => {
      const r = soft(router.route(x, { training: true }));
      return tf.sum(tf.mul(tf.add(r.dispatchWeights, r.combineWeights), target));
    }, Object.values(weights));
    for (const name of ['mu', 'scale']) {
      const g = grads[weights[name].name].dataSync();
      expect(g.every(Number.isFinite)).toBe(true);
      expect(g.some((v) => v !== 0)).toBe(true);
    }
    tf.dispose([x, target, value, ...Object.values(grads)]);
    router.dispose();
  });

  it('leaks no tensors (the result belongs to the caller)', async () => {
    const router = make({ slotsPerExpert: 2 });
    await expectNoLeakedTensors(() => {
      const x = tf.randomNormal([6, 4], 0, 1, 'float32', 7) as tf.Tensor2D;
      const mask = tf.tensor1d([1, 1, 0, 1, 1, 1]);
      const r = soft(router.route(x, { training: true, mask }));
      return [x, mask, ...tensorsOf(r)];
    });
    router.dispose();
  });

  it('round-trips its options: create(validateOptions(getOptions())) routes identically', () => {
    const a = make({ seed: 13, slotsPerExpert: 3 });
    const b = softMoERouter.create(softMoERouter.validateOptions(a.getOptions()));
    expect(b.getOptions()).toEqual(a.getOptions());
    expect(b.namedWeights().mu.arraySync()).toEqual(a.namedWeights().mu.arraySync());
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 8) as tf.Tensor2D;
    const ra = soft(a.route(x, { training: true }));
    const rb = soft(b.route(x, { training: true }));
    expect(rb.dispatchWeights.arraySync()).toEqual(ra.dispatchWeights.arraySync());
    expect(rb.combineWeights.arraySync()).toEqual(ra.combineWeights.arraySync());
    expect(rb.metrics).toEqual(ra.metrics);
    tf.dispose([x, ...tensorsOf(ra), ...tensorsOf(rb)]);
    a.dispose();
    b.dispose();
  });

  it('rejects tokens of the wrong width', () => {
    const router = make();
    const x = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => router.route(x, { training: true })).toThrow(
      'router "soft-moe": expected tokens [S, 4], got [2,3].',
    );
    x.dispose();
    router.dispose();
  });
});
