// The tables of docs/experiments/limoe.md, from the committed run summaries (docs/experiments/limoe/runs/*.json,
// written by evaluate.mjs): per variant over seeds, and paired differences with 95% bootstrap intervals over
// the 10,000 official test images.
//   node experiments/limoe/report.mjs [prefix=cmp-470-]
import { readFileSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { pairedDifference } from '../lib/paired.mjs';

const prefix = process.argv[2] ?? 'cmp-470-';
const runsDir = new URL('../../docs/experiments/limoe/runs/', import.meta.url);
const labels = gunzipSync(
  readFileSync(
    new URL('../../packages/vision/data/fashion-mnist/t10k-labels-idx1-ubyte.gz', import.meta.url),
  ),
).subarray(8);

const runs = readdirSync(runsDir)
  .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(new URL(f, runsDir), 'utf8')));
const variants = [...new Set(runs.map((r) => r.variant))].sort();
const bySeed = (variant) => runs.filter((r) => r.variant === variant).sort((a, b) => a.seed - b.seed);
const correct = (run) =>
  Uint8Array.from(labels, (label, i) => (Number(run.top1Classes[i]) === label ? 1 : 0));

const pct = (x) => (x == null ? '–' : `${(100 * x).toFixed(2)}%`);
const pp = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(2)}`;
const f3 = (x) => (x == null ? '–' : x.toFixed(3));
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

console.log(
  '| variant | seeds | top-1 per seed | mean top-1 | mean top-5 | params | train min (mean) | routing success at cf 1.05, image / text |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const v of variants) {
  const rs = bySeed(v);
  const routing = rs.every((r) => r.routing)
    ? `${f3(mean(rs.map((r) => r.routing.successAtTrainingCapacity.image)))} / ${f3(mean(rs.map((r) => r.routing.successAtTrainingCapacity.text)))}`
    : '–';
  console.log(
    `| ${v} | ${rs.map((r) => r.seed).join(', ')} | ${rs.map((r) => pct(r.metrics.top1)).join(', ')} | ` +
      `${pct(mean(rs.map((r) => r.metrics.top1)))} | ${pct(mean(rs.map((r) => r.metrics.top5)))} | ` +
      `${(rs[0].train.parameters / 1e6).toFixed(2)}M | ${(mean(rs.map((r) => r.train.stepTime?.seconds ?? r.train.trainSeconds)) / 60).toFixed(1)} | ${routing} |`,
  );
}

const pairs = [
  ['limoe', 'dense'],
  ['limoe', 'limoe-no-entropy'],
  ['limoe', 'two-tower'],
  ['dense', 'two-tower'],
  ['limoe-no-entropy', 'dense'],
].filter(([a, b]) => variants.includes(a) && variants.includes(b));
console.log('');
console.log(
  '| comparison (A − B) | seeds | mean difference, points | 95% bootstrap interval | per seed | McNemar p per seed |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [a, b] of pairs) {
  const [ra, rb] = [bySeed(a), bySeed(b)];
  const seeds = ra.map((r) => r.seed).filter((s) => rb.some((r) => r.seed === s));
  const pick = (rs) => seeds.map((s) => correct(rs.find((r) => r.seed === s)));
  const d = pairedDifference(pick(ra), pick(rb));
  console.log(
    `| ${a} − ${b} | ${seeds.join(', ')} | ${pp(d.mean)} | [${pp(d.ci95[0])}, ${pp(d.ci95[1])}] | ` +
      `${d.perSeed.map(pp).join(', ')} | ${d.mcnemar.map((m) => (m.p < 0.001 ? '< 0.001' : m.p.toFixed(3))).join(', ')} |`,
  );
}
