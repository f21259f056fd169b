import { describe, expect, it } from 'vitest';
import { constantLr, warmupCosine } from './schedule.js';

describe('warmupCosine', () => {
  const lr = warmupCosine({ peakLr: 1e-3, warmupSteps: 4, totalSteps: 14, endLr: 1e-5 });

  it('warms up linearly from peakLr/warmupSteps to peakLr', () => {
    expect(lr(0)).toBe(1e-3 / 4);
    expect(lr(1)).toBe((1e-3 * 2) / 4);
    expect(lr(2)).toBe((1e-3 * 3) / 4);
    expect(lr(3)).toBe(1e-3);
  });

  it('decays along a cosine from peakLr at warmupSteps to endLr at totalSteps, then holds', () => {
    expect(lr(4)).toBe(1e-3);
    // Midpoint of the 10 decay steps: cos(π/2) ≈ 6e-17 rounds w to exactly 1/2.
    expect(lr(9)).toBeCloseTo((1e-3 + 1e-5) / 2, 15);
    const w = 0.5 * (1 + Math.cos(Math.PI * 0.1));
    expect(lr(5)).toBeCloseTo(w * 1e-3 + (1 - w) * 1e-5, 15);
    expect(lr(13)).toBeGreaterThan(1e-5);
    expect(lr(14)).toBe(1e-5);
    expect(lr(1000)).toBe(1e-5);
    for (let s = 4; s < 14; s++) expect(lr(s + 1)).toBeLessThan(lr(s));
  });

  it('supports no warmup, endLr defaulting to 0, and totalSteps = warmupSteps', () => {
    const noWarmup = warmupCosine({ peakLr: 0.5, warmupSteps: 0, totalSteps: 2 });
    expect(noWarmup(0)).toBe(0.5);
    expect(noWarmup(1)).toBeCloseTo(0.25, 15);
    expect(noWarmup(2)).toBe(0);
    const onlyWarmup = warmupCosine({ peakLr: 1, warmupSteps: 2, totalSteps: 2, endLr: 0.1 });
    expect([onlyWarmup(0), onlyWarmup(1), onlyWarmup(2), onlyWarmup(3)]).toEqual([0.5, 1, 0.1, 0.1]);
  });

  it('names the bad option in its errors', () => {
    const base = { peakLr: 1, warmupSteps: 2, totalSteps: 10 };
    expect(() => warmupCosine({ ...base, peakLr: -1 })).toThrow(/peakLr/);
    expect(() => warmupCosine({ ...base, peakLr: NaN })).toThrow(/peakLr/);
    expect(() => warmupCosine({ ...base, endLr: Infinity })).toThrow(/endLr/);
    expect(() => warmupCosine({ ...base, warmupSteps: 1.5 })).toThrow(/warmupSteps/);
    expect(() => warmupCosine({ ...base, totalSteps: -3 })).toThrow(/totalSteps/);
    expect(() => warmupCosine({ ...base, totalSteps: 1 })).toThrow(
      /totalSteps \(1\) must be ≥ warmupSteps \(2\)/,
    );
    expect(() => warmupCosine(base)(-1)).toThrow(/step/);
    expect(() => warmupCosine(base)(0.5)).toThrow(/step/);
  });
});

describe('constantLr', () => {
  it('returns the same rate at every step and validates it', () => {
    const lr = constantLr(3e-4);
    expect([lr(0), lr(1), lr(10_000)]).toEqual([3e-4, 3e-4, 3e-4]);
    expect(() => constantLr(-1)).toThrow(/lr/);
    expect(() => lr(-2)).toThrow(/step/);
  });
});
