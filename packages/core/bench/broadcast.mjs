// Broadcast and tile kernels on the wasm backend (not a test): the ops tfjs-wasm 4.22 runs through a generic
// per-element index loop — `Tile` (what `broadcastTo` runs) and binary kernels outside XNNPACK with a
// broadcast input — timed at the shapes moevl's training meets (a class token broadcast over a batch, a
// same-class label mask), against the same ops without broadcasting. Best and median of 40 calls each.
//   node packages/core/bench/broadcast.mjs
// To put a build without this change beside it: run it there with MOEVL_BENCH_SAVE=<file.json>, then here
// with MOEVL_BENCH_BEFORE=<file.json> (and a label in MOEVL_BENCH_BEFORE_LABEL); that writes RESULTS.md.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@moevl/core';
import { readFileSync, writeFileSync } from 'node:fs';
import { writeResultsSection } from './results_md.mjs';
import { loadRecord, machineLine } from './side_by_side.mjs';

const load = loadRecord();
await initBackend({ backend: 'wasm' });
const labels = tf.tensor1d(
  Array.from({ length: 128 }, (_, i) => (i * 7) % 10),
  'int32',
);
const col = tf.expandDims(labels, 1);
const row = tf.expandDims(labels, 0);
const colF = tf.cast(col, 'float32');
const rowF = tf.cast(row, 'float32');
const full = tf.tile(col, [1, 128]);
const fullT = tf.tile(row, [128, 1]);
const cls = tf.randomNormal([1, 1, 128], 0, 1, 'float32', 1);
const dy = tf.randomNormal([128, 1, 128], 0, 1, 'float32', 2);
const cases = [
  ['broadcastTo [1,1,128] → [128,1,128]', () => tf.broadcastTo(cls, [128, 1, 128])],
  [
    'its gradient (sum over the batch of copies)',
    () => tf.grad((c) => tf.sum(tf.mul(tf.broadcastTo(c, [128, 1, 128]), dy)))(cls),
  ],
  ['equal int32 [128,1] vs [1,128]', () => tf.equal(col, row)],
  ['greater float32 [128,1] vs [1,128]', () => tf.greater(colF, rowF)],
  ['maximum float32 [128,1] vs [1,128]', () => tf.maximum(colF, rowF)],
  ['add int32 [128,1] + [1,128]', () => tf.add(col, row)],
  ['equal int32 [128,128] vs [128,128] (no broadcast)', () => tf.equal(full, fullT)],
  ['add float32 [128,1] + [1,128] (XNNPACK)', () => tf.add(colF, rowF)],
];
const results = {};
for (const [name, f] of cases) {
  for (let i = 0; i < 5; i++) tf.dispose(f());
  const ts = [];
  for (let i = 0; i < 40; i++) {
    const t0 = performance.now();
    const r = f();
    r.dataSync();
    ts.push(performance.now() - t0);
    r.dispose();
  }
  ts.sort((a, b) => a - b);
  results[name] = { best: ts[0], median: ts[ts.length >> 1] };
  console.log(`${name.padEnd(52)} ${ts[0].toFixed(3)} / ${ts[ts.length >> 1].toFixed(3)} ms`);
}
if (process.env.MOEVL_BENCH_SAVE) writeFileSync(process.env.MOEVL_BENCH_SAVE, JSON.stringify(results));
if (process.env.MOEVL_BENCH_BEFORE) {
  const before = JSON.parse(readFileSync(process.env.MOEVL_BENCH_BEFORE, 'utf8'));
  const ms = (s) => (s ? `${s.best.toFixed(3)} / ${s.median.toFixed(3)}` : '–');
  const label = process.env.MOEVL_BENCH_BEFORE_LABEL ?? 'before';
  writeResultsSection('broadcast', [
    '## Broadcast and tile kernels on wasm: before and after the heap Tile (issue 15)',
    '',
    `Written by \`node packages/core/bench/broadcast.mjs\` on ${new Date().toISOString().slice(0, 10)}; "before" ` +
      `is ${label}, run with the same script just before. Best / median of 40 calls, ms.`,
    '',
    `Machine: ${machineLine()}.`,
    load.end(),
    '',
    '| op | before ms | after ms |',
    '|---|---|---|',
    ...cases.map(([name]) => `| ${name} | ${ms(before[name])} | ${ms(results[name])} |`),
  ]);
  console.log('wrote the broadcast section of bench/RESULTS.md');
}
