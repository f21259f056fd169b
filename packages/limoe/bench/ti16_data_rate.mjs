#!/usr/bin/env node
// Does the image–caption loader keep a `limoe-ti-16` training step fed? (issue 13: the loader alone must
// deliver ≥ 3× the images/s the step consumes on our 2-core machine). Side by side in one run, on the same
// generated 500×375 JPEGs and captions: (1) the loader alone — `openImageCaptionSource` with the transform
// `zero-shot train` uses for this preset (224×224 RGB, random resized crop 0.9–1, one worker thread), batches
// of 16, timed after the first batch; (2) `zero-shot train --model limoe-ti-16 --batch-size 16` on the same
// file, images/s from each step's `ms` in its log, the first step (tracing, allocation) left out. Writes its
// section of bench/RESULTS.md. Build first: `npx turbo run build`.
//   node packages/limoe/bench/ti16_data_rate.mjs [--steps 6] [--batches 12]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeResultsSection } from '../../core/bench/results_md.mjs';
import { machineLine } from '../../core/bench/side_by_side.mjs';
import { syntheticJpeg } from '../../vision/bench/synthetic_images.mjs';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '6' },
    batches: { type: 'string', default: '12' },
    images: { type: 'string', default: '96' },
  },
});
const BATCH = 16;
const root = fileURLToPath(new URL('../../../', import.meta.url));
const { openImageCaptionSource } = await import(join(root, 'packages/vision/dist/index.js'));
const load = () => os.loadavg()[0].toFixed(1);

const dir = mkdtempSync(join(os.tmpdir(), 'moevl-ti16-rate-'));
try {
  mkdirSync(join(dir, 'img'));
  const rows = ['filepath\ttitle'];
  for (let i = 0; i < Number(args.images); i++) {
    writeFileSync(join(dir, 'img', `${i}.jpg`), await syntheticJpeg(i));
    rows.push(`img/${i}.jpg\ta synthetic photo number ${i % 10}`);
  }
  const tsv = join(dir, 'pairs.tsv');
  writeFileSync(tsv, rows.join('\n') + '\n');
  const loadBefore = load();

  // (1) The loader alone, as `zero-shot train` opens it for a 224-px RGB preset.
  const source = await openImageCaptionSource({
    path: tsv,
    preprocess: { size: 224, cropSize: 224, channels: 3 },
    augment: { randomResizedCrop: { scale: [0.9, 1] } },
    seed: 0,
    loop: true,
    workers: Math.max(1, Math.min(4, os.availableParallelism() - 1)),
  });
  await source.next(BATCH);
  const t0 = performance.now();
  for (let b = 0; b < Number(args.batches); b++) await source.next(BATCH);
  const loaderSeconds = (performance.now() - t0) / 1000;
  await source.close();
  const loaderRate = (Number(args.batches) * BATCH) / loaderSeconds;

  // (2) The training step of the preset, through the CLI on the same file.
  const out = join(dir, 'run');
  const r = spawnSync(
    process.execPath,
    [
      join(root, 'apps/zero-shot-cli/dist/bin.js'),
      'train',
      ...['--train-data', tsv, '--model', 'limoe-ti-16', '--steps', args.steps],
      ...['--batch-size', String(BATCH), '--out', out, '--checkpoint-every', '1000', '--quiet'],
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`zero-shot train failed:\n${r.stderr}`);
  const steps = readFileSync(join(out, 'checkpoints/log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((s) => typeof s.ms === 'number');
  const timed = steps.slice(1);
  const stepSeconds = timed.reduce((acc, s) => acc + s.ms, 0) / 1000;
  const stepRate = (timed.length * BATCH) / stepSeconds;
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));

  const lines = [
    '## Loader vs `limoe-ti-16` training step (`node packages/limoe/bench/ti16_data_rate.mjs`)',
    '',
    `${new Date().toISOString().slice(0, 10)}; ${machineLine()}; load average ${loadBefore} before, ${load()} after; ` +
      `${summary.backend}, matmul ${summary.matmul}. Same ${args.images} generated 500×375 JPEGs, batches of ${BATCH}.`,
    '',
    '| what | images/s |',
    '| --- | ---: |',
    `| loader alone: 224×224 RGB, random resized crop (0.9, 1), ${Number(args.batches)} batches | ${loaderRate.toFixed(1)} |`,
    `| \`limoe-ti-16\` training step (${summary.parameters.toLocaleString('en-US')} parameters), steps 2–${steps.length} | ${stepRate.toFixed(2)} |`,
    `| **loader ÷ step** | **${(loaderRate / stepRate).toFixed(0)}×** |`,
  ];
  console.log(lines.join('\n'));
  writeResultsSection(
    'ti16-data-rate',
    lines,
    new URL('./RESULTS.md', import.meta.url),
    '# @moevl/limoe benchmarks',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
