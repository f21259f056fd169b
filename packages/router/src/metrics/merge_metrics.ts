function meanOf(values: unknown[], path: string): unknown {
  const present = values.filter((v) => v != null);
  if (present.length === 0) return null;
  const first = present[0];
  if (typeof first === 'number') {
    let sum = 0;
    for (const v of present) {
      if (typeof v !== 'number') throw new Error(`mergeMetrics: ${path} mixes numbers and ${typeof v}.`);
      sum += v;
    }
    return sum / present.length;
  }
  if (Array.isArray(first)) {
    for (const v of present) {
      if (!Array.isArray(v) || v.length !== first.length) {
        throw new Error(
          `mergeMetrics: ${path} has different lengths (${first.length} and ${(v as []).length}).`,
        );
      }
    }
    return first.map((_, i) =>
      meanOf(
        present.map((v) => (v as unknown[])[i]),
        `${path}[${i}]`,
      ),
    );
  }
  if (typeof first === 'object') {
    const keys = new Set<string>();
    for (const v of present) for (const key of Object.keys(v as object)) keys.add(key);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      out[key] = meanOf(
        present.map((v) => (v as Record<string, unknown>)[key]),
        path === '' ? key : `${path}.${key}`,
      );
    }
    return out;
  }
  throw new Error(
    `mergeMetrics: ${path} holds a ${typeof first}; metrics must be numbers, arrays or objects.`,
  );
}

/**
 * Element-wise mean of metric records from several MoE layers or steps (`RoutingMetrics`,
 * `ExpertChoiceMetrics`), for one log line per step. Nulls are skipped: a modality absent from one batch
 * does not drag its mean towards 0, and a field null everywhere stays null. It is an unweighted mean of
 * per-record values (counts become mean counts), the usual way per-layer metrics are summarised. Records
 * must describe the same model: different `numExperts` is an error.
 */
export function mergeMetrics<T extends { readonly numExperts: number }>(records: readonly T[]): T {
  if (records.length === 0) throw new Error('mergeMetrics: needs at least one record.');
  const experts = new Set(records.map((r) => r.numExperts));
  if (experts.size > 1) {
    throw new Error(`mergeMetrics: records have different numExperts (${[...experts].join(', ')}).`);
  }
  return meanOf([...records], '') as T;
}
