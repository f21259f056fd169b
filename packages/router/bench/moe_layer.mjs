// MoE layer benchmark (not a test): forward+backward of moevl's MoELayer (top-k router in training mode:
// noise, Batch Priority Routing, capacity factor 1.25, importance and load losses) at S=2048 tokens, D=256,
// expert hidden H=1024, for E ∈ {8, 32} and K ∈ {1, 2}, and of a dense MLP of the same width; the same in
// PyTorch (bench/moe_torch.py: gate, softmax, top-k, capacity positions, dispatch into [E, C, D], batched
// expert MLP with GELU, combine, written plainly in torch). Interleaved call by call in one run (each round
// calls every engine once, alternating the order), best and median of the rounds, printed as ratios and
// written to bench/RESULTS.md. Overhead = MoE time / (K × dense time) in the same framework.
//   npm run bench -w @moevl/router
//   MOEVL_BENCH_ROUNDS=20 npm run bench -w @moevl/router
// PyTorch (Debian's python3-torch) runs in every setting of torch threads × OpenBLAS threads (side_by_side's
// torchSettings: 2t/1b, 1t/1b, 1t/2b, 2t/2b on 2 cores); the ratios are against the fastest one by median, so
// neither a loaded machine nor a thread setting can flatter moevl. Without torch the bench says so.
import * as tf from '@tensorflow/tfjs';
import { MLP, initBackend, matmulPath } from '@moevl/core';
import { MoELayer } from '@moevl/router';
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

const S = 2048;
const D = 256;
const H = 1024;
const CASES = [
  [8, 1],
  [8, 2],
  [32, 1],
  [32, 2],
];
const ROUNDS = Math.max(10, Number(process.env.MOEVL_BENCH_ROUNDS ?? 10));

const load = loadRecord();
// A run with MOEVL_THREADS set writes its own section, beside the default run's.
const threadsNote = process.env.MOEVL_THREADS ? ` (MOEVL_THREADS=${process.env.MOEVL_THREADS})` : '';
await initBackend({ backend: process.env.MOEVL_BACKEND ?? 'wasm' });
const path = matmulPath();
const python = findPython();
const script = fileURLToPath(new URL('./moe_torch.py', import.meta.url));
const settings = python.py ? torchSettings(cores) : [];
const torches = [];
for (const setting of settings) {
  const t = await startTorch(python.py, script, setting.threads, undefined, setting.blas);
  torches.push({ ...setting, name: settingName(setting), ...t });
}
console.log(`machine: ${machineLine()}; load average ${load.before}`);
console.log(`moevl: tfjs ${tf.version.tfjs} ${tf.getBackend()}, matmul ${path.name}`);
console.log(
  torches.length > 0
    ? `torch: ${torches[0].version.replace(/, \d+ threads?$/, '')}, settings (torch threads t / OpenBLAS threads b) ${torches.map((t) => t.name).join(', ')}`
    : `torch: not available (${python.why}); moevl's numbers alone`,
);

/** One forward+backward of `forward` over `layer`'s weights, in ms (the loss read back forces completion). */
function stepOf(layer, forward, x) {
  const vars = Object.values(layer.trainableWeights());
  return () => {
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => {
      const out = forward(x);
      return tf.addN([tf.mean(tf.square(out.y)), ...Object.values(out.auxLosses ?? {})]);
    }, vars);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
    return performance.now() - t0;
  };
}

const x = tf.randomNormal([1, S, D], 0, 1, 'float32', 1);
const dense = new MLP({ dim: D, hiddenDim: H, seed: 1 });
const layers = CASES.map(
  ([E, K]) =>
    new MoELayer({
      dim: D,
      hiddenDim: H,
      numExperts: E,
      router: { name: 'top-k', options: { k: K, capacityFactor: 1.25 } },
      seed: 2,
    }),
);
const engines = [
  { name: 'moevl dense', run: stepOf(dense, (a) => ({ y: dense.apply(a) }), x) },
  ...CASES.map(([E, K], i) => ({
    name: `moevl ${E},${K}`,
    run: stepOf(layers[i], (a) => layers[i].forward(a, { training: true }), x),
  })),
  ...torches.flatMap((t) => [
    { name: `torch ${t.name} dense`, run: () => t.time('dense') },
    ...CASES.map(([E, K]) => ({ name: `torch ${t.name} ${E},${K}`, run: () => t.time(`moe ${E} ${K}`) })),
  ]),
];
const r = await interleave(engines, ROUNDS);
for (const t of torches) t.stop();
tf.dispose(x);
dense.dispose();
for (const l of layers) l.dispose();

const ms = (s) => (s ? `${s.best.toFixed(1)} / ${s.median.toFixed(1)}` : '–');
const times = (a, b) =>
  a && b ? `${(a.best / b.best).toFixed(2)}× / ${(a.median / b.median).toFixed(2)}×` : '–';
// The fastest PyTorch setting for a row, by median.
const torchOf = (key) =>
  torches.map((t) => ({ t, s: r[`torch ${t.name} ${key}`] })).sort((a, b) => a.s.median - b.s.median)[0];
const overhead = (moe, den, k) =>
  moe && den
    ? `${(moe.best / (k * den.best)).toFixed(2)}× / ${(moe.median / (k * den.median)).toFixed(2)}×`
    : '–';
const rows = [['dense', 1, 'dense'], ...CASES.map(([E, K]) => [`E=${E} K=${K}`, K, `${E},${K}`])].map(
  ([label, k, key]) => {
    const m = r[`moevl ${key}`];
    const best = torches.length > 0 ? torchOf(key) : undefined;
    const torchCells = torches.map((t) => ms(r[`torch ${t.name} ${key}`]));
    const cells = [label, ms(m), ...torchCells, best ? best.t.name : '–', times(m, best?.s)];
    if (key !== 'dense') {
      const bestDense = torches.length > 0 ? r[`torch ${best.t.name} dense`] : undefined;
      cells.push(overhead(m, r['moevl dense'], k), overhead(best?.s, bestDense, k));
    } else cells.push('–', '–');
    console.log(cells.join('  '));
    return cells;
  },
);

const torchHeads = torches.map((t) => `PyTorch ${t.name} ms`);
writeResultsSection(
  process.env.MOEVL_THREADS ? `moe-threads-${process.env.MOEVL_THREADS}` : 'moe',
  [
    `## MoE layer forward+backward: moevl vs PyTorch, interleaved call by call${threadsNote}`,
    '',
    `Written by \`npm run bench -w @moevl/router\` (bench/moe_layer.mjs) on ${new Date().toISOString().slice(0, 10)}: ` +
      `S=${S} tokens, D=${D}, expert hidden ${H}, top-k router in training mode (noise, BPR, cf 1.25, importance ` +
      `and load losses), forward+backward of mean(y²) + aux losses over the layer's weights; ${ROUNDS} rounds, ` +
      'each calling every engine once (order alternating), after 2 warm-up calls each.',
    '',
    `Machine: ${machineLine()}.`,
    load.end(),
    '',
    `- moevl: tfjs ${tf.version.tfjs} ${tf.getBackend()}, matmul ${path.name}`,
    torches.length > 0
      ? `- PyTorch: ${torches[0].version.replace(/, \d+ threads?$/, '')} (bench/moe_torch.py) in each setting of ` +
        `torch.set_num_threads (t) × OPENBLAS_NUM_THREADS (b): ${torches.map((t) => t.name).join(', ')}; timed inside Python`
      : `- PyTorch: not available (${python.why}); moevl's numbers alone`,
    '',
    'Times as best / median of the rounds. "moevl ÷ PyTorch" is moevl\'s time over the fastest PyTorch setting ' +
      "(by median; ≤ 1 means moevl is as fast or faster); overhead is MoE time over K × the dense MLP's in the " +
      'same framework.',
    '',
    `| layer | moevl ms | ${torchHeads.join(' | ')} | fastest PyTorch | moevl ÷ PyTorch | moevl overhead over K × dense | PyTorch overhead over K × dense |`,
    `|---|---|${torchHeads.map(() => '---|').join('')}---|---|---|---|`,
    ...rows.map((c) => `| ${c.join(' | ')} |`),
  ],
  new URL('./RESULTS.md', import.meta.url),
  '# @moevl/router benchmarks',
);
console.log('wrote the moe section of bench/RESULTS.md');
