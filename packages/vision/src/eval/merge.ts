import { ZeroShotEvalError } from './eval_error.js';
import { metricsFromPredictions } from '../zeroshot/metrics.js';
import type { ZeroShotEvalResult } from './eval_result.js';

/**
 * Shards of one evaluation — possibly computed on different machines — combined into the result of the
 * whole run. Metrics are recomputed from the union of the predictions (never averaged across shards, which
 * would weight shards rather than images), so the merge equals one uninterrupted run exactly. Everything
 * that could make the union meaningless is refused: shards of different runs, a shard given twice or
 * missing, overlapping items.
 */

function fail(message: string): never {
  throw new ZeroShotEvalError(message, { code: 'merge' });
}

function describe(part: ZeroShotEvalResult, k: number): string {
  return part.shard ? `part ${k} (shard ${part.shard.index}/${part.shard.count})` : `part ${k}`;
}

/** Fields every shard of one run shares; a difference means the parts come from different runs. */
function sharedFields(r: ZeroShotEvalResult): Record<string, unknown> {
  return {
    dataset: r.dataset,
    model: r.model,
    classes: r.classes,
    templates: r.templates,
    templatesName: r.templatesName ?? null,
    classNames: r.hashes?.classNames,
    templateTexts: r.hashes?.templates,
    classIndices: r.classIndices ?? null,
    topK: r.topK,
    sampling: r.sampling,
    shardCount: r.shard?.count ?? null,
    // The model's weights and routing, and the item list before sharding: two datasets with the same
    // folder name and counts, or two models under one path, are not shards of one run.
    evalRouting: r.routing?.evalRouting ?? null,
    modelHash: r.hashes?.model ?? null,
    itemsHash: r.hashes?.items ?? null,
  };
}

/** Combines shard results (or their JSON files read with readEvalResult) into the full metrics. */
export function mergeZeroShotResults(parts: ZeroShotEvalResult[]): ZeroShotEvalResult {
  if (parts.length === 0) fail('mergeZeroShotResults: no results given.');
  const first = parts[0];
  const reference = sharedFields(first);
  parts.forEach((part, k) => {
    const fields = sharedFields(part);
    for (const [field, value] of Object.entries(reference)) {
      if (JSON.stringify(fields[field]) !== JSON.stringify(value)) {
        fail(
          `${describe(part, k)} disagrees with part 0 on ${field} ` +
            `(${JSON.stringify(fields[field])} vs ${JSON.stringify(value)}): they are not shards of one run.`,
        );
      }
    }
  });

  if (parts.length > 1 || first.shard) {
    const unsharded = parts.findIndex((p) => !p.shard);
    if (unsharded >= 0)
      fail(`part ${unsharded} is not a shard result; only shards of one run can be merged.`);
    const count = first.shard!.count;
    const seen = new Map<number, number>();
    parts.forEach((part, k) => {
      const index = part.shard!.index;
      if (seen.has(index))
        fail(`shard ${index}/${count} is given twice (parts ${seen.get(index)} and ${k}).`);
      seen.set(index, k);
    });
    const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
    if (missing.length > 0) {
      fail(`missing shard(s) ${missing.map((i) => `${i}/${count}`).join(', ')}: all ${count} are needed.`);
    }
  }

  const owner = new Map<number, number>();
  parts.forEach((part, k) => {
    for (const entry of [...part.predictions, ...part.counts.skippedFiles]) {
      const other = owner.get(entry.index);
      if (other !== undefined) {
        fail(
          `item ${entry.index} (${entry.id}) is in both ${describe(parts[other], other)} and ${describe(part, k)}.`,
        );
      }
      owner.set(entry.index, k);
    }
  });
  const items = parts.reduce((n, p) => n + p.counts.items, 0);
  if (first.sampling && items !== first.sampling.selected) {
    fail(`the parts cover ${items} items but the run selected ${first.sampling.selected}.`);
  }
  if (owner.size !== items) {
    fail(`the parts hold results for ${owner.size} of their ${items} items: some shard did not finish.`);
  }

  const predictions = parts.flatMap((p) => p.predictions).sort((a, b) => a.index - b.index);
  const skippedFiles = parts.flatMap((p) => p.counts.skippedFiles).sort((a, b) => a.index - b.index);
  const sum = (f: (r: ZeroShotEvalResult) => number) => parts.reduce((s, p) => s + f(p), 0);
  const imageSeconds = sum((p) => p.timing.imageSeconds ?? 0);
  const evaluatedNow = sum((p) => p.timing.imagesPerSecond * (p.timing.imageSeconds ?? 0));
  const merged: ZeroShotEvalResult = {
    ...first,
    metrics: metricsFromPredictions(predictions, first.classes, first.classIndices?.length ?? first.classes),
    counts: { items, evaluated: predictions.length, skipped: skippedFiles.length, skippedFiles },
    timing: {
      seconds: sum((p) => p.timing.seconds),
      imagesPerSecond: imageSeconds > 0 ? evaluatedNow / imageSeconds : 0,
      classifierSeconds: sum((p) => p.timing.classifierSeconds),
      classifierCached: parts.every((p) => p.timing.classifierCached),
      imageSeconds,
    },
    predictions,
    warnings: [...new Set(parts.flatMap((p) => p.warnings ?? []))],
    ...(first.routing && { routing: mergeRouting(parts.map((p) => p.routing!)) }),
  };
  delete merged.shard;
  return merged;
}

/** Routing success over all shards: weighted by the tokens each shard routed. */
function mergeRouting(reports: ReadonlyArray<NonNullable<ZeroShotEvalResult['routing']>>) {
  const rate = (key: 'images' | 'texts') => {
    const tokens = reports.reduce((n, r) => n + r.tokens[key], 0);
    if (tokens === 0) return null;
    return reports.reduce((s, r) => s + (r.routingSuccessRate[key] ?? 0) * r.tokens[key], 0) / tokens;
  };
  return {
    evalRouting: reports[0].evalRouting,
    routingSuccessRate: { images: rate('images'), texts: rate('texts') },
    tokens: {
      images: reports.reduce((n, r) => n + r.tokens.images, 0),
      texts: reports.reduce((n, r) => n + r.tokens.texts, 0),
    },
  };
}
