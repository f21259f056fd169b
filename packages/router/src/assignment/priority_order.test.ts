import { describe, expect, it } from 'vitest';
import { seededUniform } from '@moevl/core/testing';
import { priorityOrder } from './priority_order.js';

/** The comparator sort `assignTopK` used before: descending priority, ties in token order. */
function reference(tokens: number[], priority: (s: number) => number): number[] {
  return tokens.slice().sort((a, b) => {
    const pa = priority(a);
    const pb = priority(b);
    return pa === pb ? 0 : pa < pb ? 1 : -1;
  });
}

const rng = seededUniform;

describe('priorityOrder (Batch Priority Routing order)', () => {
  it('equals the stable comparator sort on float32 gates with ties, zeros, −0, negatives and infinities', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed);
      const n = Math.floor(r() * 300);
      const special = [0, -0, 1, -1, Infinity, -Infinity, 0.5, 1e-30];
      const gates = Float32Array.from({ length: n }, () =>
        r() < 0.3
          ? special[Math.floor(r() * special.length)]
          : r() < 0.5
            ? Math.round(r() * 8) / 8
            : r() * 2 - 1,
      );
      // A masked-out token or two missing from the order, as assignTopK's order leaves them out.
      const tokens = Array.from({ length: n }, (_, s) => s).filter(() => r() > 0.05);
      const priority = (s: number) => gates[s];
      expect(priorityOrder(tokens, priority)).toEqual(reference(tokens, priority));
    }
  });

  it('falls back to the comparator sort for NaN or float64 priorities (same result)', () => {
    const tokens = [0, 1, 2, 3, 4, 5];
    for (const values of [
      [0.3, NaN, 0.3, 0.1, NaN, 0.9],
      [0.1, 0.2, 0.1 + 1e-12, 0.3, 0.2, 0.1],
    ]) {
      const priority = (s: number) => values[s];
      expect(priorityOrder(tokens, priority)).toEqual(reference(tokens, priority));
    }
  });

  it('orders an empty or one-token batch', () => {
    expect(priorityOrder([], () => 0)).toEqual([]);
    expect(priorityOrder([7], () => 0.5)).toEqual([7]);
  });
});
