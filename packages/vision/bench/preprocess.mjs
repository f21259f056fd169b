#!/usr/bin/env node
// Decode + CLIP preprocessing throughput on ImageNet-sized JPEGs (500×375), the number behind the
// README's claim. Not a test: run `npm run build -w @moevl/vision && node packages/vision/bench/preprocess.mjs`.
//
// Options: --images N (default 200), --cores N (default 2: re-runs itself pinned with taskset when the
// machine has more), --concurrency N, --batch N (default 32), --rounds N (default 3, best is reported).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { syntheticJpeg } from './synthetic_images.mjs';

const GOAL = 250; // images/s on 2 cores
const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '200' },
    cores: { type: 'string', default: '2' },
    concurrency: { type: 'string' },
    batch: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
  },
});
const cores = Number(args.cores);

// Pin to `cores` CPUs so the number means the same on a bigger machine.
if (os.availableParallelism() > cores && !process.env.MOEVL_BENCH_PINNED) {
  const probe = spawnSync('taskset', ['--version']);
  if (probe.status === 0) {
    const cpus = `0-${cores - 1}`;
    const r = spawnSync('taskset', ['-c', cpus, process.execPath, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, MOEVL_BENCH_PINNED: cpus },
    });
    process.exit(r.status ?? 1);
  }
  console.warn(`note: ${os.availableParallelism()} cores and no taskset; results use all of them`);
}

let mod;
try {
  mod = await import('../dist/preprocess/index.js');
} catch {
  console.error('build @moevl/vision first: npx turbo run build --filter=@moevl/vision');
  process.exit(1);
}
const { decodeImage, pilImageToTensorData, preprocessBatch, preprocessImageData, resolvePreprocessConfig } =
  mod;
const tf = await import('@tensorflow/tfjs');
await tf.setBackend('cpu');

const n = Number(args.images);
const dir = mkdtempSync(join(os.tmpdir(), 'moevl-bench-preprocess-'));
try {
  const files = [];
  for (let i = 0; i < n; i++) {
    const f = join(dir, `img_${i}.jpg`);
    writeFileSync(f, await syntheticJpeg(i + 1));
    files.push(f);
  }

  // Where the time goes, one image at a time on the calling thread.
  const t0 = performance.now();
  for (const f of files.slice(0, 50)) await sharp(f, { ignoreIcc: true }).raw().toBuffer();
  const decodeMs = (performance.now() - t0) / 50;
  // decodeImage adds the file read, the JPEG header probe and Pillow's mode handling to sharp's decode.
  const tD = performance.now();
  for (const f of files.slice(0, 50)) await decodeImage(f);
  const decodeImageMs = (performance.now() - tD) / 50;
  const t1 = performance.now();
  for (const f of files.slice(0, 50)) await preprocessImageData(f);
  const fullMs = (performance.now() - t1) / 50;
  // The part that runs on the calling thread: PIL's resample + crop + normalise, on decoded pixels.
  const config = resolvePreprocessConfig({});
  const decoded = await Promise.all(files.slice(0, 20).map((f) => decodeImage(f)));
  for (const img of decoded) pilImageToTensorData(img, config);
  const t2 = performance.now();
  for (let r = 0; r < 5; r++) for (const img of decoded) pilImageToTensorData(img, config);
  const jsMs = (performance.now() - t2) / (5 * decoded.length);

  const batchSize = Number(args.batch);
  const concurrency = args.concurrency ? Number(args.concurrency) : undefined;
  let best = 0;
  const cpu0 = process.cpuUsage();
  for (let round = 0; round < Number(args.rounds); round++) {
    const start = performance.now();
    for (let i = 0; i < files.length; i += batchSize) {
      const { pixels, errors } = await preprocessBatch(files.slice(i, i + batchSize), {}, { concurrency });
      if (errors.length > 0) throw new Error(errors[0].message);
      pixels.dispose();
    }
    best = Math.max(best, files.length / ((performance.now() - start) / 1000));
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / (files.length * Number(args.rounds));
  // On `cores` idle cores the batch is bounded by total CPU time and by the calling thread's share.
  const projected = Math.min((cores * 1000) / cpuMs, 1000 / jsMs);

  let model = os.cpus()[0]?.model ?? 'unknown cpu';
  try {
    model =
      execFileSync('sh', ['-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]).toString().trim() ||
      model;
  } catch {
    // not Linux
  }
  const pinned = process.env.MOEVL_BENCH_PINNED
    ? `pinned to cpus ${process.env.MOEVL_BENCH_PINNED}`
    : 'not pinned';
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  console.log(
    `machine: ${model}, ${os.availableParallelism()} cores visible, ${pinned}, load average ${load}`,
  );
  console.log(`node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips})`);
  console.log(
    `UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}, concurrency ${concurrency ?? 4}`,
  );
  console.log(`${n} JPEGs 500x375 -> [3,224,224], batches of ${batchSize}, best of ${args.rounds} rounds`);
  console.log(
    `  one image, sequential: sharp decode ${decodeMs.toFixed(2)} ms, decodeImage ${decodeImageMs.toFixed(2)} ms, ` +
      `decode+preprocess ${fullMs.toFixed(2)} ms`,
  );
  console.log(`  calling-thread work (resample+crop+normalise): ${jsMs.toFixed(2)} ms/image`);
  console.log(`  CPU time (all threads): ${cpuMs.toFixed(2)} ms/image`);
  console.log(
    `  preprocessBatch measured: ${best.toFixed(0)} images/s (goal ${GOAL}: ${(best / GOAL).toFixed(2)}x)`,
  );
  console.log(
    `  projected on ${cores} idle cores (min of ${cores}/CPU time, 1/calling-thread time): ` +
      `${projected.toFixed(0)} images/s (${(projected / GOAL).toFixed(2)}x) — differs from measured when the machine is busy`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
