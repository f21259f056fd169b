import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { cosineLoss } from './cosine_loss.js';
import { crossEntropyLoss } from './cross_entropy_loss.js';
import { l1Loss } from './l1_loss.js';
import { mseLoss } from './mse_loss.js';
import { taskLoss } from './task_loss.js';

const value = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

describeEachBackend('task losses', () => {
  it('match hand-computed values', () => {
    const logits = tf.tensor2d([
      [1, 2, 3],
      [0, 0, 0],
    ]);
    const labels = tf.tensor1d([2, 1], 'int32');
    // (ln(e + e² + e³) − 3 + ln 3) / 2
    expect(value(crossEntropyLoss(logits, labels))).toBeCloseTo((0.40760596 + Math.log(3)) / 2, 5);

    const pred = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const target = tf.tensor2d([
      [0, 2],
      [5, 3],
    ]);
    expect(value(l1Loss(pred, target))).toBeCloseTo((1 + 0 + 2 + 1) / 4, 6);
    expect(value(mseLoss(pred, target))).toBeCloseTo((1 + 0 + 4 + 1) / 4, 6);

    // Pixel 1: cos([1,0],[1,1]) = 1/√2; pixel 2: cos([0,2],[0,−3]) = −1.
    const p2 = tf.tensor4d([1, 0, 0, 2], [1, 1, 2, 2]);
    const t2 = tf.tensor4d([1, 1, 0, -3], [1, 1, 2, 2]);
    expect(value(cosineLoss(p2, t2))).toBeCloseTo((1 - Math.SQRT1_2 + 2) / 2, 5);
    // One channel: only signs count (0 where they agree, 2 where they differ).
    const p1 = tf.tensor3d([1, -2, 0.5], [1, 3, 1]);
    const t1 = tf.tensor3d([3, 1, 0.1], [1, 3, 1]);
    expect(value(cosineLoss(p1, t1))).toBeCloseTo(2 / 3, 5);
    tf.dispose([logits, labels, pred, target, p2, t2, p1, t1]);
  });

  it('taskLoss picks cross-entropy or the dense task’s loss (default L1)', () => {
    const pred = tf.tensor4d([1, 0, 0, 2], [1, 1, 2, 2]);
    const target = tf.tensor4d([1, 1, 0, -3], [1, 1, 2, 2]);
    expect(value(taskLoss({ name: 'd', kind: 'dense', outChannels: 2 }, pred, target))).toBeCloseTo(
      (0 + 1 + 0 + 5) / 4,
      6,
    );
    expect(
      value(taskLoss({ name: 'd', kind: 'dense', outChannels: 2, loss: 'mse' }, pred, target)),
    ).toBeCloseTo(26 / 4, 5);
    expect(
      value(taskLoss({ name: 'n', kind: 'dense', outChannels: 2, loss: 'cosine' }, pred, target)),
    ).toBeCloseTo((1 - Math.SQRT1_2 + 2) / 2, 5);
    const logits = tf.tensor2d([[0, 0, 0]]);
    const labels = tf.tensor1d([1], 'int32');
    expect(value(taskLoss({ name: 'c', kind: 'classification', numClasses: 3 }, logits, labels))).toBeCloseTo(
      Math.log(3),
      5,
    );
    const floatLabels = tf.tensor1d([1]);
    expect(() => taskLoss({ name: 'c', kind: 'classification', numClasses: 3 }, logits, floatLabels)).toThrow(
      /Task "c": classification targets must be int32 labels \[N\]/,
    );
    tf.dispose([pred, target, logits, labels, floatLabels]);
  });

  it('reject mismatched shapes with the layout named', () => {
    const a = tf.zeros([1, 2, 2, 1]);
    const b = tf.zeros([1, 2, 2, 3]);
    const i = tf.zeros([1, 2, 2, 1], 'int32');
    expect(() => l1Loss(a, b)).toThrow(/l1Loss: prediction \[1,2,2,1\] and target \[1,2,2,3\]/);
    expect(() => cosineLoss(a, b)).toThrow(/cosineLoss/);
    expect(() => mseLoss(a, i)).toThrow(/mseLoss: target must be float32/);
    tf.dispose([a, b, i]);
  });

  it('have the gradients finite differences give', () => {
    const pred = tf.tensor4d([0.3, -0.7, 1.1, 0.2, -0.4, 0.9, 0.5, 1.3, -1.2, 0.6, 0.8, -0.1], [1, 2, 2, 3]);
    const target = tf.tensor4d([0.1, 0.2, 0.9, -0.6, 0.4, 0.3, 0.7, -0.8, 0.5, 1.0, 0.2, 0.4], [1, 2, 2, 3]);
    // L1 is not differentiable where pred = target; no element here is within eps of that.
    for (const f of [l1Loss, mseLoss, cosineLoss]) {
      expect(checkGradients((p) => f(p, target), [pred]).maxRelativeError, f.name).toBeLessThan(2e-3);
    }
    const logits = tf.tensor2d([
      [0.2, -1, 0.5],
      [1.5, 0.3, -0.2],
    ]);
    const labels = tf.tensor1d([2, 0], 'int32');
    expect(checkGradients((z) => crossEntropyLoss(z, labels), [logits]).maxRelativeError).toBeLessThan(1e-3);
    tf.dispose([pred, target, logits, labels]);
  });

  it('leak no tensors, forward and backward', async () => {
    const pred = tf.randomNormal([1, 2, 2, 3], 0, 1, 'float32', 1);
    const target = tf.randomNormal([1, 2, 2, 3], 0, 1, 'float32', 2);
    for (const f of [l1Loss, mseLoss, cosineLoss]) {
      await expectNoLeakedTensors(() => f(pred, target));
      await expectNoLeakedTensors(() => tf.grad((p: tf.Tensor) => f(p, target))(pred));
    }
    const logits = tf.tensor2d([[0.2, -1, 0.5]]);
    const labels = tf.tensor1d([2], 'int32');
    await expectNoLeakedTensors(() => tf.grad((z: tf.Tensor) => crossEntropyLoss(z, labels))(logits));
    tf.dispose([pred, target, logits, labels]);
  });
});
