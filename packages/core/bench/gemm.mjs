// GEMM benchmark (not a test): float32 n×n·n×n on moevl's two matMul paths of the wasm backend — the native
// BLAS on the wasm heap and tfjs-wasm's kernels — and on PyTorch, interleaved call by call in one run (each
// round calls every engine once, alternating the order), best and median of the rounds. Prints GFLOP/s and
// ratios, the machine and its load, and writes its section of bench/RESULTS.md.
//   npm run bench:gemm -w @moevl/core
//   MOEVL_BENCH_SIZES=1024 MOEVL_BENCH_ROUNDS=20 npm run bench:gemm -w @moevl/core
// PyTorch runs in children (bench/gemm_torch.py), one per setting of torch threads × OpenBLAS threads
// (side_by_side's torchSettings), and each size is compared with the fastest setting by median;
// MOEVL_BENCH_PYTHON picks the interpreter (default: the first of python3, /usr/bin/python3 that imports
// torch — Debian's python3-torch). Without it the bench says so.
import * as tf from '@tensorflow/tfjs';
import { initBackend, matmulPath, useNativeMatMul } from '@moevl/core';
import { fileURLToPath } from 'node:url';
import { writeResultsSection } from './results_md.mjs';
import {
  cores,
  findPython,
  loadRecord,
  machineLine,
  settingName,
  startTorch,
  stats,
  torchSettings,
} from './side_by_side.mjs';

const SIZES = (process.env.MOEVL_BENCH_SIZES ?? '256,512,1024,2048').split(',').map(Number);
const ROUNDS = Math.max(10, Number(process.env.MOEVL_BENCH_ROUNDS ?? 15));

const gflops = (n, ms) => (2 * n ** 3) / (ms * 1e6);

const load = loadRecord();
const machine = machineLine();
await initBackend({ backend: 'wasm' });
const native = matmulPath('wasm');
const hasNative = native.kind === 'native';
useNativeMatMul(false);
const wasmName = `tfjs-wasm ${tf.version.tfjs} (XNNPACK, 1 thread, moevl's wrapper)`;
useNativeMatMul(true);
const python = findPython();
const torches = [];
for (const setting of python.py ? torchSettings(cores) : []) {
  const script = fileURLToPath(new URL('./gemm_torch.py', import.meta.url));
  const t = await startTorch(python.py, script, setting.threads, undefined, setting.blas);
  torches.push({ ...setting, name: settingName(setting), ...t });
}
const torchVersion = torches[0]?.version.replace(/, \d+ threads?$/, '');
const torchLine = `${torchVersion}, settings (torch threads t / OpenBLAS threads b) ${torches.map((t) => t.name).join(', ')}`;
console.log(`machine: ${machine}; load average ${load.before}`);
console.log(`native: ${hasNative ? native.name : `not available (${native.reason})`}`);
console.log(`wasm:   ${wasmName}`);
console.log(`torch:  ${torches.length > 0 ? torchLine : `not available (${python.why})`}`);

const engines = [
  ...(hasNative ? [{ name: 'native', run: (a, b) => (useNativeMatMul(true), timeTf(a, b)) }] : []),
  { name: 'wasm', run: (a, b) => (useNativeMatMul(false), timeTf(a, b)) },
  ...torches.map((t) => ({ name: `torch ${t.name}`, run: (_a, _b, n) => t.time(n) })),
];

function timeTf(a, b) {
  // The wasm backend (and the native kernel on it) computes synchronously inside the op call.
  const t0 = performance.now();
  const c = tf.matMul(a, b);
  const ms = performance.now() - t0;
  c.dispose();
  return ms;
}

const rows = [];
for (const n of SIZES) {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const times = Object.fromEntries(engines.map((e) => [e.name, []]));
  for (const e of engines) for (let i = 0; i < 2; i++) await e.run(a, b, n);
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? engines : [...engines].reverse();
    for (const e of order) times[e.name].push(await e.run(a, b, n));
  }
  tf.dispose([a, b]);
  const row = { n, ...Object.fromEntries(engines.map((e) => [e.name, stats(times[e.name])])) };
  // PyTorch's fastest setting at this size, by median.
  const fastest = torches
    .map((t) => ({ t, s: row[`torch ${t.name}`] }))
    .sort((a, b) => a.s.median - b.s.median)[0];
  row.torch = fastest?.s;
  rows.push(row);
  const fmt = (s) => (s ? `${gflops(n, s.best).toFixed(1)} / ${gflops(n, s.median).toFixed(1)}` : '–');
  const ratio = (x, y) =>
    x && y ? `${(y.best / x.best).toFixed(2)}× / ${(y.median / x.median).toFixed(2)}×` : '–';
  row.text = [
    `${n}³`,
    fmt(row.native),
    fmt(row.wasm),
    fastest ? `${fmt(row.torch)} (${fastest.t.name})` : '–',
    ratio(row.native, row.wasm),
    ratio(row.native, row.torch),
    ratio(row.wasm, row.torch),
  ];
  console.log(
    `${String(n).padStart(4)}³  native ${fmt(row.native)}  wasm ${fmt(row.wasm)}  torch ${fmt(row.torch)} GFLOP/s (best / median)` +
      `  native÷wasm ${ratio(row.native, row.wasm)}  native÷torch ${ratio(row.native, row.torch)}`,
  );
}
for (const t of torches) t.stop();
useNativeMatMul(true);

writeResultsSection('gemm', [
  '## GEMM: native BLAS vs tfjs-wasm vs PyTorch, interleaved call by call',
  '',
  `Written by \`npm run bench:gemm -w @moevl/core\` on ${new Date().toISOString().slice(0, 10)}: float32 n×n · n×n, ` +
    `${ROUNDS} rounds, each round calling every engine once (order alternating), after 2 warm-up calls each.`,
  '',
  `Machine: ${machine}.`,
  load.end(),
  '',
  `- native: ${hasNative ? `${native.name}, moevl's kernel on the wasm heap` : `not available (${native.reason})`}`,
  `- wasm: ${wasmName}`,
  `- PyTorch: ${torches.length > 0 ? `${torchLine}; the fastest by median at each size; timed inside Python` : `not available (${python.why})`}`,
  '',
  'GFLOP/s as best / median of the rounds; a ratio is the speed of the first engine over the second (best / median).',
  '',
  '| n³ | native GFLOP/s | wasm GFLOP/s | PyTorch GFLOP/s (fastest setting) | native ÷ wasm | native ÷ PyTorch | wasm ÷ PyTorch |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.text.join(' | ')} |`),
]);
console.log('wrote the gemm section of bench/RESULTS.md');
