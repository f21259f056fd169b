import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { cumsum } from './cumsum.js';

describeEachBackend('cumsum', () => {
  it('computes inclusive, exclusive and reverse sums on axis 0 and 1', () => {
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(cumsum(x, 0).arraySync()).toEqual([
      [1, 2],
      [4, 6],
      [9, 12],
    ]);
    expect(cumsum(x, 0, { exclusive: true }).arraySync()).toEqual([
      [0, 0],
      [1, 2],
      [4, 6],
    ]);
    expect(cumsum(x, 1, { reverse: true }).arraySync()).toEqual([
      [3, 2],
      [7, 4],
      [11, 6],
    ]);
    x.dispose();
  });

  it('has the correct gradient on axis 0, where tfjs 4.22 gets it wrong', () => {
    // tf.cumsum's own gradient on this input returns [[4,3],[6,4]]; the right answer is the reverse
    // cumsum of the weights along axis 0.
    const w = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(cumsum(a, 0), w)))(tf.zeros([2, 2]));
    expect(g.arraySync()).toEqual([
      [4, 6],
      [3, 4],
    ]);
    tf.dispose([w, g]);
  });

  it('passes the finite-difference check for every axis and mode', () => {
    const x = tf.randomNormal([3, 4, 2], 0, 1, 'float32', 11);
    for (const axis of [0, 1, 2, -1]) {
      for (const exclusive of [false, true]) {
        for (const reverse of [false, true]) {
          const r = checkGradients((a) => cumsum(a, axis, { exclusive, reverse }), [x]);
          expect(r.maxRelativeError, `axis ${axis} exclusive ${exclusive} reverse ${reverse}`).toBeLessThan(
            1e-3,
          );
        }
      }
    }
    x.dispose();
  });

  it('leaks no tensors', async () => {
    const x = tf.randomNormal([5, 3]);
    await expectNoLeakedTensors(() =>
      tf.grad((a: tf.Tensor) => tf.sum(cumsum(a, 0, { exclusive: true })))(x),
    );
    x.dispose();
  });
});
