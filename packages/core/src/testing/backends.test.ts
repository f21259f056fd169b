import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { customGrad } from '../ops/custom_grad.js';
import { describeEachBackend, testBackends } from './backends.js';
import { checkGradients } from './gradient_check.js';
import { countLeakedTensors } from './leaks.js';

const seen: string[] = [];

describeEachBackend('describeEachBackend', (backend) => {
  it('switches the engine to the named backend', () => {
    const expected = backend === 'tensorflow-gpu' ? 'tensorflow' : backend;
    expect(tf.getBackend()).toBe(expected);
    seen.push(backend);
  });
});

it('covered wasm and cpu at least', () => {
  expect(testBackends()).toEqual(expect.arrayContaining(['wasm', 'cpu']));
  expect(seen).toEqual(expect.arrayContaining(['wasm', 'cpu']));
});

it('checkGradients catches a wrong gradient', () => {
  // The checker must be able to fail: a custom gradient that is off by a factor of 2.
  const wrong = customGrad(([x], save) => {
    save([x]);
    return { value: tf.square(x), gradFunc: (dy, [xs]) => tf.mul(dy, tf.mul(xs, 4)) };
  });
  const x = tf.tensor1d([0.3, -1.2, 2]);
  expect(checkGradients(wrong, [x]).maxRelativeError).toBeGreaterThan(0.4);
  expect(checkGradients((a) => tf.square(a), [x]).maxRelativeError).toBeLessThan(1e-3);
  x.dispose();
});

it('countLeakedTensors sees a leak', async () => {
  const kept: tf.Tensor[] = [];
  expect(await countLeakedTensors(() => void kept.push(tf.zeros([2])))).toBe(1);
  tf.dispose(kept);
});
