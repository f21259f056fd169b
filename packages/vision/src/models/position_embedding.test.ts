import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { interpolatePositionEmbeddings } from './position_embedding.js';
import { resizeGrid, resizeMatrix } from './resize_matrix.js';

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++)
    expect(Math.abs(actual[i] - expected[i]), `index ${i}`).toBeLessThan(tol);
}

it('resizeMatrix is the identity for equal sizes and its rows sum to 1', () => {
  for (const method of ['bicubic', 'bilinear'] as const) {
    const eye = resizeMatrix(5, 5, method);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) expect(eye[i * 5 + j]).toBe(i === j ? 1 : 0);
    for (const [from, to] of [
      [14, 24],
      [7, 3],
      [2, 9],
    ]) {
      const m = resizeMatrix(from, to, method);
      for (let o = 0; o < to; o++) {
        const row = m.subarray(o * from, (o + 1) * from).reduce((a, b) => a + b, 0);
        expect(row).toBeCloseTo(1, 6);
      }
    }
  }
});

it('resizeMatrix matches PyTorch F.interpolate(align_corners=False) on [0, 1] → 4 samples', () => {
  // Hand-computed from PyTorch's upsample kernels: bicubic is Keys' cubic convolution with A = −0.75 and
  // edge-clamped taps (so it overshoots at the ends); bilinear clamps the source coordinate at 0.
  const apply = (m: Float32Array) => [0, 1, 2, 3].map((o) => m[o * 2 + 1]);
  expectClose(apply(resizeMatrix(2, 4, 'bicubic')), [-0.10546875, 0.2265625, 0.7734375, 1.10546875], 1e-7);
  expectClose(apply(resizeMatrix(2, 4, 'bilinear')), [0, 0.25, 0.75, 1], 1e-7);
  expect(() => resizeMatrix(2, 4, 'nearest' as never)).toThrow(
    /unknown method "nearest"; use bicubic or bilinear/,
  );
});

describeEachBackend('position embeddings', () => {
  it('bilinear resizeGrid equals tf.image.resizeBilinear with half-pixel centres', () => {
    const grid = tf.randomNormal([3, 5, 4], 0, 1, 'float32', 1) as tf.Tensor3D;
    for (const [h, w] of [
      [6, 7],
      [2, 3],
    ]) {
      const ours = resizeGrid(grid, h, w, 'bilinear');
      const theirs = tf.image.resizeBilinear(grid, [h, w], false, true);
      expectClose(ours.dataSync(), theirs.dataSync());
      tf.dispose([ours, theirs]);
    }
    grid.dispose();
  });

  it('interpolation is an exact copy when the grids match', () => {
    const pos = tf.randomNormal([1, 1 + 4 * 6, 3], 0, 1, 'float32', 2);
    const same = interpolatePositionEmbeddings(pos, [4, 6], [4, 6], { hasClassToken: true });
    expect(same).not.toBe(pos);
    expect(Array.from(same.dataSync())).toEqual(Array.from(pos.dataSync()));
    tf.dispose([pos, same]);
  });

  it('resizes to another grid, keeps the class token, and keeps a constant grid constant', () => {
    const cls = tf.fill([1, 1, 3], 7);
    const constant = tf.fill([1, 9, 3], 0.5);
    const pos = tf.concat([cls, constant], 1);
    for (const method of ['bicubic', 'bilinear'] as const) {
      const out = interpolatePositionEmbeddings(pos, 3, [5, 4], { hasClassToken: true, method });
      expect(out.shape).toEqual([1, 1 + 20, 3]);
      const v = out.dataSync();
      expect(Array.from(v.slice(0, 3))).toEqual([7, 7, 7]);
      expectClose(v.slice(3), new Array(60).fill(0.5));
      out.dispose();
    }
    const noCls = interpolatePositionEmbeddings(constant, 3, 2, { hasClassToken: false });
    expect(noCls.shape).toEqual([1, 4, 3]);
    tf.dispose([cls, constant, pos, noCls]);
  });

  it('replaces pos_embed in a checkpoint record and names what is wrong', () => {
    const weights = { pos_embed: tf.zeros([1, 5, 2]), other: tf.ones([2]) };
    const out = interpolatePositionEmbeddings(weights, 2, 3, { hasClassToken: true });
    expect(out.pos_embed.shape).toEqual([1, 10, 2]);
    expect(out.other).toBe(weights.other);
    expect(() => interpolatePositionEmbeddings(weights, 3, 3, { hasClassToken: true })).toThrow(
      /expected \[1, 10, D\] for a 3×3 grid plus a class token, got \[1,5,2\]/,
    );
    expect(() =>
      interpolatePositionEmbeddings(weights, 2, 3, { hasClassToken: true, key: 'posemb' }),
    ).toThrow(/no "posemb" among the weights/);
    expect(() => interpolatePositionEmbeddings(weights, 0, 3, { hasClassToken: true })).toThrow(
      /fromGrid must be/,
    );
    tf.dispose([...Object.values(weights), out.pos_embed]);
  });

  it('is differentiable (finite differences) and leaks nothing', async () => {
    const pos = tf.randomNormal([1, 1 + 2 * 3, 2], 0, 1, 'float32', 3);
    const f = (p: tf.Tensor) => interpolatePositionEmbeddings(p, [2, 3], [4, 5], { hasClassToken: true });
    expect(checkGradients(f, [pos]).maxRelativeError).toBeLessThan(1e-3);
    await expectNoLeakedTensors(() => f(pos));
    await expectNoLeakedTensors(() => tf.grad((p: tf.Tensor) => tf.sum(f(p)))(pos));
    pos.dispose();
  });
});
