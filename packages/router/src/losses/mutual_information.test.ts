import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { expectClose, randomGates, read } from './fixtures.test-util.js';
import { mutualInformationLoss } from './mutual_information.js';

/** Float64 reference of Mod-Squad's loss, written out loop by loop. */
function mi64(a: number[][], n: number): number {
  const eps = 1e-4;
  const p = a.map((row) => row.map((x) => x / (n + eps)));
  const pt = p.map((row) => row.reduce((s, x) => s + x, 0) + eps);
  const pe = p[0].map((_, e) => p.reduce((s, row) => s + row[e], 0) + eps);
  let loss = 0;
  p.forEach((row, t) => row.forEach((x, e) => (loss -= x * Math.log(x / pt[t] / pe[e] + eps))));
  return loss;
}

/** A [T, E] from per-task token counts and per-task gate rows (every token of a task routes alike). */
function sums(counts: number[], rows: number[][]): number[][] {
  return rows.map((row, t) => row.map((g) => g * counts[t]));
}

describeEachBackend('mutualInformationLoss', () => {
  it('matches a value worked out by hand in float64 (Mod-Squad formula, UMass-Foundation-Model/Mod-Squad)', () => {
    // A = [[3, 1], [0.5, 1.5]], N = 6: P = A / 6.0001, PT = [0.66675556, 0.33342778],
    // PE = [0.58342361, 0.41675972], L = −Σ P ln(P / PT / PE + 1e-4) = −0.11657291327.
    const p00 = 3 / 6.0001;
    const p01 = 1 / 6.0001;
    const p10 = 0.5 / 6.0001;
    const p11 = 1.5 / 6.0001;
    const pt0 = p00 + p01 + 1e-4;
    const pt1 = p10 + p11 + 1e-4;
    const pe0 = p00 + p10 + 1e-4;
    const pe1 = p01 + p11 + 1e-4;
    const byHand = -(
      p00 * Math.log(p00 / pt0 / pe0 + 1e-4) +
      p01 * Math.log(p01 / pt0 / pe1 + 1e-4) +
      p10 * Math.log(p10 / pt1 / pe0 + 1e-4) +
      p11 * Math.log(p11 / pt1 / pe1 + 1e-4)
    );
    expect(byHand).toBeCloseTo(-0.1165729132696222, 12);
    const a = tf.tensor2d([
      [3, 1],
      [0.5, 1.5],
    ]);
    expect(Math.abs(read(mutualInformationLoss(a, 6)) - byHand)).toBeLessThan(1e-6);
    a.dispose();
  });

  it('is ≈ 0 when routing ignores the task (Mod-Squad)', () => {
    const counts = [4, 6, 2];
    const uniform = new Array<number>(8).fill(1 / 8);
    const a = tf.tensor2d(sums(counts, [uniform, uniform, uniform]));
    const loss = read(mutualInformationLoss(a, 12));
    expect(Math.abs(loss)).toBeLessThan(1e-3);
    a.dispose();
  });

  it('is ≈ −ln T when tasks use disjoint experts (Mod-Squad)', () => {
    const two = tf.tensor2d([
      [5, 5, 0, 0],
      [0, 0, 5, 5],
    ]);
    const four = tf.tensor2d([
      [3, 0, 0, 0],
      [0, 3, 0, 0],
      [0, 0, 3, 0],
      [0, 0, 0, 3],
    ]);
    expect(Math.abs(read(mutualInformationLoss(two, 20)) + Math.log(2))).toBeLessThan(1e-3);
    expect(Math.abs(read(mutualInformationLoss(four, 12)) + Math.log(4))).toBeLessThan(1e-3);
    tf.dispose([two, four]);
  });

  it('matches a float64 reference on random task-gate sums', () => {
    for (const [T, E, seed] of [
      [2, 4, 51],
      [3, 16, 52],
      [5, 8, 53],
    ]) {
      const counts = Array.from({ length: T }, (_, t) => 3 + 2 * t);
      const a = sums(counts, randomGates(T, E, seed, 2));
      const n = counts.reduce((x, y) => x + y, 0);
      const tensor = tf.tensor2d(a);
      expectClose(read(mutualInformationLoss(tensor, n)), mi64(a, n));
      tensor.dispose();
    }
  });

  it('has the gradient finite differences give', () => {
    // ln(P/PT/PE + 1e-4) bends sharply as P → 0: keep every entry well above the 0.01 step.
    const rows = sums([6, 9, 4], randomGates(3, 5, 54, 0.5));
    expect(Math.min(...rows.flat())).toBeGreaterThan(0.2);
    const a = tf.tensor2d(rows);
    const f = (x: tf.Tensor) => mutualInformationLoss(x as tf.Tensor2D, 19);
    expect(checkGradients(f, [a]).maxRelativeError).toBeLessThan(1e-3);
    a.dispose();
  });

  it('leaks no tensors, forward and backward', async () => {
    const a = tf.tensor2d(sums([6, 9], randomGates(2, 4, 55)));
    await expectNoLeakedTensors(() =>
      tf.grad((x: tf.Tensor) => mutualInformationLoss(x as tf.Tensor2D, 15))(a),
    );
    a.dispose();
  });

  it('rejects bad input with the function name and the problem', () => {
    const vec = tf.tensor1d([1, 2]);
    const nan = tf.tensor2d([[1, NaN]]);
    const neg = tf.tensor2d([[1, -0.5]]);
    const a = tf.tensor2d([[1, 2]]);
    expect(() => mutualInformationLoss(vec as unknown as tf.Tensor2D, 3)).toThrow(
      /mutualInformationLoss: taskGateSums must be 2-D \[tasks, experts\]/,
    );
    expect(() => mutualInformationLoss(nan, 3)).toThrow('mutualInformationLoss: taskGateSums contain NaN');
    expect(() => mutualInformationLoss(neg, 3)).toThrow(
      /mutualInformationLoss: taskGateSums must be non-negative/,
    );
    expect(() => mutualInformationLoss(a, 0)).toThrow(
      /mutualInformationLoss: totalTokens must be a finite number > 0/,
    );
    tf.dispose([vec, nan, neg, a]);
  });
});
