import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { splitHeads } from './split_heads.js';

describeEachBackend('splitHeads', () => {
  const [b, t, h, hd] = [2, 3, 4, 5];
  const packed = () => tf.randomNormal([b * t, 3 * h * hd], 0, 1, 'float32', 1) as tf.Tensor2D;

  it('gives q, k and v per head as slices and transposes do', () => {
    const y = packed();
    const heads = splitHeads(y, b, t, h);
    heads.forEach((got, w) => {
      const want = tf.reshape(
        tf.transpose(tf.reshape(tf.slice(y, [0, w * h * hd], [-1, h * hd]), [b, t, h, hd]), [0, 2, 1, 3]),
        [b * h, t, hd],
      );
      expect(got.shape).toEqual([b * h, t, hd]);
      expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
      want.dispose();
    });
    tf.dispose([y, ...heads]);
  });

  it('has the reverse move as its gradient, also when only some heads are used', () => {
    const y = packed();
    for (const use of [[0, 1, 2], [1], [0, 2]]) {
      const f = (a: tf.Tensor) => {
        const parts = splitHeads(a as tf.Tensor2D, b, t, h);
        return tf.addN(use.map((w) => tf.mul(parts[w], w + 1)));
      };
      expect(checkGradients(f, [y]).maxRelativeError).toBeLessThan(1e-3);
    }
    y.dispose();
  });

  it('rejects a width that is not three blocks of heads', () => {
    const y = tf.zeros([6, 10]) as tf.Tensor2D;
    expect(() => splitHeads(y, b, t, h)).toThrow(/splitHeads: y must be \[2·3, 3·4·headDim\]/);
    y.dispose();
  });

  it('leaks no tensors', async () => {
    const y = packed();
    await expectNoLeakedTensors(() => splitHeads(y, b, t, h));
    await expectNoLeakedTensors(() =>
      tf.grad((a: tf.Tensor) => tf.sum(tf.addN(splitHeads(a as tf.Tensor2D, b, t, h))))(y),
    );
    y.dispose();
  });
});
