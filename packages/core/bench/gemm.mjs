// GEMM benchmark (not a test): float32 n×n·n×n on moevl's two matMul paths of the wasm backend — the native
// BLAS on the wasm heap and tfjs-wasm's kernels — and on PyTorch, interleaved call by call in one run (each
// round calls every engine once, alternating the order), best and median of the rounds. Prints GFLOP/s and
// ratios, the machine and its load, and writes its section of bench/RESULTS.md.
//   npm run bench:gemm -w @moevl/core
//   MOEVL_BENCH_SIZES=1024 MOEVL_BENCH_ROUNDS=20 npm run bench:gemm -w @moevl/core
// PyTorch runs in a child (bench/gemm_torch.py) with OPENBLAS_NUM_THREADS=1 and torch.set_num_threads(<cores>),
// its fastest setting on our machines; MOEVL_BENCH_PYTHON picks the interpreter (default: the first of
// python3, /usr/bin/python3 that imports torch — Debian's python3-torch). Without it the bench says so.
import * as tf from '@tensorflow/tfjs';
import { initBackend, matmulPath, useNativeMatMul } from '@moevl/core';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { writeResultsSection } from './results_md.mjs';

const SIZES = (process.env.MOEVL_BENCH_SIZES ?? '256,512,1024,2048').split(',').map(Number);
const ROUNDS = Math.max(10, Number(process.env.MOEVL_BENCH_ROUNDS ?? 15));
const cores = availableParallelism();

function findPython() {
  const candidates = process.env.MOEVL_BENCH_PYTHON
    ? [process.env.MOEVL_BENCH_PYTHON]
    : ['python3', '/usr/bin/python3'];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], {
      encoding: 'utf8',
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
    });
    if (r.status === 0) return { py };
  }
  return {
    why: `no Python with torch among ${candidates.join(', ')} (Debian: apt-get install python3-torch)`,
  };
}

/** The PyTorch server: `time(n)` resolves to the seconds one torch.mm took inside Python. */
async function startTorch(py) {
  const script = fileURLToPath(new URL('./gemm_torch.py', import.meta.url));
  const child = spawn(py, [script, String(cores)], {
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the PyTorch child exited');
    return value;
  };
  const hello = await next();
  return {
    version: hello.replace(/^ready /, ''),
    async time(n) {
      child.stdin.write(`${n}\n`);
      const line = await next();
      if (line.startsWith('err')) throw new Error(`PyTorch: ${line}`);
      return Number(line) * 1000;
    },
    stop: () => child.stdin.end(),
  };
}

/** Other processes by share of a CPU (ps' lifetime average), to say what the machine was busy with. */
function topProcesses() {
  try {
    const out = execFileSync('ps', ['-eo', 'pid,pcpu,args', '--sort=-pcpu', '--no-headers'], {
      encoding: 'utf8',
    });
    return (
      out
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter(([pid, cpu]) => Number(pid) !== process.pid && Number(cpu) >= 5)
        .slice(0, 4)
        .map(([, cpu, ...args]) => `${cpu}% \`${args.slice(0, 2).join(' ').slice(0, 60)}\``)
        .join(', ') || 'none over 5%'
    );
  } catch {
    return 'unknown (no ps)';
  }
}

const stats = (ms) => {
  const s = [...ms].sort((a, b) => a - b);
  return { best: s[0], median: s[Math.floor(s.length / 2)] };
};
const gflops = (n, ms) => (2 * n ** 3) / (ms * 1e6);

const loadBefore = loadavg();
const busyBefore = topProcesses();
const machine = `${cpus()[0]?.model ?? 'unknown cpu'}, ${cores} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
await initBackend({ backend: 'wasm' });
const native = matmulPath('wasm');
const hasNative = native.kind === 'native';
useNativeMatMul(false);
const wasmName = `tfjs-wasm ${tf.version.tfjs} (XNNPACK, 1 thread, moevl's wrapper)`;
useNativeMatMul(true);
const python = findPython();
const torch = python.py ? await startTorch(python.py) : undefined;
console.log(`machine: ${machine}; load average ${loadBefore.map((x) => x.toFixed(2)).join(' / ')}`);
console.log(`native: ${hasNative ? native.name : `not available (${native.reason})`}`);
console.log(`wasm:   ${wasmName}`);
console.log(
  `torch:  ${torch ? `${torch.version} (OPENBLAS_NUM_THREADS=1)` : `not available (${python.why})`}`,
);

const engines = [
  ...(hasNative ? [{ name: 'native', run: (a, b) => (useNativeMatMul(true), timeTf(a, b)) }] : []),
  { name: 'wasm', run: (a, b) => (useNativeMatMul(false), timeTf(a, b)) },
  ...(torch ? [{ name: 'torch', run: (_a, _b, n) => torch.time(n) }] : []),
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
  rows.push(row);
  const fmt = (s) => (s ? `${gflops(n, s.best).toFixed(1)} / ${gflops(n, s.median).toFixed(1)}` : '–');
  const ratio = (x, y) =>
    x && y ? `${(y.best / x.best).toFixed(2)}× / ${(y.median / x.median).toFixed(2)}×` : '–';
  row.text = [
    `${n}³`,
    fmt(row.native),
    fmt(row.wasm),
    fmt(row.torch),
    ratio(row.native, row.wasm),
    ratio(row.native, row.torch),
    ratio(row.wasm, row.torch),
  ];
  console.log(
    `${String(n).padStart(4)}³  native ${fmt(row.native)}  wasm ${fmt(row.wasm)}  torch ${fmt(row.torch)} GFLOP/s (best / median)` +
      `  native÷wasm ${ratio(row.native, row.wasm)}  native÷torch ${ratio(row.native, row.torch)}`,
  );
}
torch?.stop();
useNativeMatMul(true);
const loadAfter = loadavg();

writeResultsSection('gemm', [
  '## GEMM: native BLAS vs tfjs-wasm vs PyTorch, interleaved call by call',
  '',
  `Written by \`npm run bench:gemm -w @moevl/core\` on ${new Date().toISOString().slice(0, 10)}: float32 n×n · n×n, ` +
    `${ROUNDS} rounds, each round calling every engine once (order alternating), after 2 warm-up calls each.`,
  '',
  `Machine: ${machine}.`,
  `**Load while measured**: load average (1/5/15 min) ${loadBefore.map((x) => x.toFixed(2)).join(' / ')} before, ` +
    `${loadAfter.map((x) => x.toFixed(2)).join(' / ')} after; other processes before (ps %CPU): ${busyBefore}. ` +
    'Numbers taken under load are lower and noisier than on a quiet machine.',
  '',
  `- native: ${hasNative ? `${native.name}, moevl's kernel on the wasm heap` : `not available (${native.reason})`}`,
  `- wasm: ${wasmName}`,
  `- PyTorch: ${torch ? `${torch.version}, OPENBLAS_NUM_THREADS=1, torch.set_num_threads(${cores}), timed inside Python` : `not available (${python.why})`}`,
  '',
  'GFLOP/s as best / median of the rounds; a ratio is the speed of the first engine over the second (best / median).',
  '',
  '| n³ | native GFLOP/s | wasm GFLOP/s | PyTorch GFLOP/s | native ÷ wasm | native ÷ PyTorch | wasm ÷ PyTorch |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.text.join(' | ')} |`),
]);
console.log('wrote the gemm section of bench/RESULTS.md');
