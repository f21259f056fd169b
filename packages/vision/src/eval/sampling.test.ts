import { describe, expect, it } from 'vitest';
import { classBalancedSample, shardItems } from './sampling.js';

/** 4 classes of very different sizes, grouped by class like a folder dataset. */
const LABELS = [...Array(10).fill(0), ...Array(2).fill(1), ...Array(30).fill(2), ...Array(8).fill(3)];

function perClass(indices: number[], labels: ArrayLike<number> = LABELS): number[] {
  const counts = [0, 0, 0, 0];
  for (const i of indices) counts[labels[i]]++;
  return counts;
}

describe('classBalancedSample', () => {
  it('takes limit items, sorted, spread evenly over classes', () => {
    const s = classBalancedSample(LABELS, 20, 0);
    expect(s).toHaveLength(20);
    expect(new Set(s).size).toBe(20);
    expect(s).toEqual([...s].sort((a, b) => a - b));
    // 20 / 4 = 5 each, but class 1 has only 2: its 3 leftover go round-robin to the others.
    const counts = perClass(s);
    expect(counts[1]).toBe(2);
    expect(counts.reduce((a, b) => a + b)).toBe(20);
    for (const c of [0, 2, 3]) expect([6, 7]).toContain(counts[c]);
  });

  it('is a function of the seed', () => {
    expect(classBalancedSample(LABELS, 12, 7)).toEqual(classBalancedSample(LABELS, 12, 7));
    expect(classBalancedSample(LABELS, 12, 7)).not.toEqual(classBalancedSample(LABELS, 12, 8));
  });

  it('gives every class an item when the limit allows, whichever seed', () => {
    for (let seed = 0; seed < 20; seed++) {
      const counts = perClass(classBalancedSample(LABELS, 4, seed));
      expect(counts).toEqual([1, 1, 1, 1]);
    }
  });

  it('returns everything for limit ≥ count and rejects a bad limit', () => {
    expect(classBalancedSample([2, 0, 1], 5, 0)).toEqual([0, 1, 2]);
    expect(() => classBalancedSample(LABELS, 0, 0)).toThrow(/limit must be a positive integer, got 0/);
    expect(() => classBalancedSample(LABELS, 2.5, 0)).toThrow(/limit/);
  });
});

describe('shardItems', () => {
  it.each([2, 3, 7])('partitions the items into %i disjoint, balanced, sorted shards', (n) => {
    const items = classBalancedSample(LABELS, 30, 1);
    const shards = Array.from({ length: n }, (_, index) => shardItems(items, { index, count: n }, 1));
    expect(shards.flat().sort((a, b) => a - b)).toEqual(items);
    for (const s of shards) {
      expect(s).toEqual([...s].sort((a, b) => a - b));
      expect(Math.abs(s.length - items.length / n)).toBeLessThan(1);
    }
  });

  it('shuffles before dealing, so a shard is not a block of consecutive items', () => {
    const items = Array.from({ length: 40 }, (_, i) => i);
    const s0 = shardItems(items, { index: 0, count: 2 }, 0);
    expect(s0).not.toEqual(items.filter((i) => i % 2 === 0));
    expect(s0).toEqual(shardItems(items, { index: 0, count: 2 }, 0));
  });

  it('rejects an impossible shard', () => {
    expect(() => shardItems([1, 2], { index: 2, count: 2 }, 0)).toThrow(
      'shard index must be an integer in [0, 2), got 2.',
    );
    expect(() => shardItems([1, 2], { index: 0, count: 0 }, 0)).toThrow(/shard count/);
  });
});
