import { describe, expect, it } from 'vitest';
import { ExpertUsageEMA } from './expert_usage_ema.js';

const batch = (a: number[][], m: number[][]) => ({
  blocks: [
    { name: 'block0/attention', expertTaskUsage: a },
    { name: 'block1/mlp', expertTaskUsage: m },
  ],
});

describe('ExpertUsageEMA', () => {
  it('raw counts: u ← 0.95·u + 0.05·count, hand-computed', () => {
    const ema = new ExpertUsageEMA({ normalize: false });
    ema.update(
      batch(
        [
          [4, 0],
          [0, 2],
        ],
        [
          [1, 3, 0],
          [2, 2, 2],
        ],
      ),
    );
    ema.update(
      batch(
        [
          [2, 2],
          [0, 0],
        ],
        [
          [0, 4, 0],
          [6, 0, 0],
        ],
      ),
    );
    const [a, m] = ema.usage();
    expect(a.name).toBe('block0/attention');
    // Attention task 0: 0.05·4 = 0.2 → 0.95·0.2 + 0.05·2 = 0.29; expert 1: 0 → 0.1.
    expect(a.usage[0][0]).toBeCloseTo(0.29, 12);
    expect(a.usage[0][1]).toBeCloseTo(0.1, 12);
    // Task 1 had no token in the second batch: left as it was, not decayed.
    expect(a.usage[1][0]).toBe(0);
    expect(a.usage[1][1]).toBeCloseTo(0.1, 12);
    expect(m.usage[0][1]).toBeCloseTo(0.95 * 0.15 + 0.05 * 4, 12);
    expect(m.usage[1][0]).toBeCloseTo(0.95 * 0.1 + 0.05 * 6, 12);
  });

  it('normalised (default): each batch contributes fractions of that task’s choices', () => {
    const ema = new ExpertUsageEMA();
    ema.update(batch([[3, 1]], [[2, 2, 0]]));
    ema.update(batch([[0, 10]], [[0, 0, 8]]));
    const [a, m] = ema.usage();
    expect(a.usage[0][0]).toBeCloseTo(0.95 * 0.05 * 0.75, 12);
    expect(a.usage[0][1]).toBeCloseTo(0.95 * 0.05 * 0.25 + 0.05, 12);
    expect(m.usage[0]).toEqual([0.95 * 0.025, 0.95 * 0.025, 0.05].map((v) => expect.closeTo(v, 12)));
  });

  it('saves and restores its state, and rejects a mismatching one', () => {
    const ema = new ExpertUsageEMA();
    ema.update(batch([[1, 1]], [[1, 0, 0]]));
    const state = JSON.parse(JSON.stringify(ema.getState()));
    const copy = new ExpertUsageEMA();
    copy.setState(state);
    expect(copy.usage()).toEqual(ema.usage());
    expect(() => new ExpertUsageEMA({ decay: 0.9 }).setState(state)).toThrow(/decay 0\.95/);
    expect(() => ema.update(batch([[1, 1, 1]], [[1, 0, 0]]))).toThrow(/block0\/attention changed shape/);
    expect(() => new ExpertUsageEMA({ decay: 1 })).toThrow(/decay must be in \[0, 1\)/);
  });
});
