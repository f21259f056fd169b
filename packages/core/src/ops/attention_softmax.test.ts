import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { attentionSoftmax } from './attention_softmax.js';

// float64 reference: softmax over the last axis of scale·x + bias, bias [B|1, 1, T, S] broadcast over heads.
function reference(x: tf.Tensor4D, bias: tf.Tensor4D | undefined, scale: number): number[] {
  const [b, h, t, s] = x.shape;
  const xs = x.dataSync();
  const bs = bias?.dataSync();
  const out: number[] = [];
  for (let bi = 0; bi < b; bi++)
    for (let hi = 0; hi < h; hi++)
      for (let ti = 0; ti < t; ti++) {
        const row = Array.from({ length: s }, (_, j) => {
          const v = xs[((bi * h + hi) * t + ti) * s + j] * scale;
          const [bb, , bt] = bias?.shape ?? [1, 1, 1];
          return bs == null ? v : v + bs[((bb === 1 ? 0 : bi) * bt + (bt === 1 ? 0 : ti)) * s + j];
        });
        const m = Math.max(...row);
        const e = row.map((v) => Math.exp(v - m));
        const z = e.reduce((p, q) => p + q, 0);
        out.push(...e.map((v) => v / z));
      }
  return out;
}

describeEachBackend('attentionSoftmax', () => {
  const scores = () => tf.randomNormal([2, 3, 4, 5], 0, 2, 'float32', 1) as tf.Tensor4D;
  const keyMask = () =>
    tf
      .mul(tf.sub(1, tf.tensor4d([1, 1, 0, 1, 0, 1, 1, 1, 1, 1], [2, 1, 1, 5])), -1e9)
      .broadcastTo([2, 1, 4, 5]) as tf.Tensor4D;

  it('is softmax(scale·x + mask) for no mask, a per-example mask and a shared mask', () => {
    const x = scores();
    const masks = [undefined, keyMask(), tf.randomNormal([1, 1, 4, 5], 0, 1, 'float32', 2) as tf.Tensor4D];
    for (const bias of masks) {
      const y = attentionSoftmax(x, bias, 0.7);
      const want = reference(x, bias, 0.7);
      Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
      y.dispose();
      bias?.dispose();
    }
    x.dispose();
  });

  it('gives masked keys exactly zero weight and a fully masked row uniform weights', () => {
    const x = tf.zeros([1, 1, 2, 3]) as tf.Tensor4D;
    const bias = tf.tensor4d([0, -1e9, 0, -1e9, -1e9, -1e9], [1, 1, 2, 3]);
    expect(Array.from(attentionSoftmax(x, bias, 1).dataSync())).toEqual(
      [0.5, 0, 0.5, 1 / 3, 1 / 3, 1 / 3].map(Math.fround),
    );
    tf.dispose([x, bias]);
  });

  it('has a correct gradient in the scores', () => {
    const x = scores();
    const bias = tf.randomNormal([2, 1, 4, 5], 0, 1, 'float32', 3) as tf.Tensor4D;
    expect(
      checkGradients((a) => attentionSoftmax(a as tf.Tensor4D, bias, 0.5), [x]).maxRelativeError,
    ).toBeLessThan(1e-3);
    tf.dispose([x, bias]);
  });

  it('rejects a mask that is not [B or 1, 1, T or 1, S]', () => {
    const x = scores();
    expect(() => attentionSoftmax(x, tf.zeros([2, 3, 4, 5]) as tf.Tensor4D, 1)).toThrow(
      /bias must be \[2 or 1, 1, 4 or 1, 5\]/,
    );
    expect(() => attentionSoftmax(tf.zeros([3, 4, 5]) as never, undefined, 1)).toThrow(/\[B, H, T, S\]/);
    x.dispose();
  });

  it('leaks no tensors', async () => {
    const x = scores();
    const bias = keyMask();
    await expectNoLeakedTensors(() => attentionSoftmax(x, bias, 1));
    await expectNoLeakedTensors(() =>
      tf.grad((a: tf.Tensor) => tf.sum(attentionSoftmax(a as tf.Tensor4D, bias, 1)))(x),
    );
    tf.dispose([x, bias]);
  });
});
