import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attentionSoftmax } from '../ops/attention_softmax.js';
import { biasGelu } from '../ops/bias_gelu.js';
import { layerNorm } from '../ops/layer_norm.js';
import { splitHeads } from '../ops/split_heads.js';
import { useBackend } from './init_backend.js';
import { useNativeMatMul } from './matmul_kernels.js';
import { nativeBlas } from './native_blas.js';

// The fused kernels (bias + GELU, LayerNorm) on the wasm backend's two paths — the native addon and the
// JavaScript kernels on the heap — against each other, values and gradients, to 1e-5 of the output's scale.
// Without the addon the comparison is skipped with the reason; MOEVL_NATIVE=1 makes that a failure.

const native = nativeBlas();
const TOL = 1e-5;

/** Outputs and gradients of `f` (summed against a fixed projection) on one path. */
function run(nativePath: boolean, f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[]): Float32Array[] {
  useNativeMatMul(nativePath);
  return tf.tidy(() => {
    const y = f(...xs);
    const w = tf.randomNormal(y.shape, 0, 1, 'float32', 99);
    const grads = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), w)))(xs);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

function expectClose(a: Float32Array[], b: Float32Array[]): void {
  a.forEach((x, k) => {
    const scale = Math.max(1, ...Array.from(b[k], Math.abs));
    let err = 0;
    for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(x[i] - b[k][i]));
    expect(err / scale).toBeLessThan(TOL);
  });
}

const why = native.ok ? '' : native.reason;
if (!native.ok) {
  console.warn(`native fused-kernel tests skipped: ${why}`);
  if (process.env.MOEVL_NATIVE === '1') {
    it('MOEVL_NATIVE=1: the native addon must be available', () => {
      expect.fail(`MOEVL_NATIVE=1 but the native kernels are not available: ${why}`);
    });
  }
}

(native.ok ? describe : describe.skip)('fused kernels, native addon vs JavaScript on the wasm heap', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  afterAll(() => void useNativeMatMul(true));

  const shapes: Array<[string, number[], number[] | null]> = [
    ['[B, T, D] with a [D] bias', [4, 33, 48], [48]],
    ['per-expert [E, 1, H] bias', [3, 17, 40], [3, 1, 40]],
    ['no bias (gelu)', [5, 129], null],
    ['one row', [1, 7], [7]],
  ];
  for (const [label, shape, biasShape] of shapes) {
    for (const approximate of ['none', 'tanh'] as const) {
      it(`biasGelu ${approximate}: ${label}`, () => {
        const x = tf.randomNormal(shape, 0, 2, 'float32', 1);
        const xs = biasShape ? [x, tf.randomNormal(biasShape, 0, 1, 'float32', 2)] : [x];
        const f = (a: tf.Tensor, b?: tf.Tensor) => biasGelu(a, b, approximate);
        expectClose(run(true, f, xs), run(false, f, xs));
        tf.dispose(xs);
      });
    }
  }

  for (const biasShape of [null, [1, 1, 9, 11], [4, 1, 9, 11], [4, 1, 1, 11]]) {
    it(`attentionSoftmax [4, 3, 9, 11], mask [${biasShape}]`, () => {
      const x = tf.randomNormal([4, 3, 9, 11], 0, 3, 'float32', 6);
      const bias = biasShape == null ? undefined : tf.randomNormal(biasShape, 0, 2, 'float32', 7);
      const f = (a: tf.Tensor) => attentionSoftmax(a as tf.Tensor4D, bias as tf.Tensor4D | undefined, 0.3);
      expectClose(run(true, f, [x]), run(false, f, [x]));
      tf.dispose([x, ...(bias ? [bias] : [])]);
    });
  }

  it('splitHeads [6·7, 3·4·8]', () => {
    const y = tf.randomNormal([42, 96], 0, 1, 'float32', 8);
    const f = (a: tf.Tensor) => {
      const [q, k, v] = splitHeads(a as tf.Tensor2D, 6, 7, 4);
      return tf.addN([q, tf.mul(k, 2), tf.mul(v, 3)]);
    };
    expectClose(run(true, f, [y]), run(false, f, [y]));
    y.dispose();
  });

  for (const shape of [
    [6, 20, 128],
    [3, 1],
    [2, 257],
  ]) {
    it(`layerNorm [${shape}]`, () => {
      const d = shape[shape.length - 1];
      const xs = [
        tf.randomNormal(shape, 1, 3, 'float32', 3),
        tf.randomNormal([d], 1, 0.5, 'float32', 4),
        tf.randomNormal([d], 0, 0.5, 'float32', 5),
      ];
      const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNorm(a, g, b, 1e-6);
      expectClose(run(true, f, xs), run(false, f, xs));
      tf.dispose(xs);
    });
  }
});

describe('wasm memory kernels: shared Identity/Cast, Sum and Mean without a transpose', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('sums and averages over leading, middle and all axes as the cpu backend does', async () => {
    const shape = [3, 4, 5, 6];
    const data = Float32Array.from({ length: 360 }, (_, i) => Math.sin(i) * 10);
    const cases: Array<[number | number[] | undefined, boolean]> = [
      [0, false],
      [[0, 1], true],
      [[1, 2], false],
      [1, true],
      [[0, 1, 2], false],
      [3, false],
      [undefined, false],
      [[-3, -2], true],
    ];
    const results: Record<string, number[][]> = {};
    for (const [key, backend, nativePath] of [
      ['native', 'wasm', true],
      ['wasm', 'wasm', false],
      ['cpu', 'cpu', false],
    ] as const) {
      await useBackend(backend);
      useNativeMatMul(nativePath);
      const x = tf.tensor(data, shape);
      const xi = tf.tensor(Int32Array.from(data, Math.round), shape, 'int32');
      results[key] = cases.flatMap(([axis, keep]) =>
        [tf.sum(x, axis, keep), tf.mean(x, axis, keep), tf.sum(xi, axis, keep)].map((t) => {
          const v = [...t.shape, ...t.dataSync()];
          t.dispose();
          return v;
        }),
      );
      tf.dispose([x, xi]);
    }
    await useBackend('wasm');
    useNativeMatMul(true);
    for (const key of ['native', 'wasm']) {
      results[key].forEach((v, i) => {
        expect(v.length).toBe(results.cpu[i].length);
        v.forEach((x, j) => expect(x).toBeCloseTo(results.cpu[i][j], 3));
      });
    }
  });

  it('transposes float32 and int32 on the native path as wasm does', () => {
    const cases: Array<[number[], number[]]> = [
      [
        [4, 5, 3, 6],
        [0, 2, 1, 3],
      ],
      [
        [4, 5, 3, 6],
        [3, 1, 0, 2],
      ],
      [
        [7, 9],
        [1, 0],
      ],
      [
        [2, 3, 4, 5, 6],
        [4, 0, 3, 1, 2],
      ],
      [
        [3, 0, 2],
        [2, 0, 1],
      ],
      [[5], [0]],
    ];
    for (const [shape, perm] of cases) {
      for (const dtype of ['float32', 'int32'] as const) {
        const n = shape.reduce((a, b) => a * b, 1);
        const x = tf.tensor(
          Array.from({ length: n }, (_, i) => i * 3 - 7),
          shape,
          dtype,
        );
        const got = [true, false].map((nativePath) => {
          useNativeMatMul(nativePath);
          const y = tf.transpose(x, perm);
          const v = [...y.shape, ...y.dataSync()];
          y.dispose();
          return v;
        });
        expect(got[0]).toEqual(got[1]);
        x.dispose();
      }
    }
    useNativeMatMul(true);
  });

  it('clones share the data and outlive their source', () => {
    const x = tf.tensor([1, 2, 3]);
    const y = tf.clone(x);
    const z = tf.cast(y, 'float32');
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
    expect(Array.from(z.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(tf.cast(z, 'int32').dataSync())).toEqual([1, 2, 3]);
    z.dispose();
  });

  it('dispatch gradients give dropped rows exactly zero', () => {
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const ids = tf.tensor1d([1, -1, 5], 'int32');
    const g = tf.grad((a: tf.Tensor) =>
      tf.sum(
        tf.mul(
          tf.unsortedSegmentSum(a, ids, 2),
          tf.tensor2d([
            [1, 1],
            [2, 3],
          ]),
        ),
      ),
    )(x);
    expect(Array.from(g.dataSync())).toEqual([2, 3, 0, 0, 0, 0]);
    tf.dispose([x, ids, g]);
  });
});
