// MoELayer forward+backward against a dense MLP with the same per-token FLOPs (not a test).
// Overhead ratio = MoE time / (K × dense time): 1.0 means routing, dispatch and combine are free.
// PyTorch on our 2-core CPU measures 1.4–1.5× for this layer; the goal is ≤ 1.35×.
//   npm run bench -w @moevl/router        (wasm; MOEVL_BENCH_BACKENDS=cpu,wasm to choose)
import * as tf from '@tensorflow/tfjs';
import { MLP, useBackend } from '@moevl/core';
import { MoELayer } from '@moevl/router';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

const S = 2048;
const D = 256;
const H = 1024;

function median(fn, iters) {
  tf.dispose(fn());
  const times = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    const out = fn();
    out[0].dataSync();
    tf.dispose(out);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function fwdBwd(layer, x, forward) {
  const vars = Object.values(layer.trainableWeights());
  return () => {
    const { value, grads } = tf.variableGrads(() => {
      const out = forward(x);
      return tf.addN([tf.mean(tf.square(out.y)), ...Object.values(out.auxLosses ?? {})]);
    }, vars);
    return [value, ...Object.values(grads)];
  };
}

const machine = `${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores`;
const backends = (process.env.MOEVL_BENCH_BACKENDS ?? 'wasm').split(',');
const rows = [];
for (const backend of backends) {
  await useBackend(backend);
  const iters = backend === 'cpu' ? 2 : 5;
  const x = tf.randomNormal([1, S, D], 0, 1, 'float32', 1);
  const dense = new MLP({ dim: D, hiddenDim: H, seed: 1 });
  const denseMs = median(
    fwdBwd(dense, x, (a) => ({ y: dense.apply(a) })),
    iters,
  );
  console.log(`${backend}: dense MLP S=${S} D=${D} H=${H} fwd+bwd ${denseMs.toFixed(1)} ms  (${machine})`);
  for (const E of [8, 32]) {
    for (const K of [1, 2]) {
      const moe = new MoELayer({
        dim: D,
        hiddenDim: H,
        numExperts: E,
        router: { name: 'top-k', options: { k: K, capacityFactor: 1.25 } },
        seed: 2,
      });
      const ms = median(
        fwdBwd(moe, x, (a) => moe.forward(a, { training: true })),
        iters,
      );
      const ratio = ms / (K * denseMs);
      rows.push({ backend, E, K, ms, denseMs, ratio });
      console.log(
        `${backend}: MoE E=${E} K=${K} cf=1.25 fwd+bwd ${ms.toFixed(1)} ms  overhead ${ratio.toFixed(2)}×`,
      );
      moe.dispose();
    }
  }
  dense.dispose();
  x.dispose();
}
const md = [
  '# MoELayer benchmark',
  '',
  `Written by \`npm run bench -w @moevl/router\` on ${new Date().toISOString().slice(0, 10)}; ${machine}, tfjs ${tf.version.tfjs}.`,
  `S=${S} tokens, D=${D}, expert hidden ${H}, top-k router with training noise, cf=1.25, forward+backward.`,
  'Overhead = MoE time / (K × dense MLP time); PyTorch measures 1.4–1.5× for this layer on the same machine; goal ≤ 1.35×.',
  '',
  '| backend | E | K | MoE ms | dense ms | overhead |',
  '|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.backend} | ${r.E} | ${r.K} | ${r.ms.toFixed(1)} | ${r.denseMs.toFixed(1)} | ${r.ratio.toFixed(2)}× |`,
  ),
  '',
];
writeFileSync(new URL('./RESULTS.md', import.meta.url), md.join('\n'));
