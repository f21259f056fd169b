import * as tf from '@tensorflow/tfjs';
import { deserializeLayer, serializeLayer } from '@moevl/core';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { MoEAttention, type MoEAttentionArgs } from './moe_attention.js';

type M = number[][];

/** Deterministic uniform numbers in [-scale, scale) (LCG), identical on every run and backend. */
function randomArray(n: number, seed: number, scale = 1): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}
function matrix(rows: number, cols: number, seed: number, scale = 1): M {
  const flat = randomArray(rows * cols, seed, scale);
  return Array.from({ length: rows }, (_, r) => flat.slice(r * cols, (r + 1) * cols));
}
const dot = (a: number[], b: number[]) => a.reduce((acc, v, i) => acc + v * b[i], 0);
const col = (m: M, c: number) => m.map((row) => row[c]);
function softmax(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

interface Weights {
  gate: M[]; // per task [D][E]
  query: M; // [D][E·H]
  kv: M; // [D][2H]
  kvBias: number[];
  out: M[]; // [E][H][D]
  outBias: number[];
}

/** Plain-JS float64 MoA for one example x [T][D] of task `task`, straight from the definition. */
function reference(x: M, w: Weights, task: number, k: number, H: number, mask?: number[]): M {
  const E = w.out.length;
  const D = x[0].length;
  const keys = x.map((xt) => Array.from({ length: H }, (_, h) => dot(xt, col(w.kv, h)) + w.kvBias[h]));
  const vals = x.map((xt) =>
    Array.from({ length: H }, (_, h) => dot(xt, col(w.kv, H + h)) + w.kvBias[H + h]),
  );
  return x.map((xt) => {
    const p = softmax(Array.from({ length: E }, (_, e) => dot(xt, col(w.gate[task], e)))).map(
      (v) => v + 1e-4,
    );
    // Top-k, ties to the lower index.
    const order = p.map((v, e) => [v, e]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const chosen = order.slice(0, k).map(([, e]) => e);
    const y = [...w.outBias];
    for (const e of chosen) {
      const q = Array.from({ length: H }, (_, h) => dot(xt, col(w.query, e * H + h)));
      const scores = keys.map((kj, j) => (mask == null || mask[j] ? dot(q, kj) / Math.sqrt(H) : -Infinity));
      const a = softmax(scores);
      const o = Array.from({ length: H }, (_, h) => a.reduce((acc, aj, j) => acc + aj * vals[j][h], 0));
      for (let d = 0; d < D; d++) y[d] += p[e] * dot(o, col(w.out[e], d));
    }
    return y;
  });
}

function randomWeights(
  D: number,
  E: number,
  H: number,
  numTasks: number,
  seed: number,
  gateScale = 0,
): Weights {
  return {
    gate: Array.from({ length: numTasks }, (_, t) => matrix(D, E, seed + 10 + t, gateScale)),
    query: matrix(D, E * H, seed + 1),
    kv: matrix(D, 2 * H, seed + 2),
    kvBias: randomArray(2 * H, seed + 3, 0.5),
    out: Array.from({ length: E }, (_, e) => matrix(H, D, seed + 20 + e)),
    outBias: randomArray(D, seed + 4, 0.5),
  };
}

function setWeights(layer: MoEAttention, w: Weights): void {
  const tensors: Record<string, tf.Tensor> = {
    'query/kernel': tf.tensor2d(w.query),
    'kv/kernel': tf.tensor2d(w.kv),
    'kv/bias': tf.tensor1d(w.kvBias),
    'out/kernel': tf.tensor3d(w.out),
    'out/bias': tf.tensor1d(w.outBias),
  };
  w.gate.forEach((g, t) => (tensors[`gate/task${t}/kernel`] = tf.tensor2d(g)));
  layer.loadWeights(tensors);
  tf.dispose(Object.values(tensors));
}

function expectClose(actual: tf.Tensor, expected: number[][][], tol = 1e-4): void {
  const a = actual.arraySync() as number[][][];
  expect(actual.shape).toEqual([expected.length, expected[0].length, expected[0][0].length]);
  let worst = 0;
  expected.forEach((ex, b) =>
    ex.forEach((row, t) => row.forEach((v, d) => (worst = Math.max(worst, Math.abs(a[b][t][d] - v))))),
  );
  expect(worst).toBeLessThan(tol);
}

const BASE: MoEAttentionArgs = { dim: 4, numExperts: 3, k: 2, headDim: 2, numTasks: 2, seed: 5 };

describeEachBackend('MoEAttention', () => {
  it('returns [B, T, D], a scalar MI loss and a [tasks][experts] usage matrix', () => {
    const layer = new MoEAttention(BASE);
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1);
    const task = tf.tensor1d([0, 1], 'int32');
    const r = layer.forward(x, { training: true, task });
    expect(r.y.shape).toEqual([2, 3, 4]);
    expect(r.auxLosses.mutualInformation?.shape).toEqual([]);
    expect(Number.isFinite(r.auxLosses.mutualInformation!.dataSync()[0])).toBe(true);
    expect(r.metrics.expertTaskUsage).toEqual([
      [3, 3, 0],
      [3, 3, 0],
    ]);
    expect(Object.keys(layer.namedWeights()).sort()).toEqual([
      'gate/task0/kernel',
      'gate/task1/kernel',
      'kv/bias',
      'kv/kernel',
      'out/bias',
      'out/kernel',
      'query/kernel',
    ]);
    expect(layer.namedWeights()['out/kernel'].shape).toEqual([3, 2, 4]);
    expect(layer.namedWeights()['query/kernel'].shape).toEqual([4, 6]);
    tf.dispose([x, task, r.y, r.auxLosses.mutualInformation!]);
    layer.dispose();
  });

  it('with zero-init gates picks experts 0..k-1 (ties → lower index) with p = 1/E + 1e-4', () => {
    const [D, E, H, k] = [4, 4, 2, 2];
    const layer = new MoEAttention({ ...BASE, dim: D, numExperts: E, k, headDim: H, miWeight: 0 });
    const w = randomWeights(D, E, H, 2, 31); // gateScale 0: zero gates, as initialised
    // Freshly built gates are all zero (Mod-Squad's zero init); the other weights are set for the reference.
    for (const [path, v] of Object.entries(layer.namedWeights())) {
      if (path.startsWith('gate/')) expect(Array.from(v.dataSync()).every((g) => g === 0)).toBe(true);
    }
    setWeights(layer, w);
    const xs = [matrix(3, D, 32), matrix(3, D, 33)];
    const x = tf.tensor3d(xs);
    const r = layer.forward(x, { training: false, task: 1 });
    expect(r.metrics.expertTaskUsage).toEqual([
      [0, 0, 0, 0],
      [6, 6, 0, 0],
    ]);
    expect(r.auxLosses).toEqual({});
    // The reference scores zero gates as softmax(0) + 1e-4 = 1/E + 1e-4 for every expert.
    expectClose(
      r.y,
      xs.map((xb) => reference(xb, w, 1, k, H)),
    );
    tf.dispose([x, r.y]);
    layer.dispose();
  });

  it('with k = E and uniform gates equals a hand-computed reference', () => {
    const [D, E, H] = [3, 2, 2];
    const layer = new MoEAttention({ dim: D, numExperts: E, k: E, headDim: H, numTasks: 1, seed: 2 });
    const w = randomWeights(D, E, H, 1, 41);
    setWeights(layer, w);
    const xs = [matrix(3, D, 42), matrix(3, D, 43)];
    const x = tf.tensor3d(xs);
    const r = layer.forward(x, { training: false, task: 0 });
    expectClose(
      r.y,
      xs.map((xb) => reference(xb, w, 0, E, H)),
    );
    tf.dispose([x, r.y, r.auxLosses.mutualInformation!]);
    layer.dispose();
  });

  it('routes tasks differently once their gates differ, matching the reference', () => {
    const [D, E, H, k] = [4, 4, 2, 1];
    const layer = new MoEAttention({ ...BASE, dim: D, numExperts: E, k, headDim: H });
    const w = randomWeights(D, E, H, 2, 51);
    // Task 0 prefers expert 0, task 1 expert 3, whatever the token (a bias through a constant feature).
    w.gate[0] = w.gate[0].map(() => [0, 0, 0, 0]);
    w.gate[1] = w.gate[1].map(() => [0, 0, 0, 0]);
    w.gate[0][0] = [5, 0, 0, 0];
    w.gate[1][0] = [0, 0, 0, 5];
    setWeights(layer, w);
    const xb = matrix(3, D, 52).map((row) => [1, ...row.slice(1)]);
    const x = tf.tensor3d([xb, xb]);
    const task = tf.tensor1d([0, 1], 'int32');
    const r = layer.forward(x, { training: false, task });
    expect(r.metrics.expertTaskUsage).toEqual([
      [3, 0, 0, 0],
      [0, 0, 0, 3],
    ]);
    expectClose(r.y, [reference(xb, w, 0, k, H), reference(xb, w, 1, k, H)]);
    const y = r.y.arraySync() as number[][][];
    expect(Math.abs(y[0][0][0] - y[1][0][0])).toBeGreaterThan(1e-3);
    // Disjoint experts per task: MI loss is negative (−MI).
    expect(r.auxLosses.mutualInformation!.dataSync()[0]).toBeLessThan(0);
    tf.dispose([x, task, r.y, r.auxLosses.mutualInformation!]);
    layer.dispose();
  });

  it('ignores padded keys: changing a padded token changes nothing for real tokens', () => {
    const [D, E, H, k] = [4, 3, 2, 2];
    const layer = new MoEAttention({ ...BASE, dim: D, numExperts: E, k, headDim: H });
    const w = randomWeights(D, E, H, 2, 61, 0.7);
    setWeights(layer, w);
    const xb = matrix(4, D, 62);
    const other = xb.map((row, t) => (t === 3 ? row.map((v) => v * -3 + 2) : row));
    const maskRow = [1, 1, 1, 0];
    const mask = tf.tensor2d([maskRow, maskRow]);
    const x = tf.tensor3d([xb, other]);
    const r = layer.forward(x, { training: false, task: 1, tokenMask: mask });
    const y = r.y.arraySync() as number[][][];
    for (let t = 0; t < 3; t++) for (let d = 0; d < D; d++) expect(y[1][t][d]).toBeCloseTo(y[0][t][d], 5);
    expectClose(r.y, [reference(xb, w, 1, k, H, maskRow), reference(other, w, 1, k, H, maskRow)]);
    // Same as running the unpadded sequence.
    const short = tf.tensor3d([xb.slice(0, 3)]);
    const rs = layer.forward(short, { training: false, task: 1 });
    const ys = rs.y.arraySync() as number[][][];
    for (let t = 0; t < 3; t++) for (let d = 0; d < D; d++) expect(ys[0][t][d]).toBeCloseTo(y[0][t][d], 5);
    // Padded tokens count in neither the metrics nor the MI loss.
    expect(r.metrics.expertTaskUsage[1].reduce((a, b) => a + b, 0)).toBe(2 * 3 * k);
    tf.dispose([mask, x, short, r.y, rs.y, r.auxLosses.mutualInformation!, rs.auxLosses.mutualInformation!]);
    layer.dispose();
  });

  it('has the input gradient finite differences give (k = E random gates; k < E zero gates)', () => {
    const x = tf.tensor3d([matrix(3, 4, 71, 0.8), matrix(3, 4, 72, 0.8)]);
    const task = tf.tensor1d([0, 1], 'int32');
    const mask = tf.tensor2d([
      [1, 1, 1],
      [1, 1, 0],
    ]);
    for (const [k, gateScale] of [
      [3, 0.8],
      [2, 0],
    ]) {
      const layer = new MoEAttention({ ...BASE, k, miWeight: 1 });
      setWeights(layer, randomWeights(4, 3, 2, 2, 73, gateScale));
      const f = (xi: tf.Tensor) => {
        const r = layer.forward(xi, { training: false, task, tokenMask: mask });
        return r.y;
      };
      expect(checkGradients(f, [x]).maxRelativeError).toBeLessThan(1e-3);
      if (gateScale > 0) {
        const g = (xi: tf.Tensor) => {
          const r = layer.forward(xi, { training: false, task, tokenMask: mask });
          r.y.dispose();
          return r.auxLosses.mutualInformation!;
        };
        expect(checkGradients(g, [x]).maxRelativeError).toBeLessThan(1e-3);
      }
      layer.dispose();
    }
    tf.dispose([x, task, mask]);
  });

  it('sends finite, non-zero gradients to the query, kv, out and gate kernels', () => {
    const layer = new MoEAttention({ ...BASE, k: 2 });
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 81);
    const task = tf.tensor1d([0, 1], 'int32');
    const proj = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 82);
    const weights = layer.namedWeights();
    const { value, grads } = tf.variableGrads(() => {
      const r = layer.forward(x, { training: true, task });
      return tf.add(tf.sum(tf.mul(r.y, proj)), r.auxLosses.mutualInformation!) as tf.Scalar;
    }, Object.values(weights));
    const byPath = Object.fromEntries(Object.entries(weights).map(([p, v]) => [p, grads[v.name]]));
    for (const path of [
      'query/kernel',
      'kv/kernel',
      'kv/bias',
      'out/kernel',
      'out/bias',
      'gate/task0/kernel',
      'gate/task1/kernel',
    ]) {
      const g = byPath[path];
      expect(g, path).toBeDefined();
      const data = g.dataSync();
      expect(
        data.every((v) => Number.isFinite(v)),
        path,
      ).toBe(true);
      expect(
        data.some((v) => v !== 0),
        path,
      ).toBe(true);
    }
    tf.dispose([value, x, task, proj, ...Object.values(grads)]);
    layer.dispose();
  });

  it('leaks no tensors, forward and backward', async () => {
    const layer = new MoEAttention(BASE);
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 91);
    const task = tf.tensor1d([1, 0], 'int32');
    const mask = tf.tensor2d([
      [1, 1, 0],
      [1, 1, 1],
    ]);
    await expectNoLeakedTensors(() => {
      const r = layer.forward(x, { training: true, task, tokenMask: mask });
      return [r.y, r.auxLosses.mutualInformation!];
    });
    await expectNoLeakedTensors(() =>
      tf.variableGrads(() => {
        const r = layer.forward(x, { training: true, task, tokenMask: mask });
        return tf.add(tf.sum(r.y), r.auxLosses.mutualInformation!) as tf.Scalar;
      }),
    );
    await expectNoLeakedTensors(() =>
      tf.grad((xi: tf.Tensor) => tf.sum(layer.forward(xi, { training: false, task: 0 }).y))(x),
    );
    tf.dispose([x, task, mask]);
    layer.dispose();
  });

  it('round-trips its config: same seed, same weights and output', () => {
    const layer = new MoEAttention({ ...BASE, miWeight: 0.01, name: 'moa' });
    const spec = JSON.parse(JSON.stringify(serializeLayer(layer)));
    expect(spec.className).toBe('MoevlMoEAttention');
    const copy = deserializeLayer<MoEAttention>(spec);
    expect(copy).toBeInstanceOf(MoEAttention);
    expect(serializeLayer(copy)).toEqual(spec);
    expect(copy.miWeight).toBe(0.01);
    const x = tf.randomNormal([1, 3, 4], 0, 1, 'float32', 101);
    const a = layer.forward(x, { training: false, task: 1 });
    const b = copy.forward(x, { training: false, task: 1 });
    expect(Array.from(b.y.dataSync())).toEqual(Array.from(a.y.dataSync()));
    const wa = layer.namedWeights()['out/kernel'].dataSync();
    expect(Array.from(copy.namedWeights()['out/kernel'].dataSync())).toEqual(Array.from(wa));
    expect(wa.some((v) => v !== 0)).toBe(true);
    tf.dispose([x, a.y, b.y, a.auxLosses.mutualInformation!, b.auxLosses.mutualInformation!]);
    layer.dispose();
    copy.dispose();
  });

  it('rejects bad arguments and inputs with the problem named', () => {
    expect(() => new MoEAttention({ ...BASE, k: 4 })).toThrow(/k must be in \[1, numExperts = 3\]/);
    expect(() => new MoEAttention({ ...BASE, headDim: 0 })).toThrow(/headDim must be a positive integer/);
    expect(() => new MoEAttention({ ...BASE, gate: 'softmax' as 'mod-squad' })).toThrow(/gate must be/);
    expect(() => new MoEAttention({ ...BASE, miWeight: -1 })).toThrow(/miWeight/);
    const layer = new MoEAttention(BASE);
    const x = tf.zeros([1, 2, 4]);
    const bad = tf.zeros([1, 2, 3]);
    const floatTask = tf.tensor1d([0]);
    const wideMask = tf.ones([1, 3]);
    expect(() => layer.forward(bad, { training: false, task: 0 })).toThrow(/expected x \[B, T, 4\]/);
    expect(() => layer.forward(x, { training: false, task: 2 })).toThrow(/outside \[0, 2\)/);
    expect(() => layer.forward(x, { training: false, task: floatTask })).toThrow(/int32 \[1\]/);
    expect(() => layer.forward(x, { training: false, task: 0, tokenMask: wideMask })).toThrow(
      /tokenMask must be \[1, 2\]/,
    );
    tf.dispose([x, bad, floatTask, wideMask]);
    layer.dispose();
  });
});
