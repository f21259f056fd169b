import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { oneHot } from './one_hot.js';

describeEachBackend('oneHot', () => {
  it('encodes as float32 and leaves out-of-range indices all zero', () => {
    const y = oneHot(tf.tensor1d([0, 2, -1, 5], 'int32'), 3);
    expect(y.dtype).toBe('float32');
    expect(y.arraySync()).toEqual([
      [1, 0, 0],
      [0, 0, 1],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    y.dispose();
  });

  it('keeps the index shape as leading dimensions', () => {
    const y = oneHot(
      tf.tensor2d(
        [
          [0, 2],
          [1, 1],
        ],
        undefined,
        'int32',
      ),
      3,
    );
    expect(y.shape).toEqual([2, 2, 3]);
    y.dispose();
  });

  it('leaks no tensors', async () => {
    const i = tf.tensor1d([1, 0], 'int32');
    await expectNoLeakedTensors(() => oneHot(i, 4));
    i.dispose();
  });
});
