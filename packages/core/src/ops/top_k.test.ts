import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { argsort } from './argsort.js';
import { topK } from './top_k.js';

function jsTopK(row: number[], k: number): number[] {
  return row
    .map((v, i) => [v, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}

describeEachBackend('topK', () => {
  it('breaks ties by the lower index (a zero-initialised router gives all-equal gates)', () => {
    const x = tf.tensor2d([
      [0.25, 0.25, 0.25, 0.25],
      [0.1, 0.7, 0.7, 0.1],
    ]);
    const { values, indices } = topK(x, 2);
    expect(indices.arraySync()).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(values.arraySync()).toEqual([[0.25, 0.25], [0.7, 0.7].map(Math.fround)]);
    tf.dispose([x, values, indices]);
  });

  it('agrees with a JS reference on random inputs', () => {
    const x = tf.randomUniform([50, 9], 0, 1, 'float32', 5);
    const rows = x.arraySync() as number[][];
    const { indices } = topK(x, 3);
    expect(indices.arraySync()).toEqual(rows.map((r) => jsTopK(r, 3)));
    tf.dispose([x, indices]);
  });

  it('passes gradients to the chosen entries only', () => {
    // Well separated values, so a finite-difference step never changes which entries are chosen.
    const x = tf.tensor2d([
      [0.1, 1.5, -0.7, 2.9],
      [3.1, -1.2, 0.4, 1.8],
    ]);
    expect(checkGradients((a) => topK(a, 2).values, [x]).maxRelativeError).toBeLessThan(1e-3);
    const g = tf.grad((a: tf.Tensor) => tf.sum(topK(a, 1).values))(x);
    expect(g.arraySync()).toEqual([
      [0, 0, 0, 1],
      [1, 0, 0, 0],
    ]);
    tf.dispose([x, g]);
  });

  it('validates k', () => {
    const x = tf.zeros([2, 3]);
    expect(() => topK(x, 4)).toThrow('topK: k must be an integer in [1, 3] (the last dimension), got 4.');
    x.dispose();
  });

  it('leaks no tensors', async () => {
    const x = tf.randomNormal([8, 4]);
    await expectNoLeakedTensors(() => tf.grad((a: tf.Tensor) => tf.sum(topK(a, 2).values))(x));
    await expectNoLeakedTensors(() => {
      const r = topK(x, 2);
      return [r.values, r.indices];
    });
    x.dispose();
  });
});

describeEachBackend('argsort', () => {
  it('is stable for ties, ascending and descending, NaN last', () => {
    const x = tf.tensor1d([0.5, 0.2, 0.5, NaN, 0.2, 0.9]);
    expect(argsort(x).arraySync()).toEqual([1, 4, 0, 2, 5, 3]);
    expect(argsort(x, { descending: true }).arraySync()).toEqual([5, 0, 2, 1, 4, 3]);
    x.dispose();
  });

  it('sorts each row of a matrix like a stable JS sort', () => {
    const x = tf.round(tf.randomUniform([20, 7], 0, 4, 'float32', 9));
    const rows = x.arraySync() as number[][];
    const want = rows.map((r) =>
      r
        .map((v, i) => [v, i] as const)
        .sort((a, b) => b[0] - a[0] || a[1] - b[1])
        .map(([, i]) => i),
    );
    expect(argsort(x, { descending: true }).arraySync()).toEqual(want);
    x.dispose();
  });

  it('leaks no tensors', async () => {
    const x = tf.randomNormal([3, 5]);
    await expectNoLeakedTensors(() => argsort(x));
    x.dispose();
  });
});
