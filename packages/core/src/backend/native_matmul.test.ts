import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkGradients } from '../testing/gradient_check.js';
import { expectNoLeakedTensors } from '../testing/leaks.js';
import { useBackend } from './init_backend.js';
import {
  type MatMulCase,
  referenceBiasActivation,
  referenceMatMul,
  relativeError,
  transposeCases,
  values,
} from './matmul.test.helpers.js';
import { matmulPath, useNativeMatMul } from './matmul_kernels.js';
import { nativeBlas } from './native_blas.js';

// BatchMatMul and _FusedMatMul on both matMul paths of the wasm backend — the native BLAS and the pure-wasm
// kernels — against float64 references and against each other, to 1e-5 of the output's scale (float32 sums
// of ≤ 64 terms are good to ~1e-6 there). Without the addon the native half is skipped with the reason;
// MOEVL_NATIVE=1 (CI with the BLAS headers installed) turns that skip into a failure.

const native = nativeBlas();
const TOL = 1e-5;

const cases: MatMulCase[] = [
  ...transposeCases('2-D', [], [], 37, 29, 23),
  ...transposeCases('batched', [4], [4], 19, 31, 17),
  ...transposeCases('rank 5', [2, 2, 3], [2, 2, 3], 5, 6, 7),
  ...transposeCases('broadcast B over [2,3]', [2, 3], [3], 9, 8, 11),
  ...transposeCases('B batch 1', [3], [1], 9, 8, 11),
  ...transposeCases('2-D A against a batch', [], [3], 9, 8, 11),
  ...transposeCases('batch against 2-D B (one tall GEMM)', [5], [], 9, 8, 11),
  // NumPy broadcasting that tfjs' own kernels get wrong (they index batches modulo their size).
  ...transposeCases('broadcast [2,1]×[1,3]', [2, 1], [1, 3], 6, 5, 4),
  ...transposeCases('broadcast [3,1]×[2]', [3, 1], [2], 6, 5, 4),
  ...transposeCases('broadcast [2,3]×[2,1]', [2, 3], [2, 1], 6, 5, 4),
  ...transposeCases('1 row', [], [], 1, 33, 21),
  ...transposeCases('1 column', [], [], 21, 33, 1),
  ...transposeCases('1×1 output', [], [], 1, 40, 1),
  ...transposeCases('batch of 1-row products (MoE combine)', [64], [64], 1, 16, 24),
  ...transposeCases('attention heads (the small-product kernel)', [8, 4], [8, 4], 40, 32, 40),
  ...transposeCases('small products split over threads', [300], [300], 33, 20, 17),
  ...transposeCases('small products against one B', [5], [1], 9, 31, 18),
  ...transposeCases('inner dim 1 (outer product)', [2], [2], 7, 1, 5),
  ...transposeCases('empty m', [], [], 0, 5, 4),
  ...transposeCases('empty n', [2], [2], 3, 5, 0),
  ...transposeCases('empty k (zeros)', [2], [], 3, 0, 4),
  ...transposeCases('empty batch', [0], [0], 3, 5, 4),
];

function runMatMul(c: MatMulCase): { values: Float32Array; shape: number[] } {
  return tf.tidy(() => {
    const a = tf.tensor(
      values(
        c.aShape.reduce((x, y) => x * y, 1),
        1,
      ),
      c.aShape,
    );
    const b = tf.tensor(
      values(
        c.bShape.reduce((x, y) => x * y, 1),
        2,
      ),
      c.bShape,
    );
    const y = tf.matMul(a, b, c.transposeA, c.transposeB);
    return { values: y.dataSync() as Float32Array, shape: y.shape };
  });
}

const ACTIVATIONS = ['linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid', 'prelu'] as const;
const fusedCases = [
  ...transposeCases('fused 2-D', [], [], 13, 17, 11),
  ...transposeCases('fused batched', [3], [3], 7, 9, 5),
  ...transposeCases('fused batch against one B', [3], [1], 7, 9, 5),
];

function runFused(c: MatMulCase, activation: string, biasSize: number | null) {
  const n = c.transposeB ? c.bShape[c.bShape.length - 2] : c.bShape[c.bShape.length - 1];
  const aValues = values(
    c.aShape.reduce((x, y) => x * y, 1),
    3,
  );
  const bValues = values(
    c.bShape.reduce((x, y) => x * y, 1),
    4,
  );
  const biasValues = biasSize == null ? null : values(biasSize, 5);
  const prelu = activation === 'prelu' ? values(n, 6).map((v) => 0.5 * v) : null;
  const y = tf.tidy(() =>
    tf.fused.matMul({
      a: tf.tensor(aValues, c.aShape) as unknown as tf.Tensor3D,
      b: tf.tensor(bValues, c.bShape) as unknown as tf.Tensor3D,
      transposeA: c.transposeA,
      transposeB: c.transposeB,
      bias: biasValues == null ? undefined : tf.tensor1d(biasValues),
      activation: activation as tf.fused.Activation,
      preluActivationWeights: prelu == null ? undefined : tf.tensor1d(prelu),
      leakyreluAlpha: 0.1,
    }),
  );
  const got = { values: y.dataSync() as Float32Array, shape: y.shape };
  y.dispose();
  const ref = referenceMatMul(aValues, c.aShape, bValues, c.bShape, c.transposeA, c.transposeB);
  referenceBiasActivation(ref.values, n, biasValues, activation, 0.1, prelu);
  return { ...got, ref };
}

const paths = ['native', 'wasm'] as const;

for (const path of paths) {
  const available = path === 'wasm' || native.ok;
  const why = native.ok ? '' : native.reason;
  const suite = available ? describe : describe.skip;
  if (!available) {
    console.warn(`native matMul tests skipped: ${why}`);
    if (process.env.MOEVL_NATIVE === '1') {
      it('MOEVL_NATIVE=1: the native addon must be available', () => {
        expect.fail(`MOEVL_NATIVE=1 but the native matMul path is not available: ${why}`);
      });
    }
  }
  suite(`matMul on the ${path} path${available ? '' : ` (skipped: ${why})`}`, () => {
    beforeAll(async () => {
      await useBackend('wasm');
      expect(useNativeMatMul(path === 'native').kind).toBe(path);
    });
    afterAll(() => void useNativeMatMul(true));

    it('BatchMatMul matches a float64 reference: transposes, broadcasting, 1-row/1-col, empty dims', () => {
      for (const c of cases) {
        const a = values(
          c.aShape.reduce((x, y) => x * y, 1),
          1,
        );
        const b = values(
          c.bShape.reduce((x, y) => x * y, 1),
          2,
        );
        const ref = referenceMatMul(a, c.aShape, b, c.bShape, c.transposeA, c.transposeB);
        const got = runMatMul(c);
        expect(got.shape, c.name).toEqual(ref.shape);
        expect(relativeError(got.values, ref.values), c.name).toBeLessThan(TOL);
      }
    });

    it('_FusedMatMul (bias of size n or 1, every fused activation) matches matMul + bias + activation', () => {
      for (const c of fusedCases) {
        for (const activation of ACTIVATIONS) {
          const n = c.transposeB ? c.bShape[c.bShape.length - 2] : c.bShape[c.bShape.length - 1];
          for (const biasSize of [n, 1, null]) {
            const label = `${c.name} ${activation} bias ${biasSize ?? 'none'}`;
            const got = runFused(c, activation, biasSize);
            expect(got.shape, label).toEqual(got.ref.shape);
            expect(relativeError(got.values, got.ref.values), label).toBeLessThan(TOL);
          }
        }
      }
    });

    it('matMul gradients pass a finite-difference check (all transposes, 2-D and batched)', () => {
      for (const c of [
        ...transposeCases('2-D', [], [], 4, 3, 5),
        ...transposeCases('batched', [2], [2], 3, 4, 2),
      ]) {
        const a = tf.tensor(
          values(
            c.aShape.reduce((x, y) => x * y, 1),
            7,
          ),
          c.aShape,
        );
        const b = tf.tensor(
          values(
            c.bShape.reduce((x, y) => x * y, 1),
            8,
          ),
          c.bShape,
        );
        const { maxRelativeError } = checkGradients(
          (x, y) => tf.matMul(x, y, c.transposeA, c.transposeB),
          [a, b],
        );
        expect(maxRelativeError, c.name).toBeLessThan(1e-3);
        tf.dispose([a, b]);
      }
    });

    it('fused matMul gradients (bias + elu) pass a finite-difference check', () => {
      const a = tf.tensor(values(12, 9), [1, 4, 3]);
      const b = tf.tensor(values(15, 10), [1, 5, 3]);
      const bias = tf.tensor1d(values(5, 11));
      const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
        tf.fused.matMul({
          a: x as tf.Tensor3D,
          b: y as tf.Tensor3D,
          transposeB: true,
          bias: z,
          activation: 'elu',
        });
      expect(checkGradients(f, [a, b, bias]).maxRelativeError).toBeLessThan(1e-3);
      tf.dispose([a, b, bias]);
    });

    it('leaks no tensors and no heap memory (products, fused, gradients)', async () => {
      const a = tf.tensor(values(2 * 24 * 16, 12), [2, 24, 16]);
      const b = tf.tensor(values(2 * 20 * 16, 13), [2, 20, 16]);
      const c = tf.tensor(values(2 * 24 * 20, 17), [2, 24, 20]);
      const bias = tf.tensor1d(values(20, 14));
      const calls = [
        () => tf.matMul(a, b, false, true),
        () => tf.matMul(a, c, true, false),
        () =>
          tf.fused.matMul({
            a: a as tf.Tensor3D,
            b: b as tf.Tensor3D,
            transposeB: true,
            bias,
            activation: 'relu',
          }),
        () => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y, false, true)))([a, b]),
      ];
      for (const call of calls) {
        await expectNoLeakedTensors(call);
        const bytes = tf.memory().numBytes;
        tf.dispose(call());
        expect(tf.memory().numBytes).toBe(bytes);
      }
      tf.dispose([a, b, c, bias]);
    });

    it('writes into the heap after it grows (the output allocation replaces the ArrayBuffer)', () => {
      const wasm = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm;
      const before = wasm.HEAPU8.buffer;
      // An output larger than the whole heap forces memory.grow inside makeOutput.
      const n = 512;
      const m = Math.ceil(before.byteLength / 4 / n) + 64;
      const a = tf.tensor(values(m * 3, 15), [m, 3]);
      const b = tf.tensor(values(3 * n, 16), [3, n]);
      const y = tf.matMul(a, b);
      expect(wasm.HEAPU8.buffer).not.toBe(before);
      const got = y.dataSync();
      const av = a.dataSync();
      const bv = b.dataSync();
      for (const i of [0, 1, m >> 1, m - 1]) {
        for (const j of [0, n - 1]) {
          const ref = av[i * 3] * bv[j] + av[i * 3 + 1] * bv[n + j] + av[i * 3 + 2] * bv[2 * n + j];
          expect(Math.abs(got[i * n + j] - ref)).toBeLessThan(1e-5);
        }
      }
      tf.dispose([a, b, y]);
    });

    if (path === 'native') {
      it('agrees with the pure-wasm kernels on every case', () => {
        for (const c of cases) {
          const viaNative = runMatMul(c);
          let viaWasm: ReturnType<typeof runMatMul>;
          try {
            useNativeMatMul(false);
            viaWasm = runMatMul(c);
          } finally {
            useNativeMatMul(true);
          }
          expect(viaNative.shape, c.name).toEqual(viaWasm.shape);
          expect(relativeError(viaNative.values, viaWasm.values), c.name).toBeLessThan(TOL);
        }
      });

      it('int32 products fall back to the wasm kernel (and its error)', () => {
        const a = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
        expect(() => tf.matMul(a, a)).toThrow(/non-float32/);
        a.dispose();
      });
    }

    it('reports the path it runs', () => {
      const p = matmulPath('wasm');
      expect(p.kind).toBe(path);
      if (path === 'native' && native.ok) {
        expect(p.name).toMatch(new RegExp(`^native ${native.blas}`));
        if (native.blas === 'OpenBLAS')
          expect(p.name).toMatch(/^native OpenBLAS \d+\.\d+\.\d+ \(\d+ threads?\)$/);
      } else {
        expect(p.name).toBe('wasm XNNPACK');
        expect(p.reason).toBe(native.ok ? 'native path turned off' : native.reason);
      }
    });
  });
}
