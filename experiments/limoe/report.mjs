// Prints the comparison table of docs/experiments/limoe.md from the runs' summary.json and routing.json.
//   node experiments/limoe/report.mjs [prefix=cmp-470-]
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const prefix = process.argv[2] ?? 'cmp-470-';
const root = new URL('./runs/', import.meta.url).pathname;
const rows = readdirSync(root)
  .filter((d) => d.startsWith(prefix) && existsSync(join(root, d, 'summary.json')))
  .map((d) => {
    const s = JSON.parse(readFileSync(join(root, d, 'summary.json'), 'utf8'));
    const routingPath = join(root, d, 'routing.json');
    const r = existsSync(routingPath) ? JSON.parse(readFileSync(routingPath, 'utf8')) : null;
    const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
    return {
      variant: s.variant,
      seed: s.seed,
      top1: s.zeroShot.top1,
      top5: s.zeroShot.top5,
      trainMin: s.trainSeconds / 60,
      tokensPerSecond: s.tokensPerSecond,
      trainImage: s.routingSuccessImage,
      trainText: s.routingSuccessText,
      evalImage: r ? mean(r.layers.map((l) => l.routingSuccessImage)) : null,
      evalText: r ? mean(r.layers.map((l) => l.routingSuccessText)) : null,
      params: s.parameters,
    };
  })
  .sort((a, b) => a.variant.localeCompare(b.variant) || a.seed - b.seed);
const f = (x, d = 3) => (x == null ? '–' : x.toFixed(d));
console.log(
  '| variant | seed | zero-shot top-1 | top-5 | params | train min | tokens/s | routing success train (image / text) | eval (image / text) |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(
    `| ${r.variant} | ${r.seed} | ${(100 * r.top1).toFixed(2)}% | ${(100 * r.top5).toFixed(2)}% | ${(r.params / 1e6).toFixed(2)}M | ${r.trainMin.toFixed(1)} | ${Math.round(r.tokensPerSecond)} | ${f(r.trainImage)} / ${f(r.trainText)} | ${f(r.evalImage)} / ${f(r.evalText)} |`,
  );
}
