// Paired comparisons of two models evaluated on the same test examples, over several seeds: the mean
// difference with a 95% bootstrap interval over test examples (the same resampled examples for every seed
// and both models, so the pairing is kept), per-seed differences, and McNemar's exact test per seed (for 0/1
// scores). The interval treats the seeds as fixed: it says how sure the difference is on these test
// examples, not across training runs. `seedsAgree` says whether every seed's difference has the same sign —
// a claim should need both — and `seedCi95` is Student's t interval over the per-seed differences (df =
// seeds − 1): the only one of the three that treats training runs as random, and with 3 seeds a wide one.

/** A small seeded PRNG (mulberry32), so the intervals in the docs are reproducible. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Two-sided exact McNemar p-value from the discordant counts b (A right, B wrong) and c (A wrong, B right). */
export function mcnemarExact(b, c) {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  // P(X ≤ k) for X ~ Binomial(n, 1/2), in log space to stay finite for large n.
  let logC = 0;
  let cdf = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    cdf += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, 2 * cdf);
}

// Two-sided 95% quantiles of Student's t for df = 1…30 (then the normal's 1.96).
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Student's t 95% interval of the mean of `xs` (null for fewer than 2 values). */
export function tInterval95(xs) {
  const n = xs.length;
  if (n < 2) return null;
  const mean = xs.reduce((x, y) => x + y, 0) / n;
  const sd = Math.sqrt(xs.reduce((acc, x) => acc + (x - mean) ** 2, 0) / (n - 1));
  const half = (T975[n - 2] ?? 1.96) * (sd / Math.sqrt(n));
  return [mean - half, mean + half];
}

/**
 * @param a correctness of model A: one Uint8Array (1 = correct) per seed, all over the same images
 * @param b the same for model B, seeds in the same order
 * @returns mean difference (A − B) over seeds, its 95% bootstrap interval, per-seed differences and McNemar
 */
export function pairedDifference(a, b, { resamples = 10_000, seed = 0 } = {}) {
  if (a.length !== b.length || a.length === 0)
    throw new Error('pairedDifference: need the same seeds for A and B');
  const n = a[0].length;
  const seeds = a.length;
  // Per image: the mean over seeds of (A correct − B correct).
  const d = new Float64Array(n);
  const perSeed = [];
  const mcnemar = [];
  for (let s = 0; s < seeds; s++) {
    let sum = 0;
    let bc = 0;
    let cb = 0;
    for (let i = 0; i < n; i++) {
      const diff = a[s][i] - b[s][i];
      d[i] += diff / seeds;
      sum += diff;
      if (diff > 0) bc++;
      if (diff < 0) cb++;
    }
    perSeed.push(sum / n);
    mcnemar.push({ aOnly: bc, bOnly: cb, p: mcnemarExact(bc, cb) });
  }
  const mean = d.reduce((x, y) => x + y, 0) / n;
  const next = rng(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += d[Math.floor(next() * n)];
    means[r] = sum / n;
  }
  means.sort();
  const seedsAgree = perSeed.every((x) => x > 0) || perSeed.every((x) => x < 0);
  return {
    mean,
    ci95: [means[Math.floor(0.025 * resamples)], means[Math.ceil(0.975 * resamples) - 1]],
    perSeed,
    seedsAgree,
    seedCi95: tInterval95(perSeed),
    mcnemar,
  };
}
