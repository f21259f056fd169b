import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { countLeakedTensors } from '../testing/leaks.js';
import { useBackend } from './init_backend.js';

// The wasm kernels we register or wrap must agree with the reference cpu backend on the same inputs.
async function onBoth(
  f: () => tf.Tensor,
): Promise<{ wasm: Float32Array; cpu: Float32Array; shape: number[] }> {
  await useBackend('cpu');
  const c = f();
  const cpu = c.dataSync() as Float32Array;
  c.dispose();
  await useBackend('wasm');
  const w = f();
  const out = { wasm: w.dataSync() as Float32Array, cpu, shape: w.shape };
  w.dispose();
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('wasm kernels', () => {
  beforeAll(() => useBackend('wasm'));

  const cases: Array<[string, number[], number[], boolean, boolean]> = [
    ['2-D, transposeA', [64, 48], [64, 80], true, false],
    ['2-D, transposeB', [48, 64], [80, 64], false, true],
    ['2-D, both', [64, 48], [80, 64], true, true],
    // Batched and large enough per entry to take the split path; distinct right operands per entry
    // catch a stale XNNPACK weight cache.
    ['batched, split path', [12, 40, 50], [12, 50, 60], false, false],
    ['batched rank 4, transposeB, split path', [2, 3, 40, 50], [2, 3, 60, 50], false, true],
    ['batched, tiny entries (no split)', [30, 1, 4], [30, 4, 5], false, false],
  ];
  for (const [name, sa, sb, ta, tb] of cases) {
    it(`BatchMatMul ${name} matches cpu`, async () => {
      const a = Array.from({ length: sa.reduce((x, y) => x * y) }, (_, i) => Math.sin(i * 0.37));
      const b = Array.from({ length: sb.reduce((x, y) => x * y) }, (_, i) => Math.cos(i * 0.11));
      const r = await onBoth(() => tf.tidy(() => tf.matMul(tf.tensor(a, sa), tf.tensor(b, sb), ta, tb)));
      expect(maxAbsDiff(r.wasm, r.cpu)).toBeLessThan(1e-3);
      const x = tf.tensor(a, sa);
      const y = tf.tensor(b, sb);
      expect(await countLeakedTensors(() => tf.matMul(x, y, ta, tb))).toBe(0);
      const bytes = tf.memory().numBytes;
      tf.dispose(tf.matMul(x, y, ta, tb));
      expect(tf.memory().numBytes).toBe(bytes);
      tf.dispose([x, y]);
    });
  }

  it('GatherV2 (row copies on axis 0) matches cpu for float32 and int32, and other axes still work', async () => {
    const x = Array.from({ length: 6 * 4 }, (_, i) => i * 0.25 - 2);
    const idx = [5, 0, 0, 3, 2];
    for (const dtype of ['float32', 'int32'] as const) {
      const r = await onBoth(() =>
        tf.tidy(() =>
          tf.gather(
            tf.tensor2d(
              x.map((v) => (dtype === 'int32' ? Math.round(v * 4) : v)),
              [6, 4],
              dtype,
            ),
            tf.tensor2d([idx, idx], undefined, 'int32'),
          ),
        ),
      );
      expect(r.shape).toEqual([2, 5, 4]);
      expect(Array.from(r.wasm)).toEqual(Array.from(r.cpu));
    }
    const axis1 = await onBoth(() =>
      tf.tidy(() => tf.gather(tf.tensor2d(x, [6, 4]), tf.tensor1d([3, 1], 'int32'), 1)),
    );
    expect(Array.from(axis1.wasm)).toEqual(Array.from(axis1.cpu));
    await useBackend('wasm');
    const t = tf.tensor2d(x, [6, 4]);
    expect(() => tf.gather(t, tf.tensor1d([6], 'int32'))).toThrow(/index 6 is not in \[0, 5\]/);
    t.dispose();
  });

  it('UnsortedSegmentSum matches cpu, dropping negative and out-of-range ids', async () => {
    const x = Array.from({ length: 7 * 3 }, (_, i) => i * 0.5 - 3);
    const ids = [2, 0, -1, 2, 5, 1, 0];
    const r = await onBoth(() =>
      tf.tidy(() => tf.unsortedSegmentSum(tf.tensor2d(x, [7, 3]), tf.tensor1d(ids, 'int32'), 4)),
    );
    expect(r.shape).toEqual([4, 3]);
    expect(Array.from(r.wasm)).toEqual(Array.from(r.cpu));
  });
  it('Slice and SplitV (wrapped: copied on the heap in place) equal the cpu backend, every kind of slice', async () => {
    const x = () =>
      tf.tensor(
        Float32Array.from({ length: 4 * 5 * 6 * 3 }, (_, i) => i * 0.5 - 7),
        [4, 5, 6, 3],
      );
    const cases: Array<[number[], number[]]> = [
      [
        [0, 0, 0, 0],
        [-1, -1, -1, -1],
      ], // everything: one run
      [
        [1, 0, 0, 0],
        [2, -1, -1, -1],
      ], // leading axis only: one run
      [
        [0, 2, 0, 0],
        [4, 3, 6, 3],
      ], // LIMoE's image/text split: a run per leading index
      [
        [1, 1, 2, 1],
        [2, 3, 3, 2],
      ], // partial on every axis: short runs
      [
        [3, 4, 5, 2],
        [1, 1, 1, 1],
      ], // one element
      [
        [0, 0, 0, 0],
        [4, 0, 6, 3],
      ], // empty
    ];
    for (const [begin, size] of cases) {
      const r = await onBoth(() => tf.tidy(() => tf.slice(x(), begin, size)));
      expect(Array.from(r.wasm), `${begin} ${size}`).toEqual(Array.from(r.cpu));
    }
    const ints = await onBoth(() =>
      tf.tidy(() => tf.cast(tf.slice(tf.cast(x(), 'int32'), [0, 1, 0, 0], [4, 2, 6, 3]), 'float32')),
    );
    expect(Array.from(ints.wasm)).toEqual(Array.from(ints.cpu));
    for (const [sizes, axis] of [
      [[1, 3, 1], 1],
      [2, 0],
      [[2, 4], 2],
      [[0, 3], 3],
    ] as Array<[number | number[], number]>) {
      const pieces = await onBoth(() =>
        tf.tidy(() => tf.concat(tf.split(x(), sizes, axis).map((p) => tf.reshape(p, [-1])))),
      );
      expect(Array.from(pieces.wasm), `split ${sizes} on ${axis}`).toEqual(Array.from(pieces.cpu));
    }
    await useBackend('wasm');
    const t = x();
    expect(await countLeakedTensors(() => tf.slice(t, [0, 2, 0, 0], [4, 3, 6, 3]))).toBe(0);
    expect(await countLeakedTensors(() => tf.split(t, [2, 3], 1))).toBe(0);
    t.dispose();
  });

  it('Tile (wrapped: copied on the heap in place) equals the cpu backend at every rank, dtype and repetition', async () => {
    const cases: Array<[number[], number[]]> = [
      [[], []], // scalar
      [[5], [3]],
      [
        [128, 1],
        [1, 128],
      ], // how a broadcast comparison's [128, 1] side is tiled to a [128, 128] mask
      [
        [1, 1, 7],
        [6, 1, 1],
      ], // broadcastTo of a class token over a batch
      [
        [2, 3, 4],
        [2, 1, 3],
      ],
      [
        [3, 17],
        [2, 2],
      ], // rows of 16 or more are block copies
      [
        [2, 1, 3, 1, 2],
        [1, 4, 1, 2, 3],
      ], // rank 5
      [
        [2, 3],
        [0, 2],
      ], // empty output
    ];
    for (const [shape, reps] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: n }, (_, i) => i * 0.75 - 3);
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const r = await onBoth(() =>
          tf.tidy(() => {
            const x = tf.tensor(values, shape);
            // (wasm's Cast of floats to bool keeps the low byte, so bools come from a comparison.)
            const typed = dtype === 'bool' ? tf.greater(x, 0) : tf.cast(x, dtype);
            return tf.cast(tf.tile(typed, reps), 'float32');
          }),
        );
        expect(r.shape, `${shape} × ${reps}`).toEqual(shape.map((d, i) => d * reps[i]));
        expect(Array.from(r.wasm), `${shape} × ${reps} ${dtype}`).toEqual(Array.from(r.cpu));
      }
    }
    const b = await onBoth(() => tf.tidy(() => tf.broadcastTo(tf.tensor([1, 2, 3]), [4, 2, 3])));
    expect(Array.from(b.wasm)).toEqual(Array.from(b.cpu));
    const eq = await onBoth(() =>
      tf.tidy(() => {
        const l = tf.tensor1d([0, 3, 1, 3, 0], 'int32');
        return tf.cast(tf.equal(tf.expandDims(l, 1), tf.expandDims(l, 0)), 'float32');
      }),
    );
    expect(Array.from(eq.wasm)).toEqual(Array.from(eq.cpu));
    await useBackend('wasm');
    const t = tf.tensor([1, 2, 3, 4], [2, 2]);
    expect(await countLeakedTensors(() => tf.tile(t, [3, 2]))).toBe(0);
    t.dispose();
  });

  it('binary kernels that broadcast by tiling (comparisons, logical, max/min, int32 arithmetic) equal cpu', async () => {
    const shapes: Array<[number[], number[]]> = [
      [
        [6, 1],
        [1, 5],
      ],
      [[6, 5], [5]],
      [
        [2, 1, 3],
        [4, 1],
      ],
      [[3], []],
      [
        [2, 3],
        [2, 3],
      ],
    ];
    const ops: Array<(a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = [
      tf.equal,
      tf.notEqual,
      tf.greater,
      tf.greaterEqual,
      tf.less,
      tf.lessEqual,
      tf.maximum,
      tf.minimum,
      tf.squaredDifference,
      tf.add,
      tf.sub,
      tf.mul,
      (a, b) => tf.logicalAnd(tf.greater(a, 0), tf.greater(b, 0)),
      (a, b) => tf.logicalOr(tf.greater(a, 0), tf.greater(b, 0)),
    ];
    for (const [sa, sb] of shapes) {
      const na = sa.reduce((x, y) => x * y, 1);
      const nb = sb.reduce((x, y) => x * y, 1);
      for (const dtype of ['float32', 'int32'] as const) {
        const a = () =>
          tf.tensor(
            Array.from({ length: na }, (_, i) => (i % 4) - 1.5),
            sa,
            dtype,
          );
        const b = () =>
          tf.tensor(
            Array.from({ length: nb }, (_, i) => (i % 3) - 1),
            sb,
            dtype,
          );
        for (const [k, op] of ops.entries()) {
          const r = await onBoth(() => tf.tidy(() => tf.cast(op(a(), b()), 'float32')));
          expect(Array.from(r.wasm), `op ${k} ${sa} ${sb} ${dtype}`).toEqual(Array.from(r.cpu));
        }
      }
    }
    await useBackend('wasm');
    const x = tf.tensor([[1], [2], [3]], [3, 1], 'int32');
    const y = tf.tensor([1, 2], [1, 2], 'int32');
    expect(await countLeakedTensors(() => tf.equal(x, y))).toBe(0);
    // The tiled copies are the backend's own buffers: none may outlive the kernel.
    const buffers = tf.backend().numDataIds();
    tf.dispose([tf.add(x, y), tf.equal(x, y), tf.tile(x, [2, 2])]);
    expect(tf.backend().numDataIds()).toBe(buffers);
    tf.dispose([x, y]);
  });
});
