import * as tf from '@tensorflow/tfjs';
import { describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { describe, expect, it } from 'vitest';
import type { Router, SparseRoutingResult } from './contract.js';
import { hashExpert, hashRouter } from './hash.js';

const make = (extra: Record<string, unknown> = {}): Router =>
  hashRouter.create(hashRouter.validateOptions({ inputDim: 2, numExperts: 4, ...extra }));

const sparse = (r: ReturnType<Router['route']>): SparseRoutingResult => {
  if (r.kind !== 'sparse') throw new Error('expected a sparse result');
  return r;
};

const tensorsOf = (r: SparseRoutingResult): tf.Tensor[] => [
  r.gates,
  r.expertIndex,
  r.position,
  r.combineWeights,
  ...Object.values(r.auxLosses),
];

/** Routes `ids` (one token each, zeros as features) and reads the result back as arrays. */
function routeIds(router: Router, ids: number[], maskValues?: number[]) {
  const x = tf.zeros([ids.length, 2]) as tf.Tensor2D;
  const tokenIds = tf.tensor1d(ids, 'int32');
  const mask = maskValues == null ? undefined : tf.tensor1d(maskValues);
  const r = sparse(router.route(x, { training: true, tokenIds, mask }));
  const out = {
    capacity: r.capacity,
    expert: r.expertIndex.arraySync().map((row) => row[0]),
    position: r.position.arraySync().map((row) => row[0]),
    weight: r.combineWeights.arraySync().map((row) => row[0]),
    gates: r.gates.arraySync(),
    auxLosses: r.auxLosses,
    metrics: r.metrics,
  };
  tf.dispose([x, tokenIds, ...(mask ? [mask] : []), ...tensorsOf(r)]);
  return out;
}

describe('hashRouter.validateOptions', () => {
  it('fills the defaults', () => {
    expect(hashRouter.validateOptions({ inputDim: 2, numExperts: 4 })).toEqual({
      inputDim: 2,
      numExperts: 4,
      seed: 0,
      capacityFactor: 1.25,
      capacityMultipleOf: 4,
    });
    expect(hashRouter).toMatchObject({ specificationVersion: 'v1', name: 'hash' });
  });

  it('rejects bad values and unknown options, naming router and option', () => {
    const base = { inputDim: 2, numExperts: 4 };
    expect(() => hashRouter.validateOptions({ ...base, capacityFactor: -1 })).toThrow(
      'router "hash": option capacityFactor must be a finite number > 0, got -1.',
    );
    expect(() => hashRouter.validateOptions({ ...base, capacityMultipleOf: 0.5 })).toThrow(
      /router "hash": option capacityMultipleOf must be an integer/,
    );
    expect(() => hashRouter.validateOptions({ ...base, seed: -3 })).toThrow(/option seed/);
    expect(() => hashRouter.validateOptions({ ...base, noiseStd: 1 })).toThrow(
      /router "hash": unknown option noiseStd/,
    );
  });
});

describe('hashExpert', () => {
  it('spreads a vocabulary evenly and depends on the seed', () => {
    const counts = new Array<number>(8).fill(0);
    for (let id = 0; id < 16000; id++) counts[hashExpert(id, 0, 8)]++;
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(200);
    const a = Array.from({ length: 64 }, (_, id) => hashExpert(id, 1, 8));
    const b = Array.from({ length: 64 }, (_, id) => hashExpert(id, 2, 8));
    expect(a).not.toEqual(b);
  });
});

describeEachBackend('hashRouter', () => {
  it('routes by token id: same id, same expert; deterministic across instances with one seed', () => {
    const ids = [5, 17, 5, 900, 17, 3, 5, 42];
    const a = routeIds(make({ seed: 7, capacityFactor: 8 }), ids);
    const b = routeIds(make({ seed: 7, capacityFactor: 8 }), ids);
    expect(a.expert).toEqual(b.expert);
    expect(a.expert).toEqual(ids.map((id) => hashExpert(id, 7, 4)));
    expect(a.expert[2]).toBe(a.expert[0]);
    expect(a.expert[6]).toBe(a.expert[0]);
    expect(a.expert[4]).toBe(a.expert[1]);
    // Nothing dropped with this much capacity: weight 1 each, gates one-hot of the expert.
    expect(a.weight).toEqual(ids.map(() => 1));
    a.gates.forEach((row, s) => expect(row).toEqual([0, 1, 2, 3].map((e) => (e === a.expert[s] ? 1 : 0))));
    expect(a.auxLosses).toEqual({});
    expect(a.metrics).toMatchObject({ tokens: 8, k: 1, routingSuccessRate: 1 });
  });

  it('uses a different table for a different seed', () => {
    const ids = Array.from({ length: 32 }, (_, i) => i);
    const a = routeIds(make({ seed: 1, capacityFactor: 4 }), ids);
    const b = routeIds(make({ seed: 2, capacityFactor: 4 }), ids);
    expect(a.expert).not.toEqual(b.expert);
  });

  it('fills buffers in token order and drops past capacity; padding takes no slot', () => {
    // S = 16, E = 4, cf = 1.25: ceil(5) = 5 → multiple of 4 → C = 8. One id: every token to one expert.
    const ids = new Array<number>(16).fill(123);
    const mask = ids.map((_, s) => (s === 1 ? 0 : 1));
    const r = routeIds(make(), ids, mask);
    expect(r.capacity).toBe(8);
    expect(r.position).toEqual([0, -1, 1, 2, 3, 4, 5, 6, 7, -1, -1, -1, -1, -1, -1, -1]);
    expect(r.weight).toEqual(r.position.map((p) => (p >= 0 ? 1 : 0)));
    expect(r.metrics).toMatchObject({ tokens: 15, routingSuccessRate: 8 / 15 });
  });

  it('has no weights', () => {
    const router = make();
    expect(router.namedWeights()).toEqual({});
    expect(router.strategy).toBe('hash');
    router.dispose();
  });

  it('says it needs token ids, and checks them', () => {
    const router = make();
    const x = tf.zeros([3, 2]) as tf.Tensor2D;
    expect(() => router.route(x, { training: true })).toThrow(
      'router "hash": hash routing needs token ids; pass ctx.tokenIds ([S] int32 vocabulary ids).',
    );
    const short = tf.tensor1d([1, 2], 'int32');
    expect(() => router.route(x, { training: true, tokenIds: short })).toThrow(/tokenIds must be 1-D \[S\]/);
    const negative = tf.tensor1d([1, -2, 3], 'int32');
    expect(() => router.route(x, { training: true, tokenIds: negative })).toThrow(
      'router "hash": ctx.tokenIds[1] = -2 is not an integer ≥ 0.',
    );
    const wide = tf.zeros([3, 5]) as tf.Tensor2D;
    expect(() => router.route(wide, { training: true, tokenIds: negative })).toThrow(
      'router "hash": expected tokens [S, 2], got [3,5].',
    );
    tf.dispose([x, short, negative, wide]);
  });

  it('leaks no tensors (the result belongs to the caller)', async () => {
    const router = make();
    await expectNoLeakedTensors(() => {
      const x = tf.zeros([6, 2]) as tf.Tensor2D;
      const tokenIds = tf.tensor1d([1, 2, 3, 4, 5, 6], 'int32');
      const mask = tf.tensor1d([1, 1, 0, 1, 1, 1]);
      const r = sparse(router.route(x, { training: true, tokenIds, mask }));
      return [x, tokenIds, mask, ...tensorsOf(r)];
    });
  });

  it('round-trips its options: create(validateOptions(getOptions())) routes identically', () => {
    const a = make({ seed: 99, capacityFactor: 2, capacityMultipleOf: 1 });
    const b = hashRouter.create(hashRouter.validateOptions(a.getOptions()));
    expect(b.getOptions()).toEqual(a.getOptions());
    const ids = [4, 8, 15, 16, 23, 42, 4, 8];
    expect(routeIds(b, ids)).toEqual(routeIds(a, ids));
  });
});
