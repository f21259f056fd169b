import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { clipLoss, sigLipLoss } from './contrastive.js';

function jsClip(img: number[][], txt: number[][], s: number, targets?: number[][]): number {
  const norm = (v: number[]) => v.map((x) => x / Math.hypot(...v));
  const I = img.map(norm);
  const T = txt.map(norm);
  const n = I.length;
  const logits = I.map((a) => T.map((b) => s * a.reduce((acc, x, k) => acc + x * b[k], 0)));
  const tgt = targets ?? logits.map((_, i) => logits.map((__, j) => (i === j ? 1 : 0)));
  const ce = (rows: number[][], t: number[][]) =>
    rows.reduce((acc, row, i) => {
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
      return acc + row.reduce((a, v, j) => a + t[i][j] * (lse - v), 0);
    }, 0) / n;
  const transpose = (m: number[][]) => m[0].map((_, j) => m.map((r) => r[j]));
  return (ce(logits, tgt) + ce(transpose(logits), transpose(tgt))) / 2;
}

describeEachBackend('contrastive losses', () => {
  it('ClipLoss golden value 1.1912904354682028 (open_clip ClipLoss, docs/reference.md §2)', () => {
    const loss = clipLoss(
      tf.tensor2d([
        [1, 0],
        [0.6, 0.8],
      ]),
      tf.tensor2d([
        [0.8, 0.6],
        [0, 1],
      ]),
      Math.log(1 / 0.07),
    );
    expect(loss.dataSync()[0]).toBeCloseTo(1.1912904354682028, 5);
    loss.dispose();
  });

  it('matches a float64 reference on random inputs, diagonal and same-class', () => {
    const img = tf.randomNormal([6, 5], 0, 1, 'float32', 1) as tf.Tensor2D;
    const txt = tf.randomNormal([6, 5], 0, 1, 'float32', 2) as tf.Tensor2D;
    const labelsArr = [0, 1, 0, 2, 1, 0];
    const I = img.arraySync();
    const T = txt.arraySync();
    expect(clipLoss(img, txt, Math.log(10)).dataSync()[0]).toBeCloseTo(jsClip(I, T, 10), 4);
    const targets = labelsArr.map((a) => {
      const row: number[] = labelsArr.map((b) => (a === b ? 1 : 0));
      const sum = row.reduce((x, y) => x + y);
      return row.map((v) => v / sum);
    });
    const labels = tf.tensor1d(labelsArr, 'int32');
    const same = clipLoss(img, txt, Math.log(10), { positives: 'same-class', labels });
    expect(same.dataSync()[0]).toBeCloseTo(jsClip(I, T, 10, targets), 4);
    tf.dispose([img, txt, labels, same]);
  });

  it('SigLIP loss equals its definition, and same-class positives lower it for duplicated captions', () => {
    const img = tf.tensor2d([
      [1, 0],
      [0, 1],
      [1, 0.1],
    ]);
    const txt = tf.tensor2d([
      [1, 0],
      [0, 1],
      [1, 0],
    ]);
    const s = 10;
    const b = -5;
    const loss = sigLipLoss(img, txt, Math.log(s), b).dataSync()[0];
    const I = (img.arraySync() as number[][]).map((v) => v.map((x) => x / Math.hypot(...v)));
    const T = (txt.arraySync() as number[][]).map((v) => v.map((x) => x / Math.hypot(...v)));
    let want = 0;
    I.forEach((a, i) =>
      T.forEach((t, j) => {
        const z = i === j ? 1 : -1;
        const x = s * (a[0] * t[0] + a[1] * t[1]) + b;
        want += Math.log1p(Math.exp(-z * x));
      }),
    );
    expect(loss).toBeCloseTo(want / 3, 4);
    const labels = tf.tensor1d([0, 1, 0], 'int32');
    expect(
      sigLipLoss(img, txt, Math.log(s), b, { positives: 'same-class', labels }).dataSync()[0],
    ).toBeLessThan(loss);
    tf.dispose([img, txt, labels]);
  });

  it('has correct gradients w.r.t. embeddings and the logit scale', () => {
    const img = tf.randomNormal([4, 3], 0, 1, 'float32', 3);
    const txt = tf.randomNormal([4, 3], 0, 1, 'float32', 4);
    const scale = tf.scalar(Math.log(5));
    const labels = tf.tensor1d([0, 1, 0, 1], 'int32');
    const f = (a: tf.Tensor, b: tf.Tensor, s: tf.Tensor) =>
      clipLoss(a as tf.Tensor2D, b as tf.Tensor2D, s as tf.Scalar);
    expect(checkGradients(f, [img, txt, scale], { eps: 1e-3 }).maxRelativeError).toBeLessThan(1e-3);
    const g = (a: tf.Tensor, b: tf.Tensor, s: tf.Tensor) =>
      clipLoss(a as tf.Tensor2D, b as tf.Tensor2D, s as tf.Scalar, { positives: 'same-class', labels });
    expect(checkGradients(g, [img, txt, scale], { eps: 1e-3 }).maxRelativeError).toBeLessThan(1e-3);
    const h = (a: tf.Tensor, b: tf.Tensor, s: tf.Tensor) =>
      sigLipLoss(a as tf.Tensor2D, b as tf.Tensor2D, s as tf.Scalar, -2);
    expect(checkGradients(h, [img, txt, scale], { eps: 1e-3 }).maxRelativeError).toBeLessThan(1e-3);
    tf.dispose([img, txt, scale, labels]);
  });

  it('leaks no tensors and rejects mismatched inputs', async () => {
    const img = tf.randomNormal([4, 3]) as tf.Tensor2D;
    const txt = tf.randomNormal([4, 3]) as tf.Tensor2D;
    const scale = tf.scalar(1);
    await expectNoLeakedTensors(() =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => clipLoss(a as tf.Tensor2D, b as tf.Tensor2D, scale))([
        img,
        txt,
      ]),
    );
    expect(() => clipLoss(img, tf.zeros([3, 3]) as tf.Tensor2D, 1)).toThrow(
      /expected image \[N, D\] and text \[N, D\]/,
    );
    expect(() => clipLoss(img, txt, 1, { positives: 'same-class' })).toThrow(/needs labels \[4\]/);
    tf.dispose([img, txt, scale]);
  });
});
