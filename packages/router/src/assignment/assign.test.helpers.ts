/** Seeded random gates for the assignment tests' property checks. */

/** Seeded mulberry32, so property tests are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

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
