// The paired comparisons of docs/experiments/mtl.md: differences between two models on the same test
// examples (same images, same fixed noise), averaged over seeds, with 95% bootstrap intervals over the test
// examples (experiments/lib/paired.mjs), from the committed per-example scores
// (docs/experiments/mtl/runs/<set>/<run>.json.gz, written by train.mjs).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { pairedDifference } from '../lib/paired.mjs';

export const TASKS = ['category', 'coarse', 'edges', 'denoise'];
const isClassification = (task) => task === 'category' || task === 'coarse';

/** Per-example scores of run `name` (e.g. `modsquad-s1`) in `setDir`, or null when not committed. */
export function examplesOf(setDir, name) {
  const file = join(setDir, `${name}.json.gz`);
  return existsSync(file) ? JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) : null;
}

/** A task's per-example scores as numbers (0/1 strings for classification, MAE lists for dense tasks). */
function scores(values) {
  if (values == null) return null;
  return typeof values === 'string' ? Float64Array.from(values, Number) : Float64Array.from(values);
}

/**
 * One row per task: A − B (accuracy points, or MAE), mean over the seeds both have, 95% interval, per seed,
 * and whether the interval says A is better, worse, or cannot be told apart from B.
 * @param pick (seed) → [A scores by task, B scores by task], or null when a run is missing
 */
export function compareTasks(label, seeds, pick, tasks = TASKS, options = {}) {
  const rows = [];
  for (const task of tasks) {
    const a = [];
    const b = [];
    const used = [];
    for (const seed of seeds) {
      const pair = pick(seed);
      const sa = scores(pair?.[0]?.[task]);
      const sb = scores(pair?.[1]?.[task]);
      if (sa == null || sb == null || sa.length !== sb.length) continue;
      a.push(sa);
      b.push(sb);
      used.push(seed);
    }
    if (used.length === 0) continue;
    const d = pairedDifference(a, b);
    const cls = isClassification(task);
    const scale = cls ? 100 : 1;
    const fmt = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(scale * x).toFixed(cls ? 2 : 5)}`;
    // Better = higher accuracy, lower MAE.
    const sign = cls ? 1 : -1;
    const [lo, hi] = d.ci95;
    // A direction is claimed only when the interval excludes 0 AND every seed points the same way.
    const betterSide = Math.min(sign * lo, sign * hi) > 0;
    const worseSide = Math.max(sign * lo, sign * hi) < 0;
    const better = betterSide && d.seedsAgree;
    const worse = worseSide && d.seedsAgree;
    const mixed = (betterSide || worseSide) && !d.seedsAgree;
    // A margin below which a difference does not matter (e.g. float rounding in an exact extraction).
    const margin = cls ? options.equivalence?.classification : options.equivalence?.dense;
    const equivalent = margin !== undefined && Math.max(Math.abs(lo), Math.abs(hi)) < margin;
    rows.push({
      label,
      task,
      metric: cls ? 'accuracy, points' : 'MAE',
      seeds: used,
      mean: fmt(d.mean),
      ci: `[${fmt(lo)}, ${fmt(hi)}]`,
      perSeed: d.perSeed.map(fmt).join(', '),
      seedCi: d.seedCi95 ? `[${fmt(d.seedCi95[0])}, ${fmt(d.seedCi95[1])}]` : '–',
      acrossSeeds: acrossSeedsOf(d, sign, better, worse),
      outcome: equivalent
        ? `equivalent (within ±${cls ? `${(100 * margin).toFixed(2)} points` : margin})`
        : better
          ? `A better${acrossSeedsOf(d, sign, better, worse) ? ' †' : ''}`
          : worse
            ? `A worse${acrossSeedsOf(d, sign, better, worse) ? ' †' : ''}`
            : mixed
              ? 'mixed across seeds'
              : 'no difference shown',
      better: better && !equivalent,
      worse: worse && !equivalent,
      equivalent,
    });
  }
  return rows;
}

/** Whether a direction also holds across training runs (the t-interval over seeds on the same side of 0). */
function acrossSeedsOf(d, sign, better, worse) {
  const ci = d.seedCi95;
  if (ci == null) return false;
  return (
    (better && Math.min(sign * ci[0], sign * ci[1]) > 0) ||
    (worse && Math.max(sign * ci[0], sign * ci[1]) < 0)
  );
}

export const PAIRED_HEAD = [
  '| comparison (A − B) | task | difference in | seeds | mean A − B | 95% bootstrap interval over test examples | per seed | 95% t-interval over seeds | says |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];

export const pairedLine = (r) =>
  `| ${r.label} | ${r.task} | ${r.metric} | ${r.seeds.join(', ')} | ${r.mean} | ${r.ci} | ${r.perSeed} | ${r.seedCi} | ${r.outcome} |`;
