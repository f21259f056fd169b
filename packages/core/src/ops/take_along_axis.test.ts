import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { takeAlongAxis } from './take_along_axis.js';

describeEachBackend('takeAlongAxis', () => {
  it('matches numpy.take_along_axis on the last and the first axis', () => {
    const x = tf.tensor2d([
      [10, 11, 12],
      [20, 21, 22],
    ]);
    const last = takeAlongAxis(
      x,
      tf.tensor2d(
        [
          [2, 0],
          [1, 1],
        ],
        undefined,
        'int32',
      ),
      -1,
    );
    expect(last.arraySync()).toEqual([
      [12, 10],
      [21, 21],
    ]);
    const first = takeAlongAxis(x, tf.tensor2d([[1, 0, 1]], undefined, 'int32'), 0);
    expect(first.arraySync()).toEqual([[20, 11, 22]]);
    tf.dispose([x, last, first]);
  });

  it('has a correct gradient, repeated indices accumulating (gather → UnsortedSegmentSum)', () => {
    const x = tf.randomNormal([3, 4, 5], 0, 1, 'float32', 1);
    const idx = tf.tensor3d(
      Array.from({ length: 3 * 2 * 5 }, (_, i) => (i * 7) % 4),
      [3, 2, 5],
      'int32',
    );
    const { maxRelativeError } = checkGradients((a) => takeAlongAxis(a, idx, 1), [x]);
    expect(maxRelativeError).toBeLessThan(1e-3);
    const g = tf.grad((a: tf.Tensor) =>
      tf.sum(takeAlongAxis(a, tf.tensor2d([[0, 0, 2]], undefined, 'int32'), 1)),
    )(tf.tensor2d([[1, 2, 3]]));
    expect(g.arraySync()).toEqual([[2, 0, 1]]);
    tf.dispose([x, idx, g]);
  });

  it('rejects mismatched shapes with the shapes in the message', () => {
    const x = tf.zeros([2, 3]);
    expect(() => takeAlongAxis(x, tf.zeros([3, 1], 'int32'), 1)).toThrow(/must match x shape \[2,3\]/);
    expect(() => takeAlongAxis(x, tf.zeros([2, 1]), 1)).toThrow(/indices must be int32/);
    x.dispose();
  });

  it('leaks no tensors', async () => {
    const x = tf.randomNormal([4, 6]);
    const idx = tf.zeros([4, 2], 'int32');
    await expectNoLeakedTensors(() => tf.grad((a: tf.Tensor) => tf.sum(takeAlongAxis(a, idx, 1)))(x));
    tf.dispose([x, idx]);
  });
});
