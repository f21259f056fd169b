#!/usr/bin/env node
// The image–caption loader's numbers behind the README (not a test): images/s for 224×224 RGB with
// open_clip's random resized crop on 2 cores, how long a training step that blocks the thread waits for
// its next batch, and RSS over a whole epoch of a 200,000-row CSV. Run
// `npx tsc --build packages/vision && node packages/vision/bench/pairs_loader.mjs`.
//
// Options: --images N (default 200 JPEGs 500×375), --rounds N (epochs timed, default 3), --batch N (32),
// --cores N (2: re-runs itself pinned with taskset on a bigger machine), --step-ms N (simulated training
// step, default 1000), --rss-rows N (200000; 0 skips), --rss-images N (300), --skip-throughput.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import tar from 'tar-stream';
import { syntheticJpeg } from './synthetic_images.mjs';

const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '32' },
    cores: { type: 'string', default: '2' },
    'step-ms': { type: 'string', default: '1000' },
    'rss-rows': { type: 'string', default: '200000' },
    'rss-images': { type: 'string', default: '300' },
    'skip-throughput': { type: 'boolean', default: false },
  },
});
const cores = Number(args.cores);
if (os.availableParallelism() > cores && !process.env.MOEVL_BENCH_PINNED) {
  if (spawnSync('taskset', ['--version']).status === 0) {
    const cpus = `0-${cores - 1}`;
    const r = spawnSync('taskset', ['-c', cpus, process.execPath, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, MOEVL_BENCH_PINNED: cpus },
    });
    process.exit(r.status ?? 1);
  }
  console.warn(`note: ${os.availableParallelism()} cores and no taskset; results use all of them`);
}

let openImageCaptionSource;
try {
  ({ openImageCaptionSource } = await import('../dist/data/pairs/index.js'));
} catch {
  console.error('build @moevl/vision first: npx tsc --build packages/vision');
  process.exit(1);
}

function machine() {
  let model = os.cpus()[0]?.model ?? 'unknown cpu';
  try {
    model =
      execFileSync('sh', ['-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]).toString().trim() ||
      model;
  } catch {
    // not Linux
  }
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const pinned = process.env.MOEVL_BENCH_PINNED
    ? `pinned to cpus ${process.env.MOEVL_BENCH_PINNED}`
    : 'not pinned';
  return `${model}, ${os.availableParallelism()} cores visible, ${pinned}, load average ${load}`;
}

async function writeShards(dir, files, perShard) {
  const { readFileSync } = await import('node:fs');
  const shards = [];
  for (let s = 0; s * perShard < files.length; s++) {
    const pack = tar.pack();
    files.slice(s * perShard, (s + 1) * perShard).forEach((f, i) => {
      const key = String(s * perShard + i).padStart(6, '0');
      pack.entry({ name: `${key}.jpg` }, readFileSync(f));
      pack.entry({ name: `${key}.txt` }, `a synthetic photo number ${key}`);
    });
    pack.finalize();
    const path = join(dir, `shard-${String(s).padStart(6, '0')}.tar`);
    const out = createWriteStream(path);
    pack.pipe(out);
    await once(out, 'close');
    shards.push(path);
  }
  return join(dir, `shard-{000000..${String(shards.length - 1).padStart(6, '0')}}.tar`);
}

const CLIP = { size: 224, cropSize: 224 };
const AUGMENT = { randomResizedCrop: { scale: [0.9, 1] } };

/** Images/s over `rounds` epochs after one warm-up batch, and CPU time per image (all threads). */
async function throughput(spec, total, batch) {
  const src = await openImageCaptionSource({ ...spec, seed: 0, loop: true });
  await src.next(batch);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (n < total) n += (await src.next(batch)).ids.length;
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await src.close();
  return { perSecond: n / s, cpuMs: (cpu.user + cpu.system) / 1000 / n };
}

/** The first `n` batches of two specs are the same, bit for bit. */
async function identical(specA, specB, batch, n) {
  const a = await openImageCaptionSource({ ...specA, seed: 0, loop: true });
  const b = await openImageCaptionSource({ ...specB, seed: 0, loop: true });
  let same = true;
  for (let i = 0; i < n; i++) {
    const x = await a.next(batch);
    const y = await b.next(batch);
    same &&=
      x.ids.join() === y.ids.join() && Buffer.from(x.pixels.buffer).equals(Buffer.from(y.pixels.buffer));
  }
  await Promise.all([a.close(), b.close()]);
  return same;
}

/** A consumer that blocks the thread `stepMs` per batch (as a tfjs step does): how long next() keeps it waiting. */
async function consumer(spec, batch, stepMs, steps) {
  const src = await openImageCaptionSource({ ...spec, seed: 0, loop: true });
  await src.next(batch);
  let waited = 0;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const w0 = performance.now();
    await src.next(batch);
    waited += performance.now() - w0;
    const until = performance.now() + stepMs;
    while (performance.now() < until); // the training step: synchronous work on this thread
    await new Promise((r) => setImmediate(r)); // what an async step (await data()) gives the loader
  }
  const total = performance.now() - t0;
  await src.close();
  return { waitedMsPerStep: waited / steps, share: waited / total };
}

async function rssOverEpoch(dir, rows, images, batch) {
  const files = [];
  for (let i = 0; i < images; i++) {
    const f = join(dir, `small_${i}.jpg`);
    writeFileSync(f, await syntheticJpeg(1000 + i, 160, 120));
    files.push(`small_${i}.jpg`);
  }
  const csv = join(dir, 'big.tsv');
  const out = createWriteStream(csv);
  out.write('filepath\ttitle\n');
  for (let r = 0; r < rows; r++) {
    if (!out.write(`${files[r % images]}\trow ${r}: a synthetic photo with a caption of ordinary length\n`)) {
      await once(out, 'drain');
    }
  }
  out.end();
  await once(out, 'close');
  const mib = (b) => b / 2 ** 20;
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const src = await openImageCaptionSource({
    path: csv,
    preprocess: { size: 112, cropSize: 112 },
    augment: AUGMENT,
    seed: 0,
    loop: false,
    shuffle: true,
  });
  const openMs = performance.now() - t0;
  const decoder = src.description.split('; decoded ')[1]?.split(';')[0];
  const samples = [];
  let done = 0;
  let last = 0;
  const sample = () => {
    const m = process.memoryUsage();
    samples.push({
      t: (performance.now() - t0) / 1000,
      done,
      rss: mib(m.rss),
      heap: mib(m.heapUsed),
      ab: mib(m.arrayBuffers),
    });
  };
  sample();
  for (;;) {
    const b = await src.next(batch);
    if (b === null) break;
    done += b.ids.length;
    if (performance.now() - last > 1000) {
      last = performance.now();
      sample();
      if (samples.length % 30 === 0)
        process.stderr.write(`  … ${done} rows, RSS ${samples.at(-1).rss.toFixed(0)} MiB\n`);
    }
  }
  sample();
  await src.close();
  return { openMs, samples, rss0: mib(rss0), skipped: src.skipped.total, decoder };
}

const dir = mkdtempSync(join(os.tmpdir(), 'moevl-bench-pairs-'));
try {
  console.log(`machine: ${machine()}`);
  console.log(
    `node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`,
  );
  const batch = Number(args.batch);
  if (!args['skip-throughput']) {
    const n = Number(args.images);
    const files = [];
    for (let i = 0; i < n; i++) {
      const f = join(dir, `img_${i}.jpg`);
      writeFileSync(f, await syntheticJpeg(i + 1));
      files.push(f);
    }
    writeFileSync(
      join(dir, 'pairs.tsv'),
      ['filepath\ttitle', ...files.map((f, i) => `${f}\tphoto ${i}`)].join('\n'),
    );
    const shards = await writeShards(dir, files, 50);
    const total = n * Number(args.rounds);
    console.log(
      `\n${n} JPEGs 500×375 → [3, 224, 224], batches of ${batch}, ${args.rounds} epochs timed, shuffled, loop`,
    );
    const csv = join(dir, 'pairs.tsv');
    const train = { path: csv, preprocess: CLIP, augment: AUGMENT };
    const same = await identical({ ...train, workers: 0 }, train, batch, 4);
    console.log(`  worker threads and the calling thread give identical batches: ${same ? 'yes' : 'NO'}`);
    for (const [name, spec] of [
      ['csv, center crop (evaluation transform)', { path: csv, preprocess: CLIP }],
      ['csv, random resized crop (0.9, 1)', train],
      ['csv, random resized crop, on the calling thread', { ...train, workers: 0 }],
      [
        'webdataset (4 shards, buffer 100), random resized crop',
        { ...train, path: shards, shuffleBuffer: 100 },
      ],
      ['csv, random resized crop, grayscale', { ...train, preprocess: { ...CLIP, channels: 1 } }],
    ]) {
      const r = await throughput(spec, total, batch);
      console.log(
        `  ${name}: ${r.perSecond.toFixed(0)} images/s, CPU ${r.cpuMs.toFixed(2)} ms/image (all threads)`,
      );
    }
    const stepMs = Number(args['step-ms']);
    for (const [name, spec] of [
      ['worker threads', train],
      ['the calling thread', { ...train, workers: 0 }],
    ]) {
      const c = await consumer(spec, batch, stepMs, 12);
      console.log(
        `  a training step holding the thread ${stepMs} ms per batch of ${batch}, decoding on ${name}: next() waits ${c.waitedMsPerStep.toFixed(0)} ms per step (${(100 * c.share).toFixed(0)}% of the time)`,
      );
    }
  }
  const rows = Number(args['rss-rows']);
  if (rows > 0) {
    const images = Number(args['rss-images']);
    console.log(
      `\nRSS over one shuffled epoch of a ${rows.toLocaleString('en-US')}-row CSV → ${images} JPEGs 160×120, [3, 112, 112] with the random resized crop, batches of 256`,
    );
    const r = await rssOverEpoch(dir, rows, images, 256);
    console.log(
      `  RSS before open ${r.rss0.toFixed(0)} MiB; opened in ${r.openMs.toFixed(0)} ms; skipped ${r.skipped}; decoded ${r.decoder}`,
    );
    console.log('  t (s)   rows done   RSS (MiB)   heap (MiB)   array buffers (MiB)');
    const step = Math.max(1, Math.floor(r.samples.length / 12));
    for (let i = 0; i < r.samples.length; i++) {
      if (i % step !== 0 && i !== r.samples.length - 1) continue;
      const s = r.samples[i];
      console.log(
        `  ${s.t.toFixed(0).padStart(5)}   ${String(s.done).padStart(9)}   ${s.rss.toFixed(0).padStart(9)}   ${s.heap.toFixed(0).padStart(10)}   ${s.ab.toFixed(0).padStart(19)}`,
      );
    }
    const after = r.samples.filter((s) => s.done >= rows * 0.05);
    const rss = after.map((s) => s.rss);
    const last = r.samples[r.samples.length - 1];
    console.log(
      `  after the first 5%: RSS ${Math.min(...rss).toFixed(0)}–${Math.max(...rss).toFixed(0)} MiB; ${(last.done / last.t).toFixed(0)} images/s over the epoch`,
    );
  }
  console.log(
    `\nload average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
