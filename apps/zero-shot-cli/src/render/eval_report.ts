import type { ZeroShotEvalResult } from '@moevl/vision';
import { count, duration, formatRows, percent } from './format.js';

/** Skipped files listed in the human-readable report; the rest are counted (all are in --json/--out). */
const SKIPPED_SHOWN = 5;

/**
 * The `--json` form of a result, after CLIP_benchmark's results files: dataset, model, metrics,
 * templates, classes, counts, timing and shard. Per-image predictions are left out (50,000 of them would
 * drown the metrics); `--out` keeps them for merging and `--predictions` writes them as CSV.
 */
export function evalResultJson(r: ZeroShotEvalResult): Record<string, unknown> {
  const { dataset, model, metrics, templates, templatesName, classes, counts, timing, shard } = r;
  const { predictions: _predictions, ...rest } = r;
  return {
    dataset,
    model,
    metrics,
    templates,
    ...(templatesName !== undefined ? { templatesName } : {}),
    classes,
    counts,
    timing,
    shard: shard ?? null,
    classIndices: rest.classIndices ?? null,
    topK: rest.topK,
    sampling: rest.sampling,
    hashes: rest.hashes,
    warnings: rest.warnings,
    routing: rest.routing ?? null,
    engine: rest.engine ?? null,
  };
}

/** `dropless (routing success: images 1.000, texts 1.000)` for an MoE model's result. */
function routingLine(r: ZeroShotEvalResult): string | undefined {
  if (r.routing === undefined) return undefined;
  const { evalRouting, routingSuccessRate: s } = r.routing;
  const mode =
    evalRouting.mode === 'dropless'
      ? 'dropless (batch-independent)'
      : `capacity-limited at ${evalRouting.capacityFactor ?? "the routers' own"} capacity factor (depends on the batch)`;
  const rate = (v: number | null) => (v === null ? 'n/a' : v.toFixed(3));
  return `${mode}; routing success images ${rate(s.images)}, texts ${rate(s.texts)}`;
}

function classifierTime(r: ZeroShotEvalResult): string {
  if (r.timing.classifierCached) return 'classifier from cache';
  // A resumed run with nothing left to embed never needs the classifier.
  return r.timing.classifierSeconds > 0
    ? `classifier ${duration(r.timing.classifierSeconds)}`
    : 'no classifier needed';
}

/** The human-readable report: the metrics first, then what was evaluated, how fast, and what was skipped. */
export function formatEvalReport(r: ZeroShotEvalResult, title = 'zero-shot evaluation'): string {
  const allowed = r.classIndices?.length ?? r.classes;
  const classes = allowed < r.classes ? `${allowed} of ${r.classes} classes` : `${r.classes} classes`;
  const rows: Array<[string, string]> = [
    ['dataset', `${r.dataset} (${count(r.counts.evaluated)} images evaluated, ${classes})`],
    ['model', r.model],
    ['templates', `${r.templatesName ?? 'custom'} (${r.templates} per class)`],
  ];
  if (r.shard) rows.push(['shard', `${r.shard.index}/${r.shard.count}`]);
  const routing = routingLine(r);
  if (routing !== undefined) rows.push(['routing', routing]);
  rows.push(
    ['top-1', percent(r.metrics.top1)],
    ['top-5', percent(r.metrics.top5, allowed < 5 ? 'n/a (< 5 classes)' : 'n/a')],
    ['mean per-class recall', percent(r.metrics.meanPerClassRecall)],
    [
      'images/s',
      r.timing.imagesPerSecond > 0
        ? r.timing.imagesPerSecond.toFixed(1)
        : 'n/a (no image embedded in this run)',
    ],
    ['wall time', `${duration(r.timing.seconds)} (${classifierTime(r)})`],
    ...(r.engine
      ? ([['engine', `${r.engine.backend}; matmul: ${r.engine.matmul}`]] as Array<[string, string]>)
      : []),
    ['skipped', r.counts.skipped === 0 ? 'none' : `${count(r.counts.skipped)} unreadable file(s)`],
  );
  const lines = [`${title}: top-1 ${percent(r.metrics.top1)}`, formatRows(rows)];
  for (const s of r.counts.skippedFiles.slice(0, SKIPPED_SHOWN)) lines.push(`    ${s.id}: ${s.message}`);
  if (r.counts.skippedFiles.length > SKIPPED_SHOWN) {
    lines.push(`    … and ${count(r.counts.skippedFiles.length - SKIPPED_SHOWN)} more (see --json or --out)`);
  }
  for (const w of r.warnings ?? []) lines.push(`  warning: ${w}`);
  return lines.join('\n') + '\n';
}
