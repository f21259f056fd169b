/**
 * Shared inputs and float64 reference math for the loss tests (not a test file itself; `.test-util` keeps
 * it out of the published package). The references are plain JS on number[][] so they share no code with
 * the tfjs implementations they check.
 */
import type * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

/** The 4×3 gate matrix of vmoe's routing tests (`vmoe/nn/routing_test.py`), reused by LIMoE's goldens. */
export const VMOE_GATES = [
  [0.5, 0.4, 0.1],
  [0.3, 0.3, 0.4],
  [0.1, 0.2, 0.7],
  [0.8, 0.2, 0],
];

/** Deterministic uniform [0, 1) generator (LCG), so random inputs are the same on every run and backend. */
export function uniform(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** [rows, cols] standard normals (Box–Muller) scaled by `scale`. */
export function randomMatrix(rows: number, cols: number, seed: number, scale = 1): number[][] {
  const u = uniform(seed);
  const out: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const row: number[] = [];
    for (let c = 0; c < cols; c++) {
      const a = Math.max(u(), 1e-12);
      row.push(scale * Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u()));
    }
    out.push(row);
  }
  return out;
}

export function softmax64(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

/** Router-like gates: softmax of random logits, strictly positive. */
export function randomGates(rows: number, cols: number, seed: number, scale = 1.5): number[][] {
  return randomMatrix(rows, cols, seed, scale).map(softmax64);
}

export function mean64(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** CV² with the population variance (ddof 0). */
export function cv2_64(xs: number[]): number {
  const m = mean64(xs);
  return mean64(xs.map((x) => (x - m) ** 2)) / (m * m);
}

/** Shannon entropy in nats, 0·ln 0 = 0. */
export function entropy64(p: number[]): number {
  return -p.reduce((a, x) => a + (x > 0 ? x * Math.log(x) : 0), 0);
}

/** Column means of the rows kept by `weights` (all rows without); 0 when no row is kept. */
export function weightedColumnMeans(m: number[][], weights?: number[]): number[] {
  const w = weights ?? m.map(() => 1);
  const total = w.reduce((a, b) => a + b, 0);
  return m[0].map((_, e) => (total > 0 ? m.reduce((a, row, s) => a + w[s] * row[e], 0) / total : 0));
}

/** Weighted mean of per-row values; 0 when no row is kept. */
export function weightedMean(values: number[], weights?: number[]): number {
  const w = weights ?? values.map(() => 1);
  const total = w.reduce((a, b) => a + b, 0);
  return total > 0 ? values.reduce((a, v, s) => a + w[s] * v, 0) / total : 0;
}

/** Reads a scalar tensor and disposes it. */
export function read(t: tf.Tensor): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

/** |actual − expected| ≤ tol · max(1, |expected|): float32 results against float64 references. */
export function expectClose(actual: number, expected: number, tol = 1e-5): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected)));
}

/**
 * erf in float64 (JS has no Math.erf): Maclaurin series below 2.5, where it converges without
 * cancellation, and the Laplace continued fraction for erfc above. Good to ~1e-14.
 */
export function erf64(x: number): number {
  if (x < 0) return -erf64(-x);
  if (x < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let t = x;
  for (let n = 120; n >= 1; n--) t = x + n / 2 / t;
  return 1 - Math.exp(-x * x) / (Math.sqrt(Math.PI) * t);
}
