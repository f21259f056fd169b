import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { describeEachBackend, expectNoLeakedTensors, seededUniform } from '../testing/index.js';
import { hasKernel } from './fused_kernels.js';
import { useNativeMatMul } from './matmul_kernels.js';
import { nativeBlas } from './native_blas.js';
import {
  ADAMW_UPDATE,
  type AdamWUpdateAttrs,
  SUM_OF_SQUARES,
  fusedAdamWUpdate,
  fusedSumOfSquares,
  hasOptimizerKernels,
} from './optimizer_kernels.js';

// The fused optimizer kernels against the composed tfjs ops they replace, on every backend: the AdamW update
// must be bitwise the composed update (so switching paths changes no trained weight), the sum of squares equal
// to a float64 reference. On wasm both kernel paths run: the native addon's (when built) and the JavaScript
// body on the heap (native kernels switched off). Neither is differentiated (an optimizer step is not on the
// gradient tape), so there is no gradient check.

/** The kernel paths of the active backend: wasm's native and JavaScript ones, cpu's JavaScript. */
function paths(): Array<[string, boolean]> {
  if (tf.getBackend() !== 'wasm') return [['js', true]];
  return nativeBlas().ok
    ? [
        ['native', true],
        ['js', false],
      ]
    : [['js', false]];
}

function onEachPath(body: (path: string) => void): void {
  try {
    for (const [name, native] of paths()) {
      useNativeMatMul(native);
      body(name);
    }
  } finally {
    useNativeMatMul(true);
  }
}

function randomTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  const u = seededUniform(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => (u() * 2 - 1) * scale),
    shape,
  );
}

/** The update as train/adamw.ts composes it from tfjs ops (the path of backends without the kernel). */
function composed(p: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, a: AdamWUpdateAttrs): tf.Tensor[] {
  return tf.tidy(() => {
    const gs = a.gradScale !== 1 ? tf.mul(g, a.gradScale) : g;
    const decayed = a.decay !== 1 ? tf.mul(p, a.decay) : p;
    const mNew = tf.add(tf.mul(m, a.beta1), tf.mul(gs, 1 - a.beta1));
    const vNew = tf.add(tf.mul(v, a.beta2), tf.mul(tf.square(gs), 1 - a.beta2));
    const denom = tf.add(tf.div(tf.sqrt(vNew), a.bc2Sqrt), a.eps);
    return [tf.sub(decayed, tf.mul(tf.div(mNew, denom), a.stepSize)), mNew, vNew];
  });
}

function attrs(t: number, over: Partial<AdamWUpdateAttrs> = {}): AdamWUpdateAttrs {
  const lr = 3e-4;
  return {
    gradScale: 1,
    decay: 1 - lr * 0.05,
    beta1: 0.9,
    beta2: 0.999,
    stepSize: lr / (1 - 0.9 ** t),
    bc2Sqrt: Math.sqrt(1 - 0.999 ** t),
    eps: 1e-8,
    ...over,
  };
}

describeEachBackend('fused optimizer kernels', () => {
  it('are registered on this backend, and used where they beat the composed ops', () => {
    expect(hasKernel(ADAMW_UPDATE) && hasKernel(SUM_OF_SQUARES)).toBe(true);
    const wasm = tf.getBackend() === 'wasm';
    expect(hasOptimizerKernels()).toBe(!wasm || nativeBlas().ok);
  });

  const cases: Array<[string, number[], number, Partial<AdamWUpdateAttrs>]> = [
    ['first step, decay, no clip', [37, 19], 1, {}],
    ['late step, clipped gradient', [3, 5, 7], 500, { gradScale: 0.37 }],
    ['no decay (a bias)', [129], 12, { decay: 1 }],
    ['clipped to zero (infinite norm)', [8], 3, { gradScale: 0 }],
    ['a scalar', [], 2, { beta1: 0.5, beta2: 0.9, eps: 1e-3 }],
    ['large enough to be split over threads', [600, 501], 7, { gradScale: 0.9 }],
  ];
  for (const [label, shape, t, over] of cases) {
    it(`AdamW update is bitwise the composed update: ${label}`, () => {
      const p = randomTensor(shape, 1, 2);
      const m = randomTensor(shape, 2, 0.1);
      const v = tf.tidy(() => tf.square(randomTensor(shape, 3, 0.05)));
      const g = randomTensor(shape, 4, 0.3);
      const a = attrs(t, over);
      const ref = composed(p, m, v, g, a);
      onEachPath((path) => {
        const fused = fusedAdamWUpdate(p, m, v, g, a);
        fused.forEach((x, k) => {
          expect(x.shape).toEqual(shape);
          expect(Array.from(x.dataSync()), `${path} output ${k}`).toEqual(Array.from(ref[k].dataSync()));
        });
        tf.dispose(fused);
      });
      tf.dispose([p, m, v, g, ...ref]);
    });
  }

  it('AdamW update propagates NaN and Inf as the composed update does', () => {
    const p = tf.tensor1d([1, 2, 3, 4]);
    const m = tf.zeros([4]);
    const v = tf.zeros([4]);
    const g = tf.tensor1d([NaN, Infinity, -Infinity, 0]);
    const a = attrs(1);
    const ref = composed(p, m, v, g, a);
    onEachPath((path) => {
      const fused = fusedAdamWUpdate(p, m, v, g, a);
      fused.forEach((x, k) => expect(Array.from(x.dataSync()), path).toEqual(Array.from(ref[k].dataSync())));
      tf.dispose(fused);
    });
    tf.dispose([p, m, v, g, ...ref]);
  });

  it('sum of squares equals the float64 sum over all inputs', () => {
    const xs = [randomTensor([33, 7], 5), randomTensor([1], 6, 10), randomTensor([4, 4, 4], 7, 1e-3)];
    let want = 0;
    for (const x of xs) for (const e of x.dataSync()) want += e * e;
    const empty = tf.zeros([0, 3]);
    onEachPath((path) => {
      // float64 sums in another order (the native one is vectorised) round to the same float32 but for ties.
      expect(Math.abs(fusedSumOfSquares(xs) - want) / want, path).toBeLessThan(2 ** -23);
      expect(fusedSumOfSquares([empty]), path).toBe(0);
    });
    tf.dispose([...xs, empty]);
  });

  it('sum of squares is NaN with a NaN input and Infinity with an infinite one', () => {
    const a = tf.tensor1d([1, NaN]);
    const b = tf.tensor1d([1, -Infinity]);
    onEachPath(() => {
      expect(fusedSumOfSquares([b, a])).toBeNaN();
      expect(fusedSumOfSquares([b])).toBe(Infinity);
    });
    tf.dispose([a, b]);
  });

  it('leak no tensors', async () => {
    const p = randomTensor([6, 5], 8);
    const g = randomTensor([6, 5], 9);
    await expectNoLeakedTensors(() =>
      onEachPath(() => {
        const v = tf.abs(p);
        const out = fusedAdamWUpdate(p, p, v, g, attrs(4));
        tf.dispose([v, ...out]);
        fusedSumOfSquares([p, g]);
      }),
    );
    tf.dispose([p, g]);
  });
});
