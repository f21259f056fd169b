import * as tf from '@tensorflow/tfjs';
import { dispatchTokens } from '@moevl/core';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { assignTopK } from './assign_top_k.js';
import type { AssignTopKOptions } from './assign_top_k.js';
import { randomGates, rng } from './assign.test.helpers.js';

// vmoe/nn/routing_test.py: 3 tokens, 3 experts, K = 2, C = 2.
const VMOE_GATES = [
  [0.4, 0, 0.2],
  [0.5, 0.1, 0.4],
  [0.3, 0.2, 0.6],
];

/** vmoe lists (expert, position) with positions ≥ C still counted; ours are −1 once dropped. */
function splitGolden(golden: [number, number][][], capacity: number) {
  return {
    expertIndex: golden.map((row) => row.map(([e]) => e)),
    position: golden.map((row) => row.map(([, p]) => (p < capacity ? p : -1))),
  };
}

const f32 = (rows: number[][]) => rows.map((r) => r.map(Math.fround));

/** Literal reference: V-MoE's one-hot cumsum over K-major choices in priority order (O(S·K·E)). */
function referencePositions(index: number[][], E: number, C: number, order: number[]): number[][] {
  const K = index[0].length;
  const pos = index.map((row) => row.map(() => -1));
  const cumsum = new Array<number>(E).fill(0);
  for (let j = 0; j < K; j++) {
    for (const s of order) {
      const oneHot = Array.from({ length: E }, (_, e) => (e === index[s][j] ? 1 : 0));
      oneHot.forEach((v, e) => (cumsum[e] += v));
      const p = cumsum[index[s][j]] - 1;
      pos[s][j] = p < C ? p : -1;
    }
  }
  return pos;
}

function run(gates: number[][], options: Omit<AssignTopKOptions, 'mask'>, maskValues?: number[]) {
  const g = tf.tensor2d(gates);
  const mask = maskValues == null ? undefined : tf.tensor1d(maskValues, 'int32');
  const r = assignTopK(g, { ...options, mask });
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

describeEachBackend('assignTopK', () => {
  it('vanilla routing matches vmoe/nn/routing_test.py', () => {
    const out = run(VMOE_GATES, { k: 2, capacity: 2 });
    const golden = splitGolden(
      [
        [
          [0, 0],
          [2, 1],
        ],
        [
          [0, 1],
          [2, 2],
        ],
        [
          [2, 0],
          [0, 2],
        ],
      ],
      2,
    );
    expect(out.expertIndex).toEqual(golden.expertIndex);
    expect(out.position).toEqual(golden.position);
    expect(out.combineWeights).toEqual(
      f32([
        [0.4, 0.2],
        [0.5, 0],
        [0.6, 0],
      ]),
    );
    expect(out.dtypes).toEqual(['int32', 'int32', 'float32']);
  });

  it('Batch Priority Routing matches vmoe/nn/routing_test.py', () => {
    const out = run(VMOE_GATES, { k: 2, capacity: 2, batchPriority: true });
    const golden = splitGolden(
      [
        [
          [0, 1],
          [2, 2],
        ],
        [
          [0, 0],
          [2, 1],
        ],
        [
          [2, 0],
          [0, 2],
        ],
      ],
      2,
    );
    expect(out.expertIndex).toEqual(golden.expertIndex);
    expect(out.position).toEqual(golden.position);
    expect(out.combineWeights).toEqual(
      f32([
        [0.4, 0],
        [0.5, 0.4],
        [0.6, 0],
      ]),
    );
  });

  it('BPR ties keep token order (stable sort)', () => {
    const out = run(
      [
        [0.5, 0.5],
        [0.5, 0.5],
        [0.9, 0.1],
      ],
      { k: 1, capacity: 1, batchPriority: true },
    );
    // Token 2 goes first (0.9); then tokens 0 and 1 tie on expert 0, which is full.
    expect(out.position).toEqual([[-1], [-1], [0]]);
    const out2 = run(
      [
        [0.5, 0.5],
        [0.5, 0.5],
      ],
      { k: 1, capacity: 1, batchPriority: true },
    );
    expect(out2.position).toEqual([[0], [-1]]);
  });

  it('renormalize divides by the sum of the top-k gates before dropping (tutel)', () => {
    const out = run(VMOE_GATES, { k: 2, capacity: 2, renormalize: true });
    const expected = [
      [0.4 / 0.6, 0.2 / 0.6],
      [0.5 / 0.9, 0],
      [0.6 / 0.9, 0],
    ];
    out.combineWeights.forEach((row, s) => row.forEach((w, j) => expect(w).toBeCloseTo(expected[s][j], 6)));
    expect(out.combineWeights[1][1]).toBe(0);
  });

  it('masked tokens take no capacity and get position −1, weight 0', () => {
    const g = tf.tensor2d(VMOE_GATES);
    const mask = tf.tensor1d([0, 1, 1], 'int32');
    const r = assignTopK(g, { k: 2, capacity: 2, mask });
    // Without token 0 in the buffers, the 2nd choices dropped in the vanilla golden now fit.
    expect(r.position.arraySync()).toEqual([
      [-1, -1],
      [0, 1],
      [0, 1],
    ]);
    expect(r.combineWeights.arraySync()).toEqual(
      f32([
        [0, 0],
        [0.5, 0.4],
        [0.6, 0.3],
      ]),
    );
    tf.dispose([g, mask, r.expertIndex, r.position, r.combineWeights]);
  });

  it('feeds core dispatchTokens: tokens land in the slots the assignment names', () => {
    const g = tf.tensor2d(VMOE_GATES);
    const x = tf.tensor2d([[1], [2], [3]]);
    const r = assignTopK(g, { k: 2, capacity: 2 });
    const buffers = dispatchTokens(x, r.expertIndex, r.position, 3, 2);
    expect(buffers.arraySync()).toEqual([
      [[1], [2]],
      [[0], [0]],
      [[3], [1]],
    ]);
    tf.dispose([g, x, buffers, r.expertIndex, r.position, r.combineWeights]);
  });

  const combos = [
    { S: 16, E: 4, K: 1, C: 4 },
    { S: 32, E: 8, K: 2, C: 4 },
    { S: 50, E: 6, K: 3, C: 8 },
    { S: 7, E: 5, K: 2, C: 1 },
    { S: 64, E: 4, K: 4, C: 20 },
  ];
  for (const { S, E, K, C } of combos) {
    for (const [batchPriority, masked] of [
      [false, false],
      [true, false],
      [true, true],
    ]) {
      it(`properties on random gates (S=${S}, E=${E}, K=${K}, C=${C}, BPR=${batchPriority}, mask=${masked})`, () => {
        const seed = S * 131 + E * 17 + K;
        const gates = randomGates(S, E, seed);
        const next = rng(seed + 1);
        // About one token in four is padding.
        const real = gates.map(() => (masked ? (next() < 0.75 ? 1 : 0) : 1));
        const { expertIndex, position, combineWeights } = run(
          gates,
          { k: K, capacity: C, batchPriority },
          masked ? real : undefined,
        );
        const top1 = gates.map((row, s) => row[expertIndex[s][0]]);
        real.forEach((r, s) => {
          if (r) return;
          expect(position[s]).toEqual(new Array(K).fill(-1));
          expect(combineWeights[s]).toEqual(new Array(K).fill(0));
        });

        // Top-k per token with lower-index ties.
        gates.forEach((row, s) => {
          const sorted = row.map((v, e) => [v, e]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
          expect(expertIndex[s]).toEqual(sorted.slice(0, K).map(([, e]) => e));
        });

        // Same positions as the literal one-hot cumsum of vmoe.
        const order = gates.map((_, s) => s).filter((s) => real[s]);
        if (batchPriority) order.sort((a, b) => top1[b] - top1[a]);
        expect(position).toEqual(referencePositions(expertIndex, E, C, order));

        const perExpert = Array.from({ length: E }, () => [] as number[]);
        for (let s = 0; s < S; s++) {
          for (let j = 0; j < K; j++) {
            const e = expertIndex[s][j];
            const p = position[s][j];
            if (p >= 0) perExpert[e].push(p);
            // Weight 0 exactly when dropped; a kept weight is exactly the gate.
            expect(combineWeights[s][j] === 0).toBe(p === -1);
            if (p >= 0) expect(combineWeights[s][j]).toBe(gates[s][e]);
          }
        }
        for (const ps of perExpert) {
          expect(ps.length).toBeLessThanOrEqual(C);
          // Unique and contiguous from 0.
          expect([...ps].sort((a, b) => a - b)).toEqual(ps.map((_, i) => i));
        }

        // First choices: priority decides who is dropped (top-1 gate under BPR, token index without).
        for (let e = 0; e < E; e++) {
          const first = order.filter((s) => expertIndex[s][0] === e);
          const kept = first.filter((s) => position[s][0] >= 0);
          const dropped = first.filter((s) => position[s][0] < 0);
          for (const d of dropped) {
            for (const k of kept) {
              if (batchPriority) expect(top1[d]).toBeLessThanOrEqual(top1[k]);
              else expect(d).toBeGreaterThan(k);
            }
          }
          // A dropped 1st choice means the expert was full before any 2nd choice arrived.
          if (dropped.length > 0) expect(kept.length).toBe(C);
        }
      });
    }
  }

  it('combine weights have the right gradient w.r.t. gates (finite differences)', () => {
    // Gaps ≥ 0.05 within rows and between top-1 gates: a 1e-2 FD step never changes the assignment.
    const gates = tf.tensor2d([
      [0.9, 0.3, 0.05, 0.5],
      [0.2, 0.8, 0.6, 0.1],
      [0.7, 0.15, 0.4, 0.35],
      [0.25, 0.45, 0.1, 0.95],
    ]);
    for (const options of [
      { k: 2, capacity: 1 },
      { k: 2, capacity: 1, batchPriority: true },
      { k: 2, capacity: 2, renormalize: true },
      { k: 1, capacity: 1, batchPriority: true, renormalize: true },
    ]) {
      const f = (g: tf.Tensor) => assignTopK(g as tf.Tensor2D, options).combineWeights;
      expect(checkGradients(f, [gates]).maxRelativeError).toBeLessThan(1e-3);
    }
    // The gradient reaches exactly the kept (token, expert) gates.
    const grad = tf.grad((g: tf.Tensor) =>
      tf.sum(assignTopK(g as tf.Tensor2D, { k: 2, capacity: 1 }).combineWeights),
    )(gates);
    // Expert 0: token 0 (1st); expert 1: token 1; expert 3: token 3; expert 2: token 1 (2nd choice).
    expect(grad.arraySync()).toEqual([
      [1, 0, 0, 0],
      [0, 1, 1, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 1],
    ]);
    tf.dispose([gates, grad]);
  });

  it('leaks no tensors', async () => {
    await expectNoLeakedTensors(() => {
      const g = tf.tensor2d(VMOE_GATES);
      const mask = tf.tensor1d([1, 0, 1]);
      const r = assignTopK(g, { k: 2, capacity: 2, batchPriority: true, renormalize: true, mask });
      return [g, mask, r.expertIndex, r.position, r.combineWeights];
    });
    await expectNoLeakedTensors(() => {
      const g = tf.tensor2d(VMOE_GATES);
      const grad = tf.grad((x: tf.Tensor) =>
        tf.sum(assignTopK(x as tf.Tensor2D, { k: 2, capacity: 1 }).combineWeights),
      )(g);
      return [g, grad];
    });
  });

  it('rejects bad inputs with clear messages', () => {
    const g = tf.tensor2d(VMOE_GATES);
    expect(() => assignTopK(g, { k: 4, capacity: 2 })).toThrow(
      'assignTopK: k must be an integer in [1, 3] (the number of experts), got 4.',
    );
    expect(() => assignTopK(g, { k: 0, capacity: 2 })).toThrow(/k must be an integer/);
    expect(() => assignTopK(g, { k: 1, capacity: 0 })).toThrow(
      'assignTopK: capacity must be an integer ≥ 1, got 0.',
    );
    const nan = tf.tensor2d([
      [0.5, 0.5],
      [NaN, 1],
    ]);
    expect(() => assignTopK(nan, { k: 1, capacity: 1 })).toThrow('assignTopK: gates contain NaN at token 1');
    const flat = tf.tensor1d([0.5, 0.5]);
    expect(() => assignTopK(flat as unknown as tf.Tensor2D, { k: 1, capacity: 1 })).toThrow(
      /gates must be a 2-D \[S, E\] tensor/,
    );
    const badMask = tf.tensor1d([1, 1]);
    expect(() => assignTopK(g, { k: 1, capacity: 1, mask: badMask })).toThrow(
      /mask must be a 1-D \[S\] tensor/,
    );
    tf.dispose([g, nan, flat, badMask]);
  });
});
