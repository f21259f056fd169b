// LIMoE training-step benchmark (not a test): one step — forward over packed image+text tokens, CLIP loss
// with same-class positives plus the MoE auxiliary losses, backward, global-norm clipping, AdamW — of the
// shipped configuration (`limoeVariantConfig('limoe', 0)`: 28×28 grayscale, patch 7, dim 128, depth 4,
// 4 heads, MLP ratio 2, 8 experts in blocks 1 and 3, top-1, 24 text tokens) and of its dense baseline
// (`'dense'`), at batch 128, against a PyTorch model of the same shapes fed the same batch
// (bench/limoe_torch.py). Interleaved call by call in one run, best and median of ≥ 10 rounds, reported as
// images/s with ratios, written to bench/RESULTS.md.
//   node packages/limoe/bench/train_step.mjs          (MOEVL_BENCH_ROUNDS=20 for more rounds)
// PyTorch (Debian's python3-torch) runs in every setting of torch threads × OpenBLAS threads (side_by_side's
// torchSettings: 2t/1b, 1t/1b, 1t/2b, 2t/2b on 2 cores); ratios are against the fastest one by median.
// Without torch the bench says so and prints moevl's numbers alone.
import * as tf from '@tensorflow/tfjs';
import { initBackend, matmulPath } from '@moevl/core';
import { fileURLToPath } from 'node:url';
import { writeResultsSection } from '../../core/bench/results_md.mjs';
import {
  cores,
  findPython,
  interleave,
  loadRecord,
  machineLine,
  settingName,
  startTorch,
  torchSettings,
} from '../../core/bench/side_by_side.mjs';
import { BATCH, VOCAB, makeMoevlLimoeStep, syntheticBatch } from './limoe_step.mjs';

const ROUNDS = Math.max(10, Number(process.env.MOEVL_BENCH_ROUNDS ?? 10));
const VARIANTS = ['limoe', 'dense'];

const load = loadRecord();
// A run with MOEVL_THREADS set writes its own section, beside the default run's.
const threadsNote = process.env.MOEVL_THREADS ? ` (MOEVL_THREADS=${process.env.MOEVL_THREADS})` : '';
await initBackend({ backend: process.env.MOEVL_BACKEND ?? 'wasm' });
const path = matmulPath();
const steps = Object.fromEntries(VARIANTS.map((v) => [v, makeMoevlLimoeStep(v)]));
const batch = syntheticBatch(steps.limoe.config);
const payload = JSON.stringify({
  batch: BATCH,
  L: batch.L,
  vocab: VOCAB,
  images: Array.from(batch.images),
  ids: Array.from(batch.ids),
  mask: Array.from(batch.mask),
  eot: Array.from(batch.eot),
  labels: Array.from(batch.labels),
});
const python = findPython();
const script = fileURLToPath(new URL('./limoe_torch.py', import.meta.url));
const settings = python.py ? torchSettings(cores) : [];
const torches = [];
for (const setting of settings) {
  const t = await startTorch(python.py, script, setting.threads, payload, setting.blas);
  torches.push({ ...setting, name: settingName(setting), ...t });
}
console.log(`machine: ${machineLine()}; load average ${load.before}`);
console.log(`moevl: tfjs ${tf.version.tfjs} ${tf.getBackend()}, matmul ${path.name}`);
console.log(
  torches.length > 0
    ? `torch: ${torches[0].version.replace(/, \d+ threads?$/, '')}, settings (torch threads t / OpenBLAS threads b) ${torches.map((t) => t.name).join(', ')}`
    : `torch: not available (${python.why}); moevl's numbers alone`,
);

const timed = (f) => () => {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
};
const engines = [
  ...VARIANTS.map((v) => ({ name: `moevl ${v}`, run: timed(steps[v].step) })),
  ...torches.flatMap((t) => VARIANTS.map((v) => ({ name: `torch ${t.name} ${v}`, run: () => t.time(v) }))),
];
const r = await interleave(engines, ROUNDS);
for (const t of torches) t.stop();
for (const s of Object.values(steps)) s.dispose();

const ips = (s) =>
  s ? `${((BATCH * 1000) / s.best).toFixed(0)} / ${((BATCH * 1000) / s.median).toFixed(0)}` : '–';
const speed = (a, b) =>
  a && b ? `${(b.best / a.best).toFixed(2)}× / ${(b.median / a.median).toFixed(2)}×` : '–';
const rows = VARIANTS.map((v) => {
  const m = r[`moevl ${v}`];
  const best = torches
    .map((t) => ({ t, s: r[`torch ${t.name} ${v}`] }))
    .sort((a, b) => a.s.median - b.s.median)[0];
  const cells = [
    v === 'limoe' ? "LIMoE (`limoeVariantConfig('limoe', 0)`)" : "dense (`limoeVariantConfig('dense', 0)`)",
    ips(m),
    `${m.best.toFixed(0)} / ${m.median.toFixed(0)}`,
    ...torches.map((t) => ips(r[`torch ${t.name} ${v}`])),
    best ? best.t.name : '–',
    speed(m, best?.s),
  ];
  console.log(cells.join('  '));
  return cells;
});

const torchHeads = torches.map((t) => `PyTorch ${t.name} img/s`);
writeResultsSection(
  process.env.MOEVL_THREADS ? `train-step-threads-${process.env.MOEVL_THREADS}` : 'train-step',
  [
    `## One LIMoE training step: moevl vs PyTorch, interleaved call by call${threadsNote}`,
    '',
    `Written by \`node packages/limoe/bench/train_step.mjs\` on ${new Date().toISOString().slice(0, 10)}: batch ${BATCH} ` +
      '(synthetic images and captions of 8–23 tokens, the same batch on both sides), forward + CLIP loss ' +
      '(same-class positives) + MoE aux losses, backward, global-norm clipping to 1, AdamW (lr 1e-4, weight ' +
      `decay 0.05); ${ROUNDS} rounds, each calling every engine once (order alternating), after 2 warm-up calls each.`,
    '',
    `Machine: ${machineLine()}.`,
    load.end(),
    '',
    `- moevl: tfjs ${tf.version.tfjs} ${tf.getBackend()}, matmul ${path.name}`,
    torches.length > 0
      ? `- PyTorch: ${torches[0].version.replace(/, \d+ threads?$/, '')} (bench/limoe_torch.py: the same shapes, a ` +
        'compact re-implementation) in each setting of torch.set_num_threads (t) × OPENBLAS_NUM_THREADS (b): ' +
        `${torches.map((t) => t.name).join(', ')}; timed inside Python`
      : `- PyTorch: not available (${python.why}); moevl's numbers alone`,
    '',
    'Images/s as best / median of the rounds; "moevl ÷ PyTorch" is moevl\'s images/s over the fastest PyTorch ' +
      "setting's (by median; ≥ 1 means moevl is as fast or faster).",
    '',
    `| model | moevl img/s | moevl ms/step | ${torchHeads.join(' | ')} | fastest PyTorch | moevl ÷ PyTorch (speed) |`,
    `|---|---|---|${torchHeads.map(() => '---|').join('')}---|---|`,
    ...rows.map((c) => `| ${c.join(' | ')} |`),
  ],
  new URL('./RESULTS.md', import.meta.url),
  '# @moevl/limoe benchmarks',
);
console.log('wrote the train-step section of bench/RESULTS.md');
