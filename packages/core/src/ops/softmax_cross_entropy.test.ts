import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { l2Normalize } from './l2_normalize.js';
import { softmaxCrossEntropy } from './softmax_cross_entropy.js';

function jsCrossEntropy(logits: number[][], labels: number[]): number[] {
  return logits.map((row, i) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    return lse - row[labels[i]];
  });
}

describeEachBackend('softmaxCrossEntropy', () => {
  it('matches a float64 reference per row, summed and averaged', () => {
    const logits = tf.randomNormal([5, 4], 0, 3, 'float32', 31) as tf.Tensor2D;
    const labels = tf.tensor1d([0, 3, 1, 1, 2], 'int32');
    const want = jsCrossEntropy(logits.arraySync() as number[][], [0, 3, 1, 1, 2]);
    const rows = Array.from(softmaxCrossEntropy(logits, labels, 'none').dataSync());
    rows.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    expect(softmaxCrossEntropy(logits, labels, 'sum').dataSync()[0]).toBeCloseTo(
      want.reduce((a, b) => a + b),
      4,
    );
    expect(softmaxCrossEntropy(logits, labels).dataSync()[0]).toBeCloseTo(
      want.reduce((a, b) => a + b) / 5,
      5,
    );
    tf.dispose([logits, labels]);
  });

  it('gives the open_clip ClipLoss golden value 1.1912904354682028 (docs/reference.md §2)', () => {
    const i = l2Normalize(
      tf.tensor2d([
        [1, 0],
        [0.6, 0.8],
      ]),
    );
    const t = l2Normalize(
      tf.tensor2d([
        [0.8, 0.6],
        [0, 1],
      ]),
    );
    const logits = tf.mul(tf.matMul(i, t, false, true), 1 / 0.07) as tf.Tensor2D;
    const labels = tf.tensor1d([0, 1], 'int32');
    const loss = tf.div(
      tf.add(softmaxCrossEntropy(logits, labels), softmaxCrossEntropy(tf.transpose(logits), labels)),
      2,
    );
    expect(loss.dataSync()[0]).toBeCloseTo(1.1912904354682028, 5);
    tf.dispose([i, t, logits, labels, loss]);
  });

  it('has a correct gradient for every reduction', () => {
    const logits = tf.randomNormal([4, 6], 0, 1, 'float32', 32);
    const labels = tf.tensor1d([5, 0, 2, 2], 'int32');
    for (const r of ['mean', 'sum', 'none'] as const) {
      expect(
        checkGradients((z) => softmaxCrossEntropy(z as tf.Tensor2D, labels, r), [logits]).maxRelativeError,
      ).toBeLessThan(1e-3);
    }
    tf.dispose([logits, labels]);
  });

  it('names a bad label and its row', () => {
    const logits = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => softmaxCrossEntropy(logits, tf.tensor1d([0, 3], 'int32'))).toThrow(
      'softmaxCrossEntropy: label 3 at row 1 is out of range [0, 3).',
    );
    expect(() => softmaxCrossEntropy(logits, tf.tensor1d([0, 1]))).toThrow(/labels must be int32/);
    logits.dispose();
  });

  it('leaks no tensors', async () => {
    const logits = tf.randomNormal([3, 4]);
    const labels = tf.tensor1d([0, 1, 2], 'int32');
    await expectNoLeakedTensors(() =>
      tf.grad((z: tf.Tensor) => softmaxCrossEntropy(z as tf.Tensor2D, labels))(logits),
    );
    tf.dispose([logits, labels]);
  });
});
