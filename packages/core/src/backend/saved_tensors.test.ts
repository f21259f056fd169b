import * as tf from '@tensorflow/tfjs';
import { afterAll, expect, it } from 'vitest';
import { layerNorm } from '../ops/layer_norm.js';
import { describeEachBackend, expectNoLeakedTensors, seededUniform } from '../testing/index.js';
import { patchSavedTensors, unpatchSavedTensors } from './saved_tensors.js';

// The cheaper save of tensors for the backward pass must change no gradient, leak nothing, launch no `Identity`
// kernel per saved tensor, and leave higher-order gradients (nested tapes) to tfjs' own method.

function values(n: number, seed: number): Float32Array {
  const u = seededUniform(seed);
  return Float32Array.from({ length: n }, () => u() * 2 - 1);
}

/** A small network's loss: products, broadcasts, a LayerNorm, a softmax, a reduction. */
function loss(w: tf.Variable, b: tf.Variable, x: tf.Tensor): tf.Scalar {
  const h = tf.relu(tf.add(tf.matMul(x, w), b));
  const n = layerNorm(h, tf.onesLike(b), tf.zerosLike(b), 1e-5);
  return tf.mean(tf.mul(tf.softmax(n), tf.sigmoid(h)));
}

function gradsOf(w: tf.Variable, b: tf.Variable, x: tf.Tensor): Float32Array[] {
  const { value, grads } = tf.variableGrads(() => loss(w, b, x), [w, b]);
  const out = [value, grads[w.name], grads[b.name]].map((t) => t.dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

describeEachBackend('saved tensors for the backward pass', () => {
  afterAll(() => patchSavedTensors());

  it('leave loss and gradients bitwise unchanged, with no Identity kernel per saved tensor', () => {
    const w = tf.variable(tf.tensor2d(values(12 * 8, 1), [12, 8]));
    const b = tf.variable(tf.tensor1d(values(8, 2)));
    const x = tf.tensor2d(values(5 * 12, 3), [5, 12]);
    // Engine.clone is what runs the Identity kernel (and records a tape node) for each tensor tfjs saves.
    const engine = Object.getPrototypeOf(tf.engine()) as { clone: (t: tf.Tensor) => tf.Tensor };
    const clone = engine.clone;
    let clones = 0;
    engine.clone = function (this: unknown, t: tf.Tensor) {
      clones++;
      return clone.call(this, t);
    };
    try {
      unpatchSavedTensors();
      const before = gradsOf(w, b, x);
      const slow = clones;
      patchSavedTensors();
      clones = 0;
      const after = gradsOf(w, b, x);
      after.forEach((a, i) => expect(Array.from(a)).toEqual(Array.from(before[i])));
      // Left: the custom-gradient ops' own saves (the LayerNorm kernel's), which tfjs clones directly.
      expect(slow).toBeGreaterThanOrEqual(10);
      expect(clones).toBeLessThanOrEqual(slow - 10);
    } finally {
      engine.clone = clone;
    }
    tf.dispose([w, b, x]);
  });

  it('leak no tensors', async () => {
    const w = tf.variable(tf.tensor2d(values(12 * 8, 4), [12, 8]));
    const b = tf.variable(tf.tensor1d(values(8, 5)));
    const x = tf.tensor2d(values(5 * 12, 6), [5, 12]);
    await expectNoLeakedTensors(() => void gradsOf(w, b, x));
    tf.dispose([w, b, x]);
  });

  it('leaves higher-order gradients to tfjs (d²/dx² x³ = 6x through saved tensors)', () => {
    const x = tf.tensor1d([0.5, -2, 3]);
    const second = tf.grad((a: tf.Tensor) => tf.grad((c: tf.Tensor) => tf.mul(tf.mul(c, c), c))(a));
    const g = second(x);
    expect(Array.from(g.dataSync())).toEqual([3, -12, 18]);
    tf.dispose([x, g]);
  });

  it('frees the saved tensors when a gradient is abandoned by disposing its result', async () => {
    const x = tf.tensor1d([1, 2, 3]);
    await expectNoLeakedTensors(() => {
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.exp(tf.mul(a, a))))(x);
      g.dispose();
    });
    x.dispose();
  });
});
