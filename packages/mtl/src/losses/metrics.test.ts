import * as tf from '@tensorflow/tfjs';
import { describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { accuracy, addAccuracyCounts } from './accuracy.js';
import {
  addErrorSums,
  errorSums,
  meanAbsoluteError,
  meanAbsoluteErrorOf,
  psnr,
  psnrOf,
} from './error_sums.js';

describeEachBackend('evaluation metrics', () => {
  it('accuracy counts top-1 hits (ties → lower class) and sums over batches exactly', async () => {
    const logits = tf.tensor2d([
      [1, 2],
      [3, 0],
      [0, 0],
    ]);
    const labels = tf.tensor1d([1, 1, 0], 'int32');
    const a = accuracy(logits, labels);
    expect(a).toEqual({ correct: 2, count: 3, accuracy: 2 / 3 });
    const b = { correct: 1, count: 1, accuracy: 1 };
    expect(addAccuracyCounts(a, b)).toEqual({ correct: 3, count: 4, accuracy: 0.75 });
    await expectNoLeakedTensors(() => void accuracy(logits, labels));
    const short = tf.tensor1d([0], 'int32');
    expect(() => accuracy(logits, short)).toThrow(/expected logits \[N, C\] and labels \[N\]/);
    tf.dispose([logits, labels, short]);
  });

  it('MAE and PSNR from sums match hand values; batches of different sizes pool exactly', async () => {
    const pred = tf.tensor2d([[0.5, 1]]);
    const target = tf.tensor2d([[0, 0.5]]);
    expect(errorSums(pred, target)).toEqual({ absolute: 1, squared: 0.5, count: 2 });
    expect(meanAbsoluteError(pred, target)).toBeCloseTo(0.5, 6);
    // MSE 0.25: 10·log10(1/0.25) = 6.0206 dB; with maxValue 2: 12.0412 dB.
    expect(psnr(pred, target)).toBeCloseTo(6.0206, 4);
    expect(psnr(pred, target, 2)).toBeCloseTo(12.0412, 4);
    expect(psnr(pred, pred)).toBe(Infinity);
    const pooled = addErrorSums(
      { absolute: 1, squared: 0.5, count: 2 },
      { absolute: 0.2, squared: 0.04, count: 1 },
    );
    expect(meanAbsoluteErrorOf(pooled)).toBeCloseTo(1.2 / 3, 9);
    expect(psnrOf(pooled)).toBeCloseTo(10 * Math.log10(3 / 0.54), 9);
    expect(() => psnr(pred, target, 0)).toThrow(/maxValue must be a positive number/);
    await expectNoLeakedTensors(() => void errorSums(pred, target));
    tf.dispose([pred, target]);
  });
});
