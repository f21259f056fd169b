import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import {
  checkGradients,
  describeEachBackend,
  expectNoLeakedTensors,
  seededUniform,
} from '../testing/index.js';

// The Sum and Mean gradients registered in reduce_grads.ts: each input element gets the output gradient of the
// position it was reduced into (divided by the reduced size for Mean), exactly, on every backend. Tile's last.

function values(n: number, seed: number): Float32Array {
  const u = seededUniform(seed);
  return Float32Array.from({ length: n }, () => u() * 2 - 1);
}

describeEachBackend('Sum, Mean and Tile gradients', () => {
  const shape = [3, 4, 5];
  const cases: Array<[string, number | number[] | undefined, boolean]> = [
    ['all axes', undefined, false],
    ['last axis', 2, false],
    ['first axis, keepDims', 0, true],
    ['middle and last (negative)', [1, -1], false],
    ['first and last', [0, 2], true],
  ];
  for (const [label, axis, keepDims] of cases) {
    it(`are exact: ${label}`, () => {
      const x = tf.tensor(values(60, 1), shape);
      for (const mean of [false, true]) {
        const f = (a: tf.Tensor) => (mean ? tf.mean(a, axis, keepDims) : tf.sum(a, axis, keepDims));
        const outShape = f(x).shape;
        const dy = tf.tensor(
          values(
            outShape.reduce((p, q) => p * q, 1),
            2,
          ),
          outShape,
        );
        const dx = tf.grad(f)(x, dy);
        const axes = axis == null ? [0, 1, 2] : [axis].flat().map((a) => (a < 0 ? a + 3 : a));
        const n = axes.reduce((p, a) => p * shape[a], 1);
        const dyv = dy.dataSync();
        const got = dx.dataSync();
        // Index of each input element's output position.
        const kept = [0, 1, 2].filter((a) => !axes.includes(a));
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 4; j++)
            for (let k = 0; k < 5; k++) {
              const idx = [i, j, k];
              let o = 0;
              for (const a of kept) o = o * shape[a] + idx[a];
              const want = mean ? Math.fround(dyv[o] / n) : dyv[o];
              expect(got[(i * 4 + j) * 5 + k]).toBe(want);
            }
        tf.dispose([dy, dx]);
      }
      x.dispose();
    });
  }

  it('pass a finite-difference check and leak nothing', async () => {
    const x = tf.tensor(values(60, 3), shape);
    const w = tf.tensor(values(4, 4), [4, 1]);
    const f = (a: tf.Tensor) =>
      tf.add(tf.sum(tf.mul(tf.sum(a, 2, true), w)), tf.mean(tf.square(a), [0, 1]).sum());
    expect(checkGradients(f, [x]).maxRelativeError).toBeLessThan(1e-3);
    await expectNoLeakedTensors(() => tf.grad(f)(x));
    tf.dispose([x, w]);
  });

  it('Tile: each input element gets the sum of the gradients of its copies, at every rank, and passes FD', async () => {
    const cases: Array<[number[], number[]]> = [
      [[3], [4]],
      [
        [1, 1, 4],
        [5, 1, 1],
      ], // broadcastTo of a class token
      [
        [2, 3],
        [2, 2],
      ],
      [
        [2, 1, 2, 1, 2],
        [1, 3, 2, 2, 1],
      ], // rank 5: tfjs' own gradient stops at rank 4
    ];
    for (const [shape, reps] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(values(n, 5), shape);
      const outShape = shape.map((d, i) => d * reps[i]);
      const dy = tf.tensor(
        values(
          outShape.reduce((a, b) => a * b, 1),
          6,
        ),
        outShape,
      );
      const dx = tf.grad((a: tf.Tensor) => tf.tile(a, reps))(x, dy);
      // Reference: walk the output, adding each gradient into the input element it copied (float64).
      const want = new Float64Array(n);
      const dyv = dy.dataSync();
      const outStrides = [...tf.util.computeStrides(outShape), 1];
      const inStrides = [...tf.util.computeStrides(shape), 1];
      for (let o = 0; o < dyv.length; o++) {
        let i = 0;
        for (let a = 0; a < shape.length; a++) {
          const idx = Math.floor(o / outStrides[a]) % outShape[a];
          i += (idx % shape[a]) * inStrides[a];
        }
        want[i] += dyv[o];
      }
      const got = dx.dataSync();
      for (let i = 0; i < n; i++) expect(got[i]).toBeCloseTo(want[i], 5);
      const f = (a: tf.Tensor) => tf.sum(tf.mul(tf.tile(a, reps), dy));
      expect(checkGradients(f, [x]).maxRelativeError, `${shape} × ${reps}`).toBeLessThan(1e-3);
      await expectNoLeakedTensors(() => tf.grad((a: tf.Tensor) => tf.tile(a, reps))(x, dy));
      tf.dispose([x, dy, dx]);
    }
  });
});
