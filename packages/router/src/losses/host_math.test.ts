import { expect, it } from 'vitest';
import { cvSquaredWithGrad, normalDensity, normalSurvival } from './host_math.js';

// The host-side math of the fused importance and load losses, against values from other sources.

it('normalSurvival matches tabulated upper-tail probabilities of N(0, 1) to 1.2e-7 relative', () => {
  // Q(z) from scipy.stats.norm.sf (also in Abramowitz & Stegun, table 26.1).
  const table: Array<[number, number]> = [
    [0, 0.5],
    [0.5, 0.3085375387259869],
    [1, 0.15865525393145707],
    [-2, 0.9772498680518208],
    [3, 0.0013498980316301035],
    [5, 2.866515718791939e-7],
    [8, 6.22096057427174e-16],
  ];
  for (const [z, q] of table) expect(Math.abs(normalSurvival(z) - q) / q).toBeLessThan(1.2e-7);
  expect(normalSurvival(40)).toBe(0);
  expect(normalSurvival(-40)).toBe(1);
  expect(normalDensity(0)).toBeCloseTo(1 / Math.sqrt(2 * Math.PI), 15);
  expect(normalDensity(1.5)).toBeCloseTo(0.12951759566589174, 15);
});

it('cvSquaredWithGrad is the population CV² with the gradient finite differences give', () => {
  const x = Float64Array.from([0.3, 1.7, 0.05, 2.2, 0.9]);
  const { value, grad } = cvSquaredWithGrad(x);
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
  expect(value).toBeCloseTo(variance / (mean * mean + Math.fround(1e-10)), 12);
  for (let i = 0; i < x.length; i++) {
    const h = 1e-6;
    const up = x.slice();
    const down = x.slice();
    up[i] += h;
    down[i] -= h;
    const fd = (cvSquaredWithGrad(up).value - cvSquaredWithGrad(down).value) / (2 * h);
    expect(Math.abs(grad[i] - fd)).toBeLessThan(1e-7);
  }
  // Perfect balance: 0 with a zero gradient (vmoe PR #218: finite, not NaN).
  const flat = cvSquaredWithGrad(Float64Array.from([2, 2, 2]));
  expect(flat.value).toBe(0);
  expect(Array.from(flat.grad)).toEqual([0, 0, 0]);
});
