// Engine benchmark (not a test): MatMul GFLOP/s and one transformer block's forward+backward time on each
// backend that loads here. Prints the machine and backend, and the ratio to the cpu backend and to the
// onnxruntime-node ceiling measured on our machines (REFERENCE.md §0); writes bench/RESULTS.md.
//   npm run bench -w @moevl/core            (all backends)
//   MOEVL_BENCH_BACKENDS=wasm npm run bench -w @moevl/core
import * as tf from '@tensorflow/tfjs';
import { availableBackends, matmulPath, TransformerBlock, useBackend } from '@moevl/core';
import { cpus, totalmem } from 'node:os';
import { writeResultsSection } from './results_md.mjs';

const ORT_CEILING_GFLOPS = 450; // onnxruntime-node, 2 threads, fp32 (REFERENCE.md §0)

function timeIt(fn, { warmup = 2, minMs = 1500, maxIters = 50 } = {}) {
  for (let i = 0; i < warmup; i++) tf.dispose(fn());
  const times = [];
  const start = performance.now();
  while (times.length < maxIters && (times.length < 3 || performance.now() - start < minMs)) {
    const t0 = performance.now();
    const out = fn();
    // Force the result to exist (dataSync) so async backends are timed too.
    (Array.isArray(out) ? out[0] : out).dataSync();
    tf.dispose(out);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function matmulGflops(n) {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  const ms = timeIt(() => tf.matMul(a, b));
  tf.dispose([a, b]);
  return { n, ms, gflops: (2 * n ** 3) / (ms * 1e6) };
}

function blockStep({ batch, tokens, dim, heads }) {
  const block = new TransformerBlock({ dim, numHeads: heads, seed: 1 });
  const x = tf.randomNormal([batch, tokens, dim]);
  const vars = Object.values(block.trainableWeights());
  const fwd = timeIt(() => block.apply(x), { minMs: 1000, maxIters: 20 });
  const fwdBwd = timeIt(
    () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(block.apply(x)), vars);
      return [value, ...Object.values(grads)];
    },
    { minMs: 1000, maxIters: 20 },
  );
  tf.dispose(x);
  block.dispose();
  return { fwd, fwdBwd };
}

const machine = `${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
console.log(`machine: ${machine}`);
const wanted = process.env.MOEVL_BENCH_BACKENDS?.split(',');
const backends = (await availableBackends()).filter((b) => !wanted || wanted.includes(b));
const rows = [];
for (const backend of backends) {
  await useBackend(backend);
  // The cpu backend is ~30x slower: smaller problems keep the run short without changing the rate much.
  const slow = backend === 'cpu';
  const mm = matmulGflops(slow ? 256 : 1024);
  const shape = slow
    ? { batch: 1, tokens: 50, dim: 192, heads: 3 }
    : { batch: 8, tokens: 197, dim: 384, heads: 6 };
  const blk = blockStep(shape);
  const row = { backend, matmul: matmulPath().name, ...mm, shape, ...blk };
  rows.push(row);
  console.log(
    `${backend.padEnd(10)} (matmul: ${row.matmul}) MatMul ${mm.n}³: ${mm.gflops.toFixed(1)} GFLOP/s (${((100 * mm.gflops) / ORT_CEILING_GFLOPS).toFixed(1)}% of onnxruntime's ${ORT_CEILING_GFLOPS}) | ` +
      `block B=${shape.batch} T=${shape.tokens} D=${shape.dim} H=${shape.heads}: fwd ${blk.fwd.toFixed(1)} ms, fwd+bwd ${blk.fwdBwd.toFixed(1)} ms`,
  );
}
const cpu = rows.find((r) => r.backend === 'cpu');
const lines = [
  '## Engine: MatMul and one transformer block per backend',
  '',
  `Written by \`npm run bench -w @moevl/core\` (bench/run.mjs) on ${new Date().toISOString().slice(0, 10)}.`,
  '',
  `Machine: ${machine}. tfjs ${tf.version.tfjs}.`,
  '',
  '| backend | matmul path | MatMul n³ | GFLOP/s | × cpu | % of onnxruntime ceiling | block shape (B,T,D,H) | fwd ms | fwd+bwd ms |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.backend} | ${r.matmul} | ${r.n} | ${r.gflops.toFixed(1)} | ${cpu ? (r.gflops / cpu.gflops).toFixed(1) : '–'} | ${((100 * r.gflops) / ORT_CEILING_GFLOPS).toFixed(1)}% | ${r.shape.batch},${r.shape.tokens},${r.shape.dim},${r.shape.heads} | ${r.fwd.toFixed(1)} | ${r.fwdBwd.toFixed(1)} |`,
  ),
  '',
  `The onnxruntime-node ceiling (${ORT_CEILING_GFLOPS} GFLOP/s, 2 threads) is from REFERENCE.md §0. The cpu backend runs`,
  'smaller shapes (MatMul 256³, block 1×50×192) to keep the run short. The wasm row runs the native matmul',
  'path when `@moevl/native-blas` is built (see the matmul path column; `MOEVL_NATIVE=0` measures tfjs-wasm alone).',
];
writeResultsSection('engine', lines);
console.log('wrote the engine section of bench/RESULTS.md');
