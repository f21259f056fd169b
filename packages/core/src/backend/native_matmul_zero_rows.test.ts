import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from './init_backend.js';
import { referenceMatMul, relativeError } from './matmul.test.helpers.js';
import { useNativeMatMul } from './matmul_kernels.js';
import { nativeBlas } from './native_blas.js';

// The native batched product skips trailing all-zero rows of each batch entry (the empty slots of MoE expert
// buffers): zero rows of an untransposed A, and zero rows along k of a transposed A or an untransposed B.
// Each case has entries with no, some and only zero rows; results must equal the float64 reference and the
// pure-wasm path to 1e-5, with and without a fused bias. Three sizes: products small enough for the
// small-product kernel (which computes every row), ones large enough for one BLAS call per entry, and ones
// large enough that entries are split over the threads (each a one-thread BLAS call).

const native = nativeBlas();
const TOL = 1e-5;

/** [batch, rows, cols] values where entry e keeps only its first `kept[e]` rows nonzero. */
function withZeroRows(batch: number, rows: number, cols: number, kept: number[], seed: number): Float32Array {
  const v = new Float32Array(batch * rows * cols);
  let s = seed;
  for (let e = 0; e < batch; e++)
    for (let r = 0; r < kept[e]; r++)
      for (let j = 0; j < cols; j++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        v[(e * rows + r) * cols + j] = (s / 2 ** 32) * 2 - 1;
      }
  return v;
}

(native.ok ? describe : describe.skip)('native batched matMul with trailing zero rows', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  afterAll(() => void useNativeMatMul(true));

  const sizes: Array<[number, number, number, number, string]> = [
    [4, 12, 7, 9, 'small-product kernel'],
    [4, 128, 96, 90, 'a BLAS call per entry'],
    // ≥ 2²² multiply-adds per entry: with two or more threads, entries run on separate threads.
    [4, 160, 160, 170, 'entries split over the threads'],
  ];
  for (const [E, C, D, H, path] of sizes) {
    const kept = [C, 5, 0, 1];
    const cases: Array<[string, number[], number[], boolean, boolean, Float32Array, Float32Array]> = [
      // buffers [E, C, D] × w1 [E, D, H]: zero rows of A
      [
        'A·B, A with empty slots',
        [E, C, D],
        [E, D, H],
        false,
        false,
        withZeroRows(E, C, D, kept, 1),
        withZeroRows(E, D, H, [D, D, D, D], 2),
      ],
      // dW = bufᵀ·dh: [E, C, D]ᵀ × [E, C, H], zero rows along k in both
      [
        'Aᵀ·B, zero rows along k',
        [E, C, D],
        [E, C, H],
        true,
        false,
        withZeroRows(E, C, D, kept, 3),
        withZeroRows(E, C, H, kept, 4),
      ],
      // dX = dh·w1ᵀ: [E, C, H] × [E, D, H]ᵀ, zero rows of A
      [
        'A·Bᵀ, A with empty slots',
        [E, C, H],
        [E, D, H],
        false,
        true,
        withZeroRows(E, C, H, kept, 5),
        withZeroRows(E, D, H, [D, D, D, D], 6),
      ],
      // only B has zero rows along k
      [
        'A·B, B with zero rows along k',
        [E, D, C],
        [E, C, H],
        false,
        false,
        withZeroRows(E, D, C, [D, D, D, D], 7),
        withZeroRows(E, C, H, kept, 8),
      ],
    ];
    for (const [label, aShape, bShape, ta, tb, av, bv] of cases) {
      for (const withBias of [false, true]) {
        it(`${label}${withBias ? ', fused bias' : ''} (${path})`, () => {
          const n = tb ? bShape[1] : bShape[2];
          const bias = withBias ? tf.tensor1d(Array.from({ length: n }, (_, i) => 0.1 * i - 0.3)) : undefined;
          const run = (nativePath: boolean) => {
            useNativeMatMul(nativePath);
            return tf.tidy(() => {
              const a = tf.tensor3d(av, aShape as [number, number, number]);
              const b = tf.tensor3d(bv, bShape as [number, number, number]);
              const y = bias
                ? tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias })
                : tf.matMul(a, b, ta, tb);
              return y.dataSync() as Float32Array;
            });
          };
          const want = referenceMatMul(av, aShape, bv, bShape, ta, tb);
          const biasValues = bias?.dataSync();
          const ref = Float64Array.from(want.values, (v, i) => v + (biasValues ? biasValues[i % n] : 0));
          const got = run(true);
          expect(relativeError(got, ref)).toBeLessThan(TOL);
          expect(relativeError(got, Float64Array.from(run(false)))).toBeLessThan(TOL);
          bias?.dispose();
        });
      }
    }
  }
});
