#!/usr/bin/env node
// Compare the speed of two (or more) CLIP vision_model.onnx graphs with onnxruntime-node directly, for
// benchmarks only (not a test). Each setting runs the graphs in the order A, B, A, B (a fresh session
// each time), a warm-up batch then --batches timed batches of --batch random images, and prints
// images/s with the load average; it also reports the largest difference between the graphs' outputs.
//
//   node packages/vision/scripts/clip/compare_vision_graphs.mjs \
//     bench-models/clip-vit-b32-random/onnx/vision_model.onnx \
//     bench-models/clip-vit-b32-random-torch/onnx/vision_model.onnx [--batches 6] [--batch 32]
//     [--settings default,all,threads2,all+threads2,basic] [--rounds 2] [--save-optimized DIR]
//
// --save-optimized DIR writes each graph as onnxruntime optimized it (setting 'all'), to inspect fusions.
import { createRequire } from 'node:module';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..', '..', '..');
const require = createRequire(join(ROOT, 'package.json'));
const ort = require('onnxruntime-node');

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    batches: { type: 'string', default: '6' },
    batch: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
    settings: { type: 'string', default: 'default,all,threads2' },
    'save-optimized': { type: 'string' },
  },
});
const paths = positionals.map((p) => resolve(p));
const nBatches = Number(args.batches);
const batch = Number(args.batch);
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const SETTINGS = {
  default: {},
  all: { graphOptimizationLevel: 'all' },
  extended: { graphOptimizationLevel: 'extended' },
  basic: { graphOptimizationLevel: 'basic' },
  disabled: { graphOptimizationLevel: 'disabled' },
  threads2: { intraOpNumThreads: 2 },
  threads1: { intraOpNumThreads: 1 },
  'all+threads2': { graphOptimizationLevel: 'all', intraOpNumThreads: 2 },
};
const label = (p) => `${basename(dirname(dirname(p)))}/${basename(p)}`;

// Deterministic pixels, roughly CLIP-normalised.
const pixels = new Float32Array(batch * 3 * 224 * 224);
let s = 12345;
for (let i = 0; i < pixels.length; i++) {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  pixels[i] = (s / 2 ** 32 - 0.5) * 3.6;
}
const feeds = { pixel_values: new ort.Tensor('float32', pixels, [batch, 3, 224, 224]) };

console.log(
  `uptime: ${os.uptime().toFixed(0)} s, load ${load()}, cpus ${os.cpus().length}, ort ${ort.env?.versions?.node ?? ''}`,
);

if (args['save-optimized']) {
  for (const [i, p] of paths.entries()) {
    const out = join(resolve(args['save-optimized']), `optimized_${i}.onnx`);
    await ort.InferenceSession.create(p, { graphOptimizationLevel: 'all', optimizedModelFilePath: out });
    console.log(`optimized ${label(p)} -> ${out}`);
  }
}

// Output agreement (default settings, first batch).
const firsts = [];
for (const p of paths) {
  const sess = await ort.InferenceSession.create(p);
  const out = await sess.run(feeds);
  firsts.push(out.image_embeds.data);
  await sess.release?.();
}
for (let i = 1; i < firsts.length; i++) {
  let max = 0;
  let ref = 0;
  for (let j = 0; j < firsts[0].length; j++) {
    max = Math.max(max, Math.abs(firsts[0][j] - firsts[i][j]));
    ref = Math.max(ref, Math.abs(firsts[0][j]));
  }
  console.log(
    `max |image_embeds A - ${String.fromCharCode(65 + i)}| = ${max.toExponential(2)} (max |A| ${ref.toFixed(3)})`,
  );
}

const rows = [];
for (const name of args.settings.split(',')) {
  const opts = SETTINGS[name];
  if (!opts) throw new Error(`unknown setting ${name}; one of ${Object.keys(SETTINGS).join(', ')}`);
  for (let r = 0; r < Number(args.rounds); r++) {
    for (const [i, p] of paths.entries()) {
      const sess = await ort.InferenceSession.create(p, opts);
      await sess.run(feeds); // warm-up
      const t0 = performance.now();
      for (let b = 0; b < nBatches; b++) await sess.run(feeds);
      const sec = (performance.now() - t0) / 1000;
      const ips = (nBatches * batch) / sec;
      const row = {
        setting: name,
        round: r + 1,
        graph: String.fromCharCode(65 + i),
        ips: +ips.toFixed(1),
        load: load(),
      };
      rows.push(row);
      console.log(
        `${name.padEnd(13)} round ${r + 1}  ${row.graph} ${label(p).padEnd(45)} ${ips.toFixed(1).padStart(6)} images/s  (load ${row.load})`,
      );
      await sess.release?.();
    }
  }
}
console.log('\nmean images/s per setting and graph:');
for (const name of args.settings.split(',')) {
  const parts = paths.map((_, i) => {
    const g = String.fromCharCode(65 + i);
    const v = rows.filter((r) => r.setting === name && r.graph === g).map((r) => r.ips);
    return `${g} ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(1)}`;
  });
  console.log(`  ${name.padEnd(13)} ${parts.join('   ')}`);
}
