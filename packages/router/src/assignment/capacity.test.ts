import { describe, expect, it } from 'vitest';
import { computeCapacity } from './capacity.js';

describe('computeCapacity', () => {
  it('matches the V-MoE goldens (vmoe/nn/routing_test.py)', () => {
    expect(computeCapacity({ tokens: 32, k: 2, experts: 32, capacityFactor: 1 })).toBe(4);
    // Expert choice counts N = S tokens (k = 1).
    expect(computeCapacity({ tokens: 128, experts: 32, capacityFactor: 2 })).toBe(8);
    expect(computeCapacity({ tokens: 196, k: 1, experts: 32, capacityFactor: 1.05 })).toBe(8);
    expect(computeCapacity({ tokens: 197, k: 1, experts: 8, capacityFactor: 1.05 })).toBe(28);
  });

  it('rounds up to multipleOf, or not at all with multipleOf = 1', () => {
    // 196·1.05/32 = 6.43 → ceil 7.
    expect(computeCapacity({ tokens: 196, experts: 32, capacityFactor: 1.05, multipleOf: 1 })).toBe(7);
    expect(computeCapacity({ tokens: 196, experts: 32, capacityFactor: 1.05, multipleOf: 8 })).toBe(8);
    expect(computeCapacity({ tokens: 1, experts: 32, capacityFactor: 1 })).toBe(4);
  });

  it('ignores float noise before ceil (100·1.1/10 is 11.000000000000002 in doubles)', () => {
    expect(computeCapacity({ tokens: 100, experts: 10, capacityFactor: 1.1, multipleOf: 1 })).toBe(11);
  });

  it("'round' is Python's round-half-to-even (Soft MoE slots)", () => {
    const opts = { experts: 4, capacityFactor: 1, multipleOf: 1, rounding: 'round' as const };
    expect(computeCapacity({ ...opts, tokens: 10 })).toBe(2); // 2.5 → 2
    expect(computeCapacity({ ...opts, tokens: 14 })).toBe(4); // 3.5 → 4
    expect(computeCapacity({ ...opts, tokens: 11 })).toBe(3); // 2.75 → 3
    expect(computeCapacity({ ...opts, tokens: 9 })).toBe(2); // 2.25 → 2
  });

  it('rejects bad options, naming the option', () => {
    const base = { tokens: 32, experts: 8, capacityFactor: 1 };
    expect(() => computeCapacity({ ...base, capacityFactor: 0 })).toThrow(/capacityFactor/);
    expect(() => computeCapacity({ ...base, capacityFactor: -1 })).toThrow(/capacityFactor/);
    expect(() => computeCapacity({ ...base, capacityFactor: NaN })).toThrow(/capacityFactor/);
    expect(() => computeCapacity({ ...base, tokens: 3.5 })).toThrow(/tokens/);
    expect(() => computeCapacity({ ...base, experts: 0 })).toThrow(/experts/);
    expect(() => computeCapacity({ ...base, k: 1.5 })).toThrow(/\bk\b/);
    expect(() => computeCapacity({ ...base, multipleOf: 0 })).toThrow(/multipleOf/);
    expect(() => computeCapacity({ ...base, tokens: 0 })).toThrow(/< 1/);
    // round(1·1/4) = round(0.25) = 0: an expert with no slot.
    expect(() => computeCapacity({ ...base, tokens: 1, experts: 4, rounding: 'round' })).toThrow(/< 1/);
  });
});
