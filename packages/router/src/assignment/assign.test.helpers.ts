import { seededUniform } from '@moevl/core/testing';

/** Seeded random gates for the assignment tests' property checks. */

/** Seeded mulberry32 (core's `seededUniform`), so property tests are reproducible. */
export const rng = seededUniform;

/** Softmax of random logits, rounded to float32 as the tensor will hold them. */
export function randomGates(S: number, E: number, seed: number): number[][] {
  const next = rng(seed);
  return Array.from({ length: S }, () => {
    const logits = Array.from({ length: E }, () => (next() - 0.5) * 6);
    const m = Math.max(...logits);
    const ex = logits.map((l) => Math.exp(l - m));
    const z = ex.reduce((a, b) => a + b, 0);
    return ex.map((v) => Math.fround(v / z));
  });
}
