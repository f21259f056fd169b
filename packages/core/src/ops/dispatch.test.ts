import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { bufferSlot, combineTokens, combineWeights, dispatchMask, dispatchTokens } from './dispatch.js';

// vmoe's dispatch example (docs/reference.md §1), vanilla assignment: (expert, position) per choice with C = 2.
// Positions ≥ C are dropped.
const EXPERT = [
  [0, 2],
  [0, 2],
  [2, 0],
];
const POSITION = [
  [0, 1],
  [1, 2],
  [0, 2],
];
const GATES = [
  [0.4, 0.2],
  [0.5, 0.4],
  [0.6, 0.3],
];

function assignment() {
  return {
    e: tf.tensor2d(EXPERT, undefined, 'int32'),
    p: tf.tensor2d(POSITION, undefined, 'int32'),
    w: tf.tensor2d(GATES),
  };
}

describeEachBackend('dispatch and combine', () => {
  it('marks dropped choices with slot −1', () => {
    const { e, p, w } = assignment();
    expect(bufferSlot(e, p, 2).arraySync()).toEqual([
      [0, 5],
      [1, -1],
      [4, -1],
    ]);
    tf.dispose([e, p, w]);
  });

  it('builds vmoe combine weights; dropped choices weigh 0 (golden: [[.4,.2],[.5,0],[.6,0]])', () => {
    const { e, p, w } = assignment();
    const cw = combineWeights(e, p, w, 3, 2);
    // Summing over experts and slots recovers the kept gate mass per token.
    expect(Array.from(tf.sum(cw, [1, 2]).dataSync())).toEqual([0.6, 0.5, 0.6].map(Math.fround));
    const arr = cw.arraySync() as number[][][];
    expect(arr[0][2][1]).toBeCloseTo(0.2, 6);
    expect(arr[2][2][0]).toBeCloseTo(0.6, 6);
    const mask = dispatchMask(e, p, 3, 2);
    expect(tf.sum(mask).dataSync()[0]).toBe(4);
    tf.dispose([e, p, w, cw, mask]);
  });

  it('index form equals the one-hot einsum form', () => {
    const { e, p, w } = assignment();
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 41) as tf.Tensor2D;
    const buffers = dispatchTokens(x, e, p, 3, 2);
    const viaMask = tf.matMul(tf.reshape(tf.transpose(dispatchMask(e, p, 3, 2), [1, 2, 0]), [6, 3]), x);
    expect(buffers.shape).toEqual([3, 2, 4]);
    expect(Array.from(tf.reshape(buffers, [-1]).dataSync())).toEqual(Array.from(viaMask.dataSync()));
    const y = tf.randomNormal([3, 2, 4], 0, 1, 'float32', 42);
    const out = combineTokens(y as tf.Tensor3D, e, p, w);
    const viaWeights = tf.matMul(tf.reshape(combineWeights(e, p, w, 3, 2), [3, 6]), tf.reshape(y, [6, 4]));
    const a = out.dataSync();
    const b = viaWeights.dataSync();
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 5);
    tf.dispose([e, p, w, x, buffers, viaMask, y, out, viaWeights]);
  });

  it('has correct gradients: dispatch in x, combine in expert outputs and weights, combineWeights in w', () => {
    const { e, p, w } = assignment();
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 43);
    const y = tf.randomNormal([3, 2, 4], 0, 1, 'float32', 44);
    expect(
      checkGradients((a) => dispatchTokens(a as tf.Tensor2D, e, p, 3, 2), [x]).maxRelativeError,
    ).toBeLessThan(1e-3);
    const r = checkGradients((a, b) => combineTokens(a as tf.Tensor3D, e, p, b), [y, w]);
    expect(r.maxRelativeError).toBeLessThan(1e-3);
    expect(checkGradients((b) => combineWeights(e, p, b, 3, 2), [w]).maxRelativeError).toBeLessThan(1e-3);
    tf.dispose([e, p, w, x, y]);
  });

  it('leaks no tensors', async () => {
    const { e, p, w } = assignment();
    const x = tf.randomNormal([3, 4]);
    await expectNoLeakedTensors(() =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(combineTokens(dispatchTokens(a as tf.Tensor2D, e, p, 3, 2), e, p, b)),
      )([x, w]),
    );
    await expectNoLeakedTensors(() => tf.grad((b: tf.Tensor) => tf.sum(combineWeights(e, p, b, 3, 2)))(w));
    tf.dispose([e, p, w, x]);
  });
});
