// Writes docs/experiments/limoe.md from the committed run summaries (docs/experiments/limoe/runs/*.json,
// written by evaluate.mjs): the shipped model, the per-variant table over seeds, and paired differences with
// 95% bootstrap intervals over the 10,000 official test images. Every number in the doc comes from here;
// experiments/limoe/discussion.md (written by hand after reading the tables) is appended.
//   node experiments/limoe/report.mjs [steps=470]
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { pairedDifference } from '../lib/paired.mjs';

const steps = process.argv[2] ?? '470';
const repo = new URL('../../', import.meta.url).pathname;
const runsDir = join(repo, 'docs/experiments/limoe/runs');
const labels = gunzipSync(
  readFileSync(join(repo, 'packages/vision/data/fashion-mnist/t10k-labels-idx1-ubyte.gz')),
).subarray(8);
const load = (f) => JSON.parse(readFileSync(join(runsDir, f), 'utf8'));
const runs = readdirSync(runsDir)
  .filter((f) => f.startsWith(`cmp-${steps}-`) && f.endsWith('.json'))
  .map(load);
const ORDER = ['limoe', 'limoe-no-entropy', 'dense', 'two-tower'];
const LABEL = {
  limoe: 'LIMoE (entropy losses)',
  'limoe-no-entropy': 'LIMoE without entropy losses',
  dense: 'dense single tower',
  'two-tower': 'dense two towers',
};
const variants = ORDER.filter((v) => runs.some((r) => r.variant === v));
const bySeed = (v) => runs.filter((r) => r.variant === v).sort((a, b) => a.seed - b.seed);
const correct = (run) => Uint8Array.from(labels, (l, i) => (Number(run.top1Classes[i]) === l ? 1 : 0));
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const pct = (x) => (x == null ? '–' : `${(100 * x).toFixed(2)}%`);
const pts = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(2)}`;
const f3 = (x) => (x == null ? '–' : x.toFixed(3));
const pval = (p) => (p < 0.001 ? '< 0.001' : p.toFixed(3));
const minutes = (r) => (r.train.stepTime?.seconds ?? r.train.trainSeconds) / 60;

// Per variant.
const variantRows = variants.map((v) => {
  const rs = bySeed(v);
  const routing = rs.every((r) => r.routing)
    ? `${f3(mean(rs.map((r) => r.routing.successAtTrainingCapacity.image)))} / ${f3(mean(rs.map((r) => r.routing.successAtTrainingCapacity.text)))}`
    : '–';
  const train = rs.every((r) => r.train.trainRoutingSuccessImage != null)
    ? `${f3(mean(rs.map((r) => r.train.trainRoutingSuccessImage)))} / ${f3(mean(rs.map((r) => r.train.trainRoutingSuccessText)))}`
    : '–';
  return (
    `| ${LABEL[v]} | ${rs.map((r) => r.seed).join(', ')} | ${rs.map((r) => pct(r.metrics.top1)).join(', ')} | ` +
    `**${pct(mean(rs.map((r) => r.metrics.top1)))}** | ${pct(mean(rs.map((r) => r.metrics.top5)))} | ` +
    `${(rs[0].train.parameters / 1e6).toFixed(2)}M | ${mean(rs.map(minutes)).toFixed(1)} | ${train} | ${routing} |`
  );
});

// Paired differences.
const PAIRS = [
  ['limoe', 'dense', 'LIMoE beats a dense single tower of equal compute per token'],
  ['limoe', 'limoe-no-entropy', 'the entropy losses help'],
  ['limoe', 'two-tower', 'one shared tower vs two'],
  ['dense', 'two-tower', 'single dense tower vs two towers'],
  ['limoe-no-entropy', 'dense', 'MoE without entropy losses vs dense'],
];
const paired = PAIRS.filter(([a, b]) => variants.includes(a) && variants.includes(b)).map(([a, b, claim]) => {
  const seeds = bySeed(a)
    .map((r) => r.seed)
    .filter((s) => bySeed(b).some((r) => r.seed === s));
  const pick = (v) => seeds.map((s) => correct(bySeed(v).find((r) => r.seed === s)));
  const d = pairedDifference(pick(a), pick(b));
  return { a, b, claim, seeds, d };
});
const pairedRows = paired.map(
  ({ a, b, claim, seeds, d }) =>
    `| ${LABEL[a]} − ${LABEL[b]} | ${claim} | ${seeds.join(', ')} | **${pts(d.mean)}** | [${pts(d.ci95[0])}, ${pts(d.ci95[1])}] | ` +
    `${d.perSeed.map(pts).join(', ')} | ${d.seedCi95 ? `[${pts(d.seedCi95[0])}, ${pts(d.seedCi95[1])}]` : '–'} | ${d.mcnemar.map((m) => pval(m.p)).join(', ')} |`,
);
// A direction needs the interval over test images to exclude 0 and every seed to agree; it is established
// across training runs only when the t-interval over seeds excludes 0 too.
const excludes0 = (ci) => ci != null && (ci[0] > 0 || ci[1] < 0);
const verdict = (d) => {
  const dir = d.ci95[0] > 0 ? 'A better' : d.ci95[1] < 0 ? 'A worse' : null;
  if (dir == null) return 'not shown (the interval over test images includes 0)';
  if (!d.seedsAgree) return `mixed across seeds (${dir} on these test images, but the seeds disagree)`;
  if (excludes0(d.seedCi95)) return `holds: ${dir}, over test images and across seeds`;
  return (
    `${dir} in every seed and over test images, but not established across training runs ` +
    `(the t-interval over ${d.perSeed.length} seeds includes 0)`
  );
};

// Routing: per MoE layer, modality specialisation on test pairs (dropless) and success at cf 1.05.
const routingRows = [];
for (const v of ['limoe', 'limoe-no-entropy'].filter((x) => variants.includes(x))) {
  for (const r of bySeed(v)) {
    for (const l of r.routing.layers) {
      const share = l.imageShareByExpert;
      const imageOnly = share.filter((x) => x != null && x > 0.95).length;
      const textOnly = share.filter((x) => x != null && x < 0.05).length;
      const unused = share.filter((x) => x == null).length;
      const s = r.routing.successAtTrainingCapacityByLayer.find((x) => x.block === l.block);
      routingRows.push(
        `| ${LABEL[v]} | ${r.seed} | ${l.block} | ${imageOnly} / ${textOnly} / ${unused} | ${f3(s?.image)} / ${f3(s?.text)} |`,
      );
    }
  }
}

// Pictures of seed 0's routing (dropless, test pairs), from the run folders when present.
const pictures = [];
for (const v of ['limoe', 'limoe-no-entropy']) {
  const dir = join(repo, `experiments/limoe/runs/cmp-${steps}-${v}-s0`);
  for (const block of [1, 3]) {
    const png = join(dir, `routing-block${block}.png`);
    if (!existsSync(png)) continue;
    const target = `limoe/${v}-routing-block${block}.png`;
    copyFileSync(png, join(repo, 'docs/experiments', target));
    pictures.push(`![${LABEL[v]}, MoE block ${block}](${target})`);
  }
}

const shipped = existsSync(join(runsDir, 'shipped-s0.json')) ? load('shipped-s0.json') : null;
const any = runs[0];
const lines = [
  '# LIMoE on Fashion-MNIST: a small-scale reproduction',
  '',
  `_Generated by \`node experiments/limoe/report.mjs ${steps}\` from the run summaries committed in \`docs/experiments/limoe/runs/\`; the discussion at the end is written by hand. Do not edit the numbers._`,
  '',
  '## Setup',
  '',
  "- **Data:** the official Fashion-MNIST splits (Zalando's IDX files): the 60,000 training images for training,",
  '  the 10,000 test images for evaluation, never anything else. Training pairs: each image with a caption from one',
  '  of 12 training templates (`TRAIN_TEMPLATES`, e.g. "a photo of a {}.") and the class name as written in',
  '  captions (`FASHION_CAPTION_NAMES`, e.g. "ankle boot"), chosen per (image, epoch).',
  '- **Evaluation:** zero-shot on all 10,000 test images with the 6 **held-out** templates (`EVAL_TEMPLATES`, never',
  "  training captions) through the library's evaluation path (`runZeroShotEval`, as `zero-shot eval`): open_clip's",
  '  classifier, `torch.topk` ranking, and **dropless** MoE routing, so no prediction depends on the batch (see',
  '  "batch-independent evaluation" in the router README). Every held-out prompt fits the 24-token text context',
  '  (checked; the evaluations report no truncation).',
  '- **Models** (`limoeVariantConfig`): 28×28 grayscale, patch 7 (16 image tokens), 24 text tokens, width 128,',
  '  4 pre-LN blocks, 4 heads, MLP/expert width 256, embedding 128; MoE (8 experts) in blocks 1 and 3, top-1, BPR,',
  '  capacity factor 1.05 in training; V-MoE importance and load losses (0.005 each), LIMoE local and thresholded',
  '  global entropy per modality (0.01 each, τ = ln 4 — not verified from the paper); image and caption packed in',
  '  one sequence with a block-diagonal attention mask, so MoE layers route both modalities in one group. Equal',
  '  compute per token across variants: the dense MLP width equals the expert width (top-1).',
  `- **Training:** ${any?.steps ?? steps} steps at batch 128 (${(((any?.steps ?? 470) * 128) / 60000).toFixed(1)} epochs), AdamW (lr 1e-3, warmup, cosine, weight decay 0.05 except gains/biases/embeddings/temperature), global-norm clipping 1, learned temperature clamped to [0, ln 100], same-class positives (all pairs of the same class in a batch count as positives). Same data order per seed for every variant.`,
  '- **Statistics:** every comparison is paired over the same 10,000 test images and the same seeds: the mean over',
  '  seeds of the accuracy difference, a 95% bootstrap interval resampling test images (10,000 resamples; the same',
  "  images for every seed and both models), and McNemar's exact test per seed. The interval treats the seeds as",
  '  fixed, so a claim also needs every seed to point the same way. Code: `experiments/lib/paired.mjs`.',
  '',
];
if (shipped) {
  lines.push(
    '## The shipped model (`builtin:limoe-fashion-mnist`)',
    '',
    '```sh',
    shipped.train.command ?? 'zero-shot train-limoe --variant limoe --steps 1400 --seed 0',
    '```',
    '',
    '| what | measured |',
    '| --- | --- |',
    `| training | ${shipped.train.steps} steps (3 epochs) on the official training set, ${(shipped.train.trainSeconds / 60).toFixed(1)} min on 2 cores (shared with other jobs), ${Math.round(shipped.train.tokensPerSecond)} tokens/s, backend ${shipped.train.backend} |`,
    `| zero-shot top-1 / top-5 / mean per-class recall, official test set, held-out prompts, dropless | **${pct(shipped.metrics.top1)}** / ${pct(shipped.metrics.top5)} / ${pct(shipped.metrics.meanPerClassRecall)} |`,
    `| routing success on test pairs at the training capacity factor 1.05 (image / text) | ${f3(shipped.routing.successAtTrainingCapacity.image)} / ${f3(shipped.routing.successAtTrainingCapacity.text)} |`,
    `| prompt truncation in the evaluation | ${shipped.evaluation.warnings.length === 0 ? 'none' : shipped.evaluation.warnings.join('; ')} |`,
    '',
  );
}
lines.push(
  `## Controlled comparison (${any?.steps ?? steps} steps, equal compute per token)`,
  '',
  '```sh',
  `bash experiments/limoe/run_comparison.sh ${steps} "0 1 2"   # trains 4 variants × 3 seeds`,
  `node experiments/limoe/evaluate.mjs experiments/limoe/runs/cmp-${steps}-*   # scores them, writes the summaries`,
  `node experiments/limoe/report.mjs ${steps}   # writes this file`,
  '```',
  '',
  '| variant | seeds | top-1 per seed | mean top-1 | mean top-5 | params | train min | routing success in training, image / text | on test pairs at cf 1.05, image / text |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...variantRows,
  '',
  '"In training" is the mean over the last 50 training steps (packed image+text groups, cf 1.05, with routing noise);',
  '"on test pairs" is 2,000 test images with held-out-template captions, packed as in training, at cf 1.05 without',
  "noise (`analyzeRouting`). Train minutes come from the runs' logs; the machine was shared with other jobs and some",
  'runs used the native BLAS matmul path (named in each run summary), so they compare only roughly.',
  '',
  '### Paired differences (top-1, points)',
  '',
  '| comparison (A − B) | what it tests | seeds | mean difference | 95% bootstrap interval over test images | per seed | 95% t-interval over seeds | McNemar p per seed |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...pairedRows,
  '',
  ...paired.map(({ a, b, claim, d }) => `- ${claim} (${LABEL[a]} − ${LABEL[b]}): **${verdict(d)}**.`),
  '',
  '### Routing: modality specialisation per MoE layer',
  '',
  'Experts whose routed tokens (dropless, test pairs) are > 95% image / < 5% image (text) / unused, and the routing',
  'success per modality at cf 1.05:',
  '',
  '| variant | seed | MoE block | image-only / text-only / unused experts | success at cf 1.05, image / text |',
  '| --- | --- | --- | --- | --- |',
  ...routingRows,
  '',
  ...pictures.flatMap((p) => [p, '']),
);
const discussion = join(repo, 'experiments/limoe/discussion.md');
if (existsSync(discussion)) lines.push(readFileSync(discussion, 'utf8').trimEnd(), '');
writeFileSync(join(repo, 'docs/experiments/limoe.md'), lines.join('\n'));
// The repository's format check covers docs.
execFileSync('npx', ['prettier', '--log-level', 'warn', '--write', 'docs/experiments/limoe.md'], {
  cwd: repo,
});
console.log(`wrote docs/experiments/limoe.md (${runs.length} runs, ${pictures.length} pictures)`);
