/** How experts are shared between tasks, from a task × expert usage matrix; entropies in nats. */
export interface TaskExpertStatistics {
  /** H(E|T) = Σ_t P(t)·H(E|t): low when every task concentrates on few experts. */
  conditionalEntropy: number;
  /** H(E): high when, over all tasks together, every expert is used. */
  expertEntropy: number;
  /** I(T; E) = H(E) − H(E|T) ∈ [0, min(ln T, ln E)]: 0 when tasks route alike, ln T when disjoint. */
  mutualInformation: number;
  /** [T][T] cosine similarity of the tasks' expert-share rows P(E|t); 1 on the diagonal. */
  taskSimilarity: number[][];
}

/** −Σ p ln p over the positive entries (0·ln 0 = 0). */
function entropy(p: readonly number[]): number {
  return p.reduce((h, v) => (v > 0 ? h - v * Math.log(v) : h), 0);
}

function checkUsage(usage: ReadonlyArray<ReadonlyArray<number>>): void {
  const experts = usage[0]?.length ?? 0;
  if (
    !Array.isArray(usage as unknown) ||
    usage.length === 0 ||
    experts === 0 ||
    usage.some((r) => r.length !== experts)
  ) {
    throw new Error('taskExpertStatistics: usage must be a non-empty [tasks][experts] matrix of counts.');
  }
  if (usage.some((r) => r.some((v) => !Number.isFinite(v) || v < 0))) {
    throw new Error('taskExpertStatistics: usage counts must be finite and ≥ 0.');
  }
  if (usage.every((r) => r.every((v) => v === 0))) {
    throw new Error('taskExpertStatistics: usage is all zero; record routing on some tokens first.');
  }
}

/** Each row divided by its sum, P(e|t); an all-zero row (a task never seen) stays all zero. */
export function usageShares(usage: ReadonlyArray<ReadonlyArray<number>>): number[][] {
  return usage.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (total > 0 ? v / total : 0));
  });
}

/**
 * The statistics Mod-Squad uses to show that tasks specialise experts: with P(t, e) = usage/total,
 * H(E|T) should fall (each task sharp on a few experts) while H(E) stays high (all experts used), i.e.
 * the mutual information I(T; E) = H(E) − H(E|T) rises. This is the quantity the MI loss maximises
 * (router's `mutualInformationLoss` ≈ −I, up to its 1e-4 smoothing), measured here on hard top-k counts.
 *
 * Task similarity is the cosine similarity of two tasks' share rows P(E|t): 1 for identical expert
 * preferences, 0 for disjoint experts; it ignores how many tokens each task had, so a small task is
 * compared on its preferences alone. A task with no usage has similarity 0 to the others (1 to itself).
 * The mutual information is clamped at 0 against rounding.
 */
export function taskExpertStatistics(usage: ReadonlyArray<ReadonlyArray<number>>): TaskExpertStatistics {
  checkUsage(usage);
  const total = usage.reduce((a, r) => a + r.reduce((b, v) => b + v, 0), 0);
  const taskMass = usage.map((r) => r.reduce((a, b) => a + b, 0) / total);
  const expertMass = usage[0].map((_, e) => usage.reduce((a, r) => a + r[e], 0) / total);
  const shares = usageShares(usage);
  const conditionalEntropy = shares.reduce((h, row, t) => h + taskMass[t] * entropy(row), 0);
  const expertEntropy = entropy(expertMass);
  const norms = shares.map((row) => Math.sqrt(row.reduce((a, v) => a + v * v, 0)));
  const taskSimilarity = shares.map((a, i) =>
    shares.map((b, j) => {
      if (i === j) return 1;
      if (norms[i] === 0 || norms[j] === 0) return 0;
      return a.reduce((acc, v, e) => acc + v * b[e], 0) / (norms[i] * norms[j]);
    }),
  );
  return {
    conditionalEntropy,
    expertEntropy,
    mutualInformation: Math.max(0, expertEntropy - conditionalEntropy),
    taskSimilarity,
  };
}
