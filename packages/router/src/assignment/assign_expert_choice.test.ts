import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { assignExpertChoice } from './assign_expert_choice.js';

// The gates of vmoe/nn/routing_test.py, routed by expert choice (Zhou et al. 2022) with C = 2.
const GATES = [
  [0.4, 0, 0.2],
  [0.5, 0.1, 0.4],
  [0.3, 0.2, 0.6],
];

function run(gates: number[][], capacity: number, maskValues?: number[]) {
  const g = tf.tensor2d(gates);
  const mask = maskValues == null ? undefined : tf.tensor1d(maskValues);
  const r = assignExpertChoice(g, { capacity, mask });
  const out = {
    expertIndex: r.expertIndex.arraySync(),
    position: r.position.arraySync(),
    combineWeights: r.combineWeights.arraySync(),
    dtypes: [r.expertIndex.dtype, r.position.dtype, r.combineWeights.dtype],
  };
  tf.dispose([g, r.expertIndex, r.position, r.combineWeights]);
  mask?.dispose();
  return out;
}

const f32 = (rows: number[][]) => rows.map((r) => r.map(Math.fround));

describeEachBackend('assignExpertChoice', () => {
  it('each expert takes its top-C tokens (hand-computed on the vmoe/nn/routing_test.py gates)', () => {
    const out = run(GATES, 2);
    // Expert 0 column [.4,.5,.3] → tokens 1, 0; expert 1 [0,.1,.2] → 2, 1; expert 2 [.2,.4,.6] → 2, 1.
    expect(out.position).toEqual([
      [1, -1, -1],
      [0, 1, 1],
      [-1, 0, 0],
    ]);
    expect(out.expertIndex).toEqual([
      [0, 1, 2],
      [0, 1, 2],
      [0, 1, 2],
    ]);
    expect(out.combineWeights).toEqual(
      f32([
        [0.4, 0, 0],
        [0.5, 0.1, 0.4],
        [0, 0.2, 0.6],
      ]),
    );
    expect(out.dtypes).toEqual(['int32', 'int32', 'float32']);
  });

  it('ties go to the lower token index', () => {
    const out = run(
      [
        [0.5, 0.5],
        [0.5, 0.5],
        [0.5, 0.5],
      ],
      2,
    );
    expect(out.position).toEqual([
      [0, 0],
      [1, 1],
      [-1, -1],
    ]);
  });

  it('masked tokens are never taken', () => {
    const out = run(GATES, 2, [1, 0, 1]);
    expect(out.position).toEqual([
      [0, 1, 1],
      [-1, -1, -1],
      [1, 0, 0],
    ]);
    expect(out.combineWeights[1]).toEqual([0, 0, 0]);
    // Only one real token left: each expert fills one of its two slots.
    expect(run(GATES, 2, [0, 0, 1]).position).toEqual([
      [-1, -1, -1],
      [-1, -1, -1],
      [0, 0, 0],
    ]);
  });

  it('every expert is exactly full and keeps its C highest gates (random gates)', () => {
    for (const [S, E, C] of [
      [20, 4, 5],
      [33, 7, 33],
      [9, 3, 1],
    ]) {
      const gates = tf.randomUniform([S, E], 0, 1, 'float32', S + E);
      const data = gates.arraySync() as number[][];
      const r = assignExpertChoice(gates as tf.Tensor2D, { capacity: C });
      const pos = r.position.arraySync() as number[][];
      const w = r.combineWeights.arraySync() as number[][];
      for (let e = 0; e < E; e++) {
        const taken = pos.map((row, s) => [row[e], s]).filter(([p]) => p >= 0);
        expect(taken.map(([p]) => p).sort((a, b) => a - b)).toEqual([...Array(C).keys()]);
        const minTaken = Math.min(...taken.map(([, s]) => data[s][e]));
        for (let s = 0; s < S; s++) {
          if (pos[s][e] < 0) {
            expect(data[s][e]).toBeLessThanOrEqual(minTaken);
            expect(w[s][e]).toBe(0);
          } else {
            expect(w[s][e]).toBe(data[s][e]);
          }
        }
        // Ranks follow descending gates.
        const byRank = [...taken].sort((a, b) => a[0] - b[0]).map(([, s]) => data[s][e]);
        expect(byRank).toEqual([...byRank].sort((a, b) => b - a));
      }
      tf.dispose([gates, r.expertIndex, r.position, r.combineWeights]);
    }
  });

  it('combine weights have the right gradient w.r.t. gates (finite differences)', () => {
    // Columns separated by ≥ 0.05: a 1e-2 FD step never changes which tokens an expert takes.
    const gates = tf.tensor2d([
      [0.9, 0.3, 0.05],
      [0.2, 0.8, 0.6],
      [0.7, 0.15, 0.4],
      [0.25, 0.45, 0.95],
    ]);
    const f = (g: tf.Tensor) => assignExpertChoice(g as tf.Tensor2D, { capacity: 2 }).combineWeights;
    expect(checkGradients(f, [gates]).maxRelativeError).toBeLessThan(1e-3);
    gates.dispose();
  });

  it('leaks no tensors', async () => {
    await expectNoLeakedTensors(() => {
      const g = tf.tensor2d(GATES);
      const mask = tf.tensor1d([1, 1, 0], 'bool');
      const r = assignExpertChoice(g, { capacity: 2, mask });
      return [g, mask, r.expertIndex, r.position, r.combineWeights];
    });
  });

  it('rejects bad inputs', () => {
    const g = tf.tensor2d(GATES);
    expect(() => assignExpertChoice(g, { capacity: 4 })).toThrow(
      'assignExpertChoice: capacity 4 exceeds the number of tokens S = 3.',
    );
    expect(() => assignExpertChoice(g, { capacity: 0 })).toThrow(/capacity must be an integer ≥ 1/);
    const nan = tf.tensor2d([[0.5, NaN]]);
    expect(() => assignExpertChoice(nan, { capacity: 1 })).toThrow(
      'assignExpertChoice: gates contain NaN at token 0',
    );
    const cube = tf.zeros([1, 2, 3]);
    expect(() => assignExpertChoice(cube as tf.Tensor2D, { capacity: 1 })).toThrow(/gates must be a 2-D/);
    tf.dispose([g, nan, cube]);
  });
});
