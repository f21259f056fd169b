// Kernel profile (not a test): where a training step's time goes, by tfjs kernel, for the MoE layer
// (@moevl/router's MoELayer, S=2048, D=256, H=1024, cf 1.25, forward+backward) and for one training step of the
// shipped LIMoE configuration and its dense baseline (bench/limoe_step.mjs), on the wasm backend with the
// native path. Runs `tf.profile` over R steps after warm-up; each kernel is timed in process CPU time
// (process.cpuUsage around the kernel) rather than wall time, because on a loaded machine wall time charges
// other processes' time slices to whichever kernel was running. Run it with MOEVL_THREADS=1 so that CPU
// time is the kernel's work. Writes its section of bench/RESULTS.md (MOEVL_PROFILE_SECTION names it).
//   MOEVL_THREADS=1 node packages/limoe/bench/profile.mjs
import * as tf from '@tensorflow/tfjs';
import { MLP, initBackend, matmulPath } from '@moevl/core';
import { MoELayer } from '@moevl/router';
import { writeResultsSection } from '../../core/bench/results_md.mjs';
import { loadRecord, machineLine } from '../../core/bench/side_by_side.mjs';
import { makeMoevlLimoeStep } from './limoe_step.mjs';

const ROUNDS = Math.max(3, Number(process.env.MOEVL_PROFILE_ROUNDS ?? 3));
const TOP = Number(process.env.MOEVL_PROFILE_TOP ?? 12);
const SECTION = process.env.MOEVL_PROFILE_SECTION ?? 'profile';

const load = loadRecord();
await initBackend({ backend: 'wasm' });
const path = matmulPath();
const backend = tf.backend();
backend.time = async (f) => {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return { kernelMs: (c.user + c.system) / 1000 };
};

function moeStep(E, K) {
  const x = tf.randomNormal([1, 2048, 256], 0, 1, 'float32', 1);
  const layer =
    E === 0
      ? new MLP({ dim: 256, hiddenDim: 1024, seed: 1 })
      : new MoELayer({
          dim: 256,
          hiddenDim: 1024,
          numExperts: E,
          router: { name: 'top-k', options: { k: K, capacityFactor: 1.25 } },
          seed: 2,
        });
  const vars = Object.values(layer.trainableWeights());
  return {
    step() {
      const { value, grads } = tf.variableGrads(() => {
        const o = E === 0 ? { y: layer.apply(x) } : layer.forward(x, { training: true });
        return tf.addN([tf.mean(tf.square(o.y)), ...Object.values(o.auxLosses ?? {})]);
      }, vars);
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    },
    dispose() {
      layer.dispose();
      x.dispose();
    },
  };
}

/** Kernel CPU ms per step by kernel name (nested `…__op` scopes left out), and the step's CPU ms. */
async function profile(work) {
  work.step();
  work.step();
  const c0 = process.cpuUsage();
  for (let i = 0; i < ROUNDS; i++) work.step();
  const c = process.cpuUsage(c0);
  const stepMs = (c.user + c.system) / 1000 / ROUNDS;
  const by = new Map();
  for (let r = 0; r < ROUNDS; r++) {
    const p = await tf.profile(() => work.step());
    for (const k of p.kernels) {
      if (k.name.endsWith('__op')) continue;
      const e = by.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += k.kernelTimeMs / ROUNDS;
      e.calls += 1 / ROUNDS;
      by.set(k.name, e);
    }
  }
  work.dispose();
  const kernels = [...by].sort((a, b) => b[1].ms - a[1].ms);
  const total = kernels.reduce((a, [, e]) => a + e.ms, 0);
  return { stepMs, total, kernels };
}

const workloads = [
  ['MoE layer E=8 K=1', () => moeStep(8, 1)],
  ['MoE layer E=32 K=2', () => moeStep(32, 2)],
  ['dense MLP (same width)', () => moeStep(0, 0)],
  ['LIMoE training step', () => makeMoevlLimoeStep('limoe')],
  ['dense LIMoE baseline step', () => makeMoevlLimoeStep('dense')],
];
const sections = [];
for (const [label, make] of workloads) {
  const p = await profile(make());
  console.log(`${label}: step ${p.stepMs.toFixed(1)} ms CPU, kernels ${p.total.toFixed(1)} ms`);
  const top = p.kernels.slice(0, TOP);
  const rest = p.kernels.slice(TOP).reduce((a, [, e]) => a + e.ms, 0);
  const row = (name, ms, calls) =>
    `| ${name} | ${ms.toFixed(1)} | ${((100 * ms) / p.total).toFixed(1)}% | ${calls == null ? '' : calls.toFixed(0)} |`;
  sections.push(
    `### ${label}: ${p.stepMs.toFixed(0)} ms CPU per step, ${p.total.toFixed(0)} ms of it in kernels`,
    '',
    '| kernel | ms per step | share of kernel time | calls |',
    '|---|---|---|---|',
    ...top.map(([n, e]) => row(n, e.ms, e.calls)),
    row('(other kernels)', rest),
    '',
  );
  for (const [n, e] of top)
    console.log(`  ${n.padEnd(28)} ${e.ms.toFixed(1).padStart(7)} ms ×${e.calls.toFixed(0)}`);
}

writeResultsSection(
  SECTION,
  [
    `## Kernel profile${process.env.MOEVL_PROFILE_TITLE ? `: ${process.env.MOEVL_PROFILE_TITLE}` : ''}`,
    '',
    `Written by \`node packages/limoe/bench/profile.mjs\` on ${new Date().toISOString().slice(0, 10)}: \`tf.profile\` of ` +
      `${ROUNDS} steps after 2 warm-up steps, each kernel timed in process CPU time (wall time under load ` +
      "charges other processes' time slices to the running kernel), MOEVL_THREADS=" +
      `${process.env.MOEVL_THREADS ?? '(unset)'}; tfjs ${tf.version.tfjs} wasm, matmul ${path.name}. "ms CPU per ` +
      'step" includes the JavaScript between kernels.',
    '',
    `Machine: ${machineLine()}.`,
    load.end(),
    '',
    ...sections,
  ],
  new URL('./RESULTS.md', import.meta.url),
  '# @moevl/limoe benchmarks',
);
console.log(`wrote the ${SECTION} section of bench/RESULTS.md`);
