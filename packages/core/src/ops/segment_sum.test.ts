import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { scatterAdd } from './scatter_add.js';
import { segmentSum } from './segment_sum.js';

describeEachBackend('segmentSum', () => {
  it('sums rows per segment and drops negative ids (TensorFlow semantics)', () => {
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ]);
    const out = segmentSum(x, tf.tensor1d([2, 0, 2, -1], 'int32'), 3);
    expect(out.arraySync()).toEqual([
      [3, 4],
      [0, 0],
      [6, 8],
    ]);
    tf.dispose([x, out]);
  });

  it('has a correct gradient', () => {
    const x = tf.randomNormal([6, 3], 0, 1, 'float32', 2);
    const ids = tf.tensor1d([1, 0, 1, 3, -1, 0], 'int32');
    expect(checkGradients((a) => segmentSum(a, ids, 4), [x]).maxRelativeError).toBeLessThan(1e-3);
    tf.dispose([x, ids]);
  });

  it('leaks no tensors', async () => {
    const x = tf.randomNormal([5, 2]);
    const ids = tf.tensor1d([0, 1, 0, 1, 2], 'int32');
    await expectNoLeakedTensors(() => tf.grad((a: tf.Tensor) => tf.sum(segmentSum(a, ids, 3)))(x));
    tf.dispose([x, ids]);
  });
});

describeEachBackend('scatterAdd', () => {
  it('adds rows at indices, duplicates accumulating', () => {
    const x = tf.ones([3, 2]);
    const out = scatterAdd(
      x,
      tf.tensor1d([2, 0, 2], 'int32'),
      tf.tensor2d([
        [1, 1],
        [2, 2],
        [3, 3],
      ]),
    );
    expect(out.arraySync()).toEqual([
      [3, 3],
      [1, 1],
      [5, 5],
    ]);
    tf.dispose([x, out]);
  });

  it('is differentiable in x and updates', () => {
    const x = tf.randomNormal([4, 3], 0, 1, 'float32', 3);
    const u = tf.randomNormal([5, 3], 0, 1, 'float32', 4);
    const idx = tf.tensor1d([3, 0, 3, 1, 1], 'int32');
    const r = checkGradients((a, b) => tf.square(scatterAdd(a, idx, b)), [x, u]);
    expect(r.maxRelativeError).toBeLessThan(1e-3);
    tf.dispose([x, u, idx]);
  });

  it('rejects out-of-range indices by position', () => {
    const x = tf.zeros([2, 2]);
    expect(() => scatterAdd(x, tf.tensor1d([0, 2], 'int32'), tf.zeros([2, 2]))).toThrow(
      'scatterAdd: index 2 at position 1 is out of range [0, 2).',
    );
    x.dispose();
  });

  it('leaks no tensors', async () => {
    const x = tf.zeros([3, 2]);
    const u = tf.ones([2, 2]);
    const idx = tf.tensor1d([0, 2], 'int32');
    await expectNoLeakedTensors(() =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(scatterAdd(a, idx, b)))([x, u]),
    );
    tf.dispose([x, u, idx]);
  });
});
