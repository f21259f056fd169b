import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { clipByGlobalNorm, globalNorm } from './clip.js';

describeEachBackend('clipByGlobalNorm', () => {
  it('scales by maxNorm / (norm + 1e-6) when the global norm is too large', () => {
    // ‖[3, 4]‖² + ‖[12]‖² = 25 + 144 = 169, so the global norm is 13.
    const a = tf.tensor1d([3, 4]);
    const b = tf.tensor2d([[12]]);
    const { grads, globalNorm: norm } = clipByGlobalNorm({ a, b }, 6.5);
    expect(norm).toBeCloseTo(13, 5);
    const coef = 6.5 / (13 + 1e-6);
    const ga = grads.a.dataSync();
    expect(ga[0]).toBeCloseTo(3 * coef, 6);
    expect(ga[1]).toBeCloseTo(4 * coef, 6);
    expect(grads.b.shape).toEqual([1, 1]);
    expect(grads.b.dataSync()[0]).toBeCloseTo(12 * coef, 5);
    // Inputs are untouched and still alive.
    expect(Array.from(a.dataSync())).toEqual([3, 4]);
    expect(a.isDisposed || b.isDisposed).toBe(false);
    tf.dispose([a, b, grads.a, grads.b]);
  });

  it('returns equal-valued new tensors when the norm is within bounds', () => {
    const a = tf.tensor1d([0.3, -0.4]);
    const { grads, globalNorm: norm } = clipByGlobalNorm({ a }, 1);
    expect(norm).toBeCloseTo(0.5, 6);
    expect(grads.a).not.toBe(a);
    expect(Array.from(grads.a.dataSync())).toEqual(Array.from(a.dataSync()));
    grads.a.dispose();
    expect(a.isDisposed).toBe(false);
    a.dispose();
  });

  it('handles an empty record and rejects a bad maxNorm', () => {
    expect(clipByGlobalNorm({}, 1)).toEqual({ grads: {}, globalNorm: 0 });
    expect(globalNorm({})).toBe(0);
    const a = tf.tensor1d([1]);
    expect(() => clipByGlobalNorm({ a }, 0)).toThrow(/maxNorm/);
    expect(() => clipByGlobalNorm({ a }, NaN)).toThrow(/maxNorm/);
    a.dispose();
  });

  it('leaks no tensors', async () => {
    const a = tf.tensor1d([3, 4]);
    const b = tf.tensor1d([1, 2, 2]);
    await expectNoLeakedTensors(() => clipByGlobalNorm({ a, b }, 1).grads);
    await expectNoLeakedTensors(() => clipByGlobalNorm({ a, b }, 100).grads);
    await expectNoLeakedTensors(() => {
      globalNorm({ a, b });
    });
    tf.dispose([a, b]);
  });
});
