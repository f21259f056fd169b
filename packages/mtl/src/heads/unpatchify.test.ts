import * as tf from '@tensorflow/tfjs';
import { extractPatches } from '@moevl/vision';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { unpatchify } from './unpatchify.js';

describeEachBackend('unpatchify', () => {
  it('places a hand-written patch vector (channel, row, column) at the right pixels', () => {
    // One image, grid 1×2, p = 2, C = 2: token t, channel c, row r, column q holds 1000t + 100c + 10r + q.
    const token = (t: number) =>
      [0, 1].flatMap((c) => [0, 1].flatMap((r) => [0, 1].map((q) => 1000 * t + 100 * c + 10 * r + q)));
    const patches = tf.tensor3d([[token(0), token(1)]]);
    const img = unpatchify(patches, [1, 2], 2, 2);
    expect(img.shape).toEqual([1, 2, 4, 2]);
    expect(img.arraySync()).toEqual([
      [
        [
          [0, 100],
          [1, 101],
          [1000, 1100],
          [1001, 1101],
        ],
        [
          [10, 110],
          [11, 111],
          [1010, 1110],
          [1011, 1111],
        ],
      ],
    ]);
    tf.dispose([patches, img]);
  });

  it('inverts extractPatches of @moevl/vision (non-square grid, C = 3, batch 2)', () => {
    const [b, c, p, gh, gw] = [2, 3, 2, 2, 3];
    const images = tf.tensor4d(
      Array.from({ length: b * c * gh * p * gw * p }, (_, i) => i),
      [b, c, gh * p, gw * p],
    );
    const patches = tf.reshape(extractPatches(images, p), [b, gh * gw, c * p * p]);
    const back = unpatchify(patches, [gh, gw], p, c);
    const nhwc = tf.transpose(images, [0, 2, 3, 1]);
    expect(back.shape).toEqual([b, gh * p, gw * p, c]);
    expect(Array.from(back.dataSync())).toEqual(Array.from(nhwc.dataSync()));
    tf.dispose([images, patches, back, nhwc]);
  });

  it('has the gradient finite differences give, and leaks nothing', async () => {
    const x = tf.randomNormal([1, 2, 8], 0, 1, 'float32', 3);
    expect(checkGradients((xi) => unpatchify(xi, [2, 1], 2, 2), [x]).maxRelativeError).toBeLessThan(1e-3);
    await expectNoLeakedTensors(() => unpatchify(x, [1, 2], 2, 2));
    await expectNoLeakedTensors(() => tf.grad((xi: tf.Tensor) => tf.sum(unpatchify(xi, [2, 1], 2, 2)))(x));
    x.dispose();
  });

  it('rejects a patch tensor that does not match the grid', () => {
    const x = tf.zeros([1, 3, 8]);
    expect(() => unpatchify(x, [1, 2], 2, 2)).toThrow(/expected patches \[N, 2, 8\]/);
    x.dispose();
  });
});
