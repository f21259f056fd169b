import * as tf from '@tensorflow/tfjs';
import { describeEachBackend } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import type { RouterSpec } from '../routers/contract.js';
import { MoELayer } from './moe_layer.js';

/**
 * Evaluation must not depend on the batch: an example's output may not change with the batch size, the
 * order of the examples or which other examples share its batch (REFERENCE §1). Tight capacity factors
 * make the dependence visible whenever it exists.
 */

const [B, T, D] = [8, 6, 8];

const ROUTERS: Array<[string, RouterSpec]> = [
  ['top-k (k 2, BPR)', { name: 'top-k', options: { k: 2, evalCapacityFactor: 0.5, capacityMultipleOf: 1 } }],
  [
    'top-k (k 1, no BPR)',
    { name: 'top-k', options: { k: 1, batchPriority: false, evalCapacityFactor: 0.3 } },
  ],
  ['expert choice', { name: 'expert-choice', options: { capacityFactor: 0.5 } }],
  ['soft-moe', { name: 'soft-moe', options: { slotsPerExpert: 1 } }],
  ['hash', { name: 'hash', options: { capacityFactor: 0.3, capacityMultipleOf: 1 } }],
  ['dense', { name: 'dense', options: {} }],
];

/** Runs `rows` of x (examples) through the layer in one batch at evaluation; returns `[rows, T, D]` values. */
function outputs(
  moe: MoELayer,
  x: tf.Tensor3D,
  ids: tf.Tensor2D,
  rows: number[],
  evalRouting?: { mode: 'dropless' } | { mode: 'capacity'; capacityFactor?: number },
) {
  const idx = tf.tensor1d(rows, 'int32');
  const [xs, tokenIds] = [tf.gather(x, idx), tf.gather(ids, idx)];
  try {
    const out = moe.forward(xs, { training: false, tokenIds, ...(evalRouting && { evalRouting }) });
    const y = out.y.arraySync() as number[][][];
    tf.dispose([out.y, ...Object.values(out.auxLosses ?? {})]);
    return { y, metrics: out.metrics ?? {} };
  } finally {
    tf.dispose([idx, xs, tokenIds]);
  }
}

function maxDiff(a: number[][], b: number[][]): number {
  return Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i][j]))));
}

describeEachBackend('MoELayer at evaluation', () => {
  for (const [label, router] of ROUTERS) {
    it(`${label}: an example's output is the same alone, in any order and with any companions`, () => {
      const moe = new MoELayer({ dim: D, hiddenDim: 16, numExperts: 4, router, seed: 5 });
      const x = tf.randomNormal([B, T, D], 0, 1, 'float32', 9) as tf.Tensor3D;
      const ids = tf.tensor2d(
        Array.from({ length: B * T }, (_, i) => (i * 7) % 23),
        [B, T],
        'int32',
      );
      const full = outputs(moe, x, ids, [0, 1, 2, 3, 4, 5, 6, 7]).y;
      const alone = outputs(moe, x, ids, [3]).y[0];
      const shuffled = outputs(moe, x, ids, [6, 3, 0, 5]).y[1];
      const withTwins = outputs(moe, x, ids, [3, 3, 3, 3, 3, 3, 1]).y[4];
      for (const other of [alone, shuffled, withTwins]) expect(maxDiff(other, full[3])).toBeLessThan(1e-5);
      tf.dispose([x, ids]);
      moe.dispose();
    });
  }

  it('top-k dropless keeps every choice with capacity = the largest expert load', () => {
    const moe = new MoELayer({ dim: D, hiddenDim: 16, numExperts: 4, router: ROUTERS[0][1], seed: 5 });
    const x = tf.randomNormal([B, T, D], 0, 1, 'float32', 9) as tf.Tensor3D;
    const ids = tf.zeros([B, T], 'int32') as tf.Tensor2D;
    const { metrics } = outputs(moe, x, ids, [0, 1, 2, 3, 4, 5, 6, 7]);
    expect(metrics.routingSuccessRate).toBe(1);
    const counts = metrics.expertCounts as number[];
    expect(counts.reduce((a, b) => a + b, 0)).toBe(B * T * 2);
    expect(metrics.capacity).toBe(Math.max(...counts));
    tf.dispose([x, ids]);
    moe.dispose();
  });

  it('capacity-limited evaluation is there when asked for, drops tokens and depends on the batch', () => {
    const moe = new MoELayer({ dim: D, hiddenDim: 16, numExperts: 4, router: ROUTERS[1][1], seed: 5 });
    const x = tf.randomNormal([B, T, D], 0, 1, 'float32', 9) as tf.Tensor3D;
    const ids = tf.zeros([B, T], 'int32') as tf.Tensor2D;
    const capacity = { mode: 'capacity' as const, capacityFactor: 0.3 };
    const full = outputs(moe, x, ids, [0, 1, 2, 3, 4, 5, 6, 7], capacity);
    expect(full.metrics.routingSuccessRate as number).toBeLessThan(0.5);
    const alone = outputs(moe, x, ids, [3], capacity).y[0];
    expect(maxDiff(alone, full.y[3])).toBeGreaterThan(1e-3);
    // The router's own evalCapacityFactor (0.3) is used when none is given.
    const own = outputs(moe, x, ids, [0, 1, 2, 3, 4, 5, 6, 7], { mode: 'capacity' });
    expect(own.metrics.routingSuccessRate).toBe(full.metrics.routingSuccessRate);
    expect(() => outputs(moe, x, ids, [0], { mode: 'capacity', capacityFactor: -1 })).toThrow(/evalRouting/);
    tf.dispose([x, ids]);
    moe.dispose();
  });
});
