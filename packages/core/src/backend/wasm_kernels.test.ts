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
});
