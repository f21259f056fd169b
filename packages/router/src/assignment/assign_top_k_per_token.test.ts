import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { randomGates, rng } from './assign.test.helpers.js';
import { type AssignTopKOptions, assignTopK } from './assign_top_k.js';

/**
 * `assignTopK` with each token's own number of choices (`kPerToken`, the task-conditioned router's k_t):
 * checked against a literal reference in which a token's choices j ≥ k_s do not exist.
 */

/** The experts of a row in descending gate order (ties: lower index first, as tf.topk). */
function ranked(row: number[]): number[] {
  return row.map((_, e) => e).sort((a, b) => row[b] - row[a] || a - b);
}

/**
 * Literal reference: K-major over the choice rank j, tokens in priority order (BPR: by top-1 gate,
 * stable), each real choice j < k_s of an unmasked token takes the next slot of its expert if one is free.
 */
function reference(gates: number[][], k: number[], C: number, bpr: boolean, mask: number[]) {
  const S = gates.length;
  const K = Math.max(...k);
  const E = gates[0].length;
  const order = Array.from({ length: S }, (_, s) => s).filter((s) => mask[s] !== 0);
  if (bpr) order.sort((a, b) => Math.max(...gates[b]) - Math.max(...gates[a]) || a - b);
  const used = new Array<number>(E).fill(0);
  const index = gates.map((row) => ranked(row).slice(0, K));
  const position = gates.map(() => new Array<number>(K).fill(-1));
  for (let j = 0; j < K; j++) {
    for (const s of order) {
      if (j >= k[s]) continue;
      const e = index[s][j];
      if (used[e] < C) position[s][j] = used[e]++;
    }
  }
  const weight = position.map((row, s) => row.map((p, j) => (p >= 0 ? gates[s][index[s][j]] : 0)));
  return { index, position, weight };
}

function run(gates: number[][], options: Omit<AssignTopKOptions, 'mask'>, maskValues?: number[]) {
  const g = tf.tensor2d(gates);
  const mask = maskValues == null ? undefined : tf.tensor1d(maskValues, 'int32');
  const r = assignTopK(g, { ...options, mask });
  const out = {
    index: r.expertIndex.arraySync(),
    position: r.position.arraySync(),
    weight: r.combineWeights.arraySync(),
    capacity: r.capacity,
  };
  tf.dispose([g, mask, r.expertIndex, r.position, r.combineWeights].filter((t) => t != null));
  return out;
}

describeEachBackend('assignTopK with kPerToken', () => {
  for (const [S, E, K, C] of [
    [12, 4, 2, 3],
    [20, 6, 3, 4],
    [9, 3, 3, 2],
  ]) {
    for (const bpr of [false, true]) {
      it(`equals the literal reference (S=${S}, E=${E}, K=${K}, C=${C}, BPR=${bpr})`, () => {
        for (let seed = 1; seed <= 5; seed++) {
          const gates = randomGates(S, E, seed * 7 + K);
          const next = rng(seed);
          const k = Array.from({ length: S }, () => 1 + Math.floor(next() * K));
          k[0] = K; // the widest token decides the result's width
          const mask = Array.from({ length: S }, (_, s) => (s % 5 === 3 ? 0 : 1));
          const out = run(gates, { k: K, kPerToken: k, capacity: C, batchPriority: bpr }, mask);
          const want = reference(gates, k, C, bpr, mask);
          // Padding choices report the next-best expert (a valid index), dropped.
          expect(out.index).toEqual(want.index);
          expect(out.position).toEqual(want.position);
          expect(out.weight).toEqual(want.weight);
        }
      });
    }
  }

  it('with k_s = K for every token is the plain assignment, bit for bit', () => {
    const gates = randomGates(16, 5, 3);
    for (const bpr of [false, true]) {
      const plain = run(gates, { k: 2, capacity: 4, batchPriority: bpr, renormalize: true });
      const own = run(gates, {
        k: 2,
        kPerToken: new Array<number>(16).fill(2),
        capacity: 4,
        batchPriority: bpr,
        renormalize: true,
      });
      expect(own).toEqual(plain);
    }
  });

  it('padding claims no slot: a k = 1 token leaves its second-best expert free for others', () => {
    // Both tokens' 2nd choice is expert 1; with C = 1, token 0's padding must not take expert 1's slot.
    const gates = [
      [0.6, 0.3, 0.1],
      [0.2, 0.3, 0.5],
    ];
    const out = run(gates, { k: 2, kPerToken: [1, 2], capacity: 1 });
    expect(out.index).toEqual([
      [0, 1],
      [2, 1],
    ]);
    expect(out.position).toEqual([
      [0, -1],
      [0, 0],
    ]);
    expect(out.weight).toEqual([
      [Math.fround(0.6), 0],
      [Math.fround(0.5), Math.fround(0.3)],
    ]);
  });

  it("renormalizes over each token's own choices, and dropless capacity ignores padding", () => {
    const gates = [
      [0.6, 0.3, 0.1],
      [0.2, 0.3, 0.5],
      [0.1, 0.7, 0.2],
    ];
    const out = run(gates, { k: 2, kPerToken: [1, 2, 1], capacity: 'dropless', renormalize: true });
    // Expert loads of real choices: e0 1, e1 2 (tokens 1 and 2), e2 1 → capacity 2; padding (t0→e1,
    // t2→e2) would have made e1's load 3.
    expect(out.capacity).toBe(2);
    expect(out.weight[0]).toEqual([1, 0]);
    expect(out.weight[2]).toEqual([1, 0]);
    expect(out.weight[1][0]).toBeCloseTo(0.5 / 0.8, 6);
    expect(out.weight[1][1]).toBeCloseTo(0.3 / 0.8, 6);
  });

  it('combine weights have the right gradient w.r.t. gates (finite differences)', () => {
    const gates = tf.tensor2d([
      [0.9, 0.3, 0.05, 0.5],
      [0.2, 0.8, 0.6, 0.1],
      [0.7, 0.15, 0.4, 0.35],
      [0.25, 0.45, 0.1, 0.95],
    ]);
    for (const options of [
      { k: 2, kPerToken: [1, 2, 2, 1], capacity: 1 },
      { k: 2, kPerToken: [2, 1, 2, 1], capacity: 2, renormalize: true, batchPriority: true },
    ]) {
      const f = (g: tf.Tensor) => assignTopK(g as tf.Tensor2D, options).combineWeights;
      expect(checkGradients(f, [gates]).maxRelativeError).toBeLessThan(1e-3);
    }
    // The padding choice of token 0 (expert 3) gets no gradient.
    const grad = tf.grad((g: tf.Tensor) =>
      tf.sum(assignTopK(g as tf.Tensor2D, { k: 2, kPerToken: [1, 2, 2, 2], capacity: 4 }).combineWeights),
    )(gates);
    expect((grad.arraySync() as number[][])[0]).toEqual([1, 0, 0, 0]);
    tf.dispose([gates, grad]);
  });

  it('leaks no tensors', async () => {
    await expectNoLeakedTensors(() => {
      const g = tf.tensor2d(randomGates(6, 3, 1));
      const r = assignTopK(g, { k: 2, kPerToken: [1, 2, 1, 2, 2, 1], capacity: 2, renormalize: true });
      return [g, r.expertIndex, r.position, r.combineWeights];
    });
  });

  it('rejects a kPerToken of the wrong length or out of [1, K]', () => {
    const g = tf.tensor2d(randomGates(3, 3, 2));
    expect(() => assignTopK(g, { k: 2, kPerToken: [1, 2], capacity: 2 })).toThrow(
      'assignTopK: kPerToken must have one entry per token (3), got 2.',
    );
    expect(() => assignTopK(g, { k: 2, kPerToken: [1, 3, 1], capacity: 2 })).toThrow(
      'assignTopK: kPerToken[1] must be an integer in [1, 2] (k), got 3.',
    );
    expect(() => assignTopK(g, { k: 2, kPerToken: [0, 1, 1], capacity: 2 })).toThrow(/kPerToken\[0\]/);
    expect(() => assignTopK(g, { k: 2, kPerToken: [1, 1.5, 1], capacity: 2 })).toThrow(/kPerToken\[1\]/);
    g.dispose();
  });
});
