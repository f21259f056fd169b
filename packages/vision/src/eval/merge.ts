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

/** How the merge names parts in its messages: their file names when given, else `part k`. */
export interface MergeOptions {
  /** One name per part (the files they were read from), used in every message. */
  names?: readonly string[];
}

/** Which shard indices a set of shard results covers, and which are missing or given more than once. */
export interface ShardCoverage {
  /** The shard count of the first shard result (0 when none is a shard). */
  count: number;
  /** Indices present at least once, ascending. */
  present: number[];
  /** Indices in [0, count) that no part holds, ascending. */
  missing: number[];
  /** Indices held by more than one part, with the positions of those parts. */
  duplicates: Array<{ index: number; parts: number[] }>;
}

/**
 * What `shards` (each part's `shard`, undefined for an unsharded result) cover. The count is the first
 * shard's: parts with another count are of another run, which `mergeZeroShotResults` reports as such.
 */
export function shardCoverage(
  shards: ReadonlyArray<{ index: number; count: number } | undefined>,
): ShardCoverage {
  const count = shards.find((s) => s !== undefined)?.count ?? 0;
  const holders = new Map<number, number[]>();
  shards.forEach((s, k) => {
    if (s === undefined) return;
    const list = holders.get(s.index) ?? [];
    list.push(k);
    holders.set(s.index, list);
  });
  const present = [...holders.keys()].sort((a, b) => a - b);
  return {
    count,
    present,
    missing: Array.from({ length: count }, (_, i) => i).filter((i) => !holders.has(i)),
    duplicates: present
      .filter((i) => holders.get(i)!.length > 1)
      .map((index) => ({ index, parts: holders.get(index)! })),
  };
}

/** `0/4, 2/4` — shard indices as `--shard` writes them. */
export function formatShardList(indices: readonly number[], count: number): string {
  return indices.map((i) => `${i}/${count}`).join(', ');
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

/** A value for a message: its JSON, cut short (hashes and sampling objects can be long). */
function short(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/**
 * Parts of more than one run: every group of parts that agree, with the values on which the groups
 * differ, so one stale file among fifty is named as such rather than as "disagrees with part 0".
 */
function checkOneRun(parts: readonly ZeroShotEvalResult[], name: (k: number) => string): void {
  const fields = parts.map(sharedFields);
  const groups: Array<{ fields: Record<string, unknown>; parts: number[] }> = [];
  fields.forEach((f, k) => {
    const key = JSON.stringify(f);
    const group = groups.find((g) => JSON.stringify(g.fields) === key);
    if (group) group.parts.push(k);
    else groups.push({ fields: f, parts: [k] });
  });
  if (groups.length === 1) return;
  const differing = Object.keys(fields[0]).filter(
    (field) => new Set(groups.map((g) => JSON.stringify(g.fields[field]))).size > 1,
  );
  const lines = groups.map((g) => {
    const values = differing.map((field) => `${field} ${short(g.fields[field])}`).join(', ');
    return `${g.parts.map(name).join(', ')} ${g.parts.length === 1 ? 'has' : 'have'} ${values}`;
  });
  fail(
    `the parts are not shards of one run: they come from ${groups.length} runs that differ on ` +
      `${differing.join(', ')}: ${lines.join('; ')}.`,
  );
}

/**
 * Combines shard results (or their JSON files read with readEvalResult) into the full metrics. Every
 * problem found is named by shard index (and by file, with `options.names`): all missing and duplicate
 * shards at once, and every part of another run.
 */
export function mergeZeroShotResults(
  parts: ZeroShotEvalResult[],
  options: MergeOptions = {},
): ZeroShotEvalResult {
  if (parts.length === 0) fail('mergeZeroShotResults: no results given.');
  const label = (k: number) => options.names?.[k] ?? `part ${k}`;
  const describe = (k: number) =>
    parts[k].shard ? `${label(k)} (shard ${parts[k].shard!.index}/${parts[k].shard!.count})` : label(k);
  const first = parts[0];
  checkOneRun(parts, describe);

  if (parts.length > 1 || first.shard) {
    const unsharded = parts.map((p, k) => (p.shard ? -1 : k)).filter((k) => k >= 0);
    if (unsharded.length > 0)
      fail(
        `${unsharded.map(label).join(', ')} ${unsharded.length === 1 ? 'is not a shard result' : 'are not shard results'}; ` +
          'only shards of one run can be merged.',
      );
    const coverage = shardCoverage(parts.map((p) => p.shard));
    const { count } = coverage;
    const problems = coverage.duplicates.map(
      (d) =>
        `shard ${d.index}/${count} is given ${d.parts.length === 2 ? 'twice' : `${d.parts.length} times`} ` +
        `(${d.parts.map(label).join(d.parts.length === 2 ? ' and ' : ', ')})`,
    );
    if (coverage.missing.length > 0) {
      problems.push(`missing shard(s) ${formatShardList(coverage.missing, count)}: all ${count} are needed`);
    }
    if (problems.length > 0) fail(`${problems.join('; ')}.`);
  }

  const owner = new Map<number, number>();
  parts.forEach((part, k) => {
    for (const entry of [...part.predictions, ...part.counts.skippedFiles]) {
      const other = owner.get(entry.index);
      if (other !== undefined) {
        fail(`item ${entry.index} (${entry.id}) is in both ${describe(other)} and ${describe(k)}.`);
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
