#!/usr/bin/env node
// The ViT-B/32-shaped CLIP benchmark of `zero-shot eval` (issue #6). Not a test.
//
//   npm run build && npm run bench -w apps/zero-shot-cli            # everything, ~10 minutes
//   npm run bench -w apps/zero-shot-cli -- --skip-classifier --skip-pipeline   # the fast parts
//
// It builds a random-weight CLIP with the exact compute shape of ViT-B/32 if missing
// (packages/vision/scripts/clip/make_random_clip.py, ~600 MB in bench-models/, gitignored), writes a
// synthetic Kaggle-layout ImageNet val folder of 500×375 JPEGs in a temp dir, and measures, fp32:
//   raw      the vision tower alone (onnxruntime-node, batch 32, random pixels), before and again
//            right after e2e (the ratio uses their mean: the machine's load may change)  images/s
//   text     the text tower alone at the real prompt lengths (batches of 32 padded to their longest
//            prompt) and padded to 77                                               prompts/s
//   decode   sharp decode + CLIP preprocess of the JPEGs (preprocessBatch)          images/s
//   build    the 1000 × 80 (openai80) classifier, through `zero-shot eval` with an empty cache
//   cache    the same classifier loaded back from the cache
//   e2e      `zero-shot eval` (the real CLI, classifier cached) over all images     images/s
//   pipeline one call of transformers.js's zero-shot-image-classification pipeline with the 1000
//            ImageNet classes (needs the combined model.onnx, written on demand)   seconds/image
// and prints the ratios against the goals; the full result goes to --out (JSON). Every
// measurement records the load average, since the machine may be shared.
//
// Flags: --images N (default 500), --raw-batches N (default 8), --model DIR, --out FILE,
// --skip-raw, --skip-text, --skip-decode, --skip-classifier (no build measured; the eval uses the
// cached openai80 classifier when there is one, else a 1-template classifier), --skip-eval,
// --skip-pipeline, --threads N (passed to zero-shot eval).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..', '..');
const CLI = join(ROOT, 'apps', 'zero-shot-cli', 'dist', 'bin.js');
const SCRIPT = join(ROOT, 'packages', 'vision', 'scripts', 'clip', 'make_random_clip.py');
const DATA = join(ROOT, 'packages', 'vision', 'data', 'imagenet');

// The anchors (this machine, 2 cores, fp32) and goals.
const ANCHOR = { raw: 48, text20: 166, text77: 51, decodeSeq: 241, decodeAll: 382, pipelineSeconds: 10 };
const GOAL = { e2e: 40, e2eOverRaw: 0.83, buildSeconds: 8 * 60, cacheSeconds: 1 };

const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '500' },
    'raw-batches': { type: 'string', default: '8' },
    model: { type: 'string', default: join(ROOT, 'bench-models', 'clip-vit-b32-random') },
    out: { type: 'string', default: join(ROOT, 'bench-models', 'bench-clip-vit-b32.json') },
    threads: { type: 'string' },
    'skip-raw': { type: 'boolean', default: false },
    'skip-text': { type: 'boolean', default: false },
    'skip-decode': { type: 'boolean', default: false },
    'skip-classifier': { type: 'boolean', default: false },
    'skip-eval': { type: 'boolean', default: false },
    'skip-pipeline': { type: 'boolean', default: false },
  },
});
const modelDir = resolve(args.model);
const cacheDir = join(dirname(modelDir), 'classifier-cache');
const nImages = Number(args.images);
const rawBatches = Number(args['raw-batches']);

const log = (m) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const results = { measurements: {} };
function record(name, value) {
  results.measurements[name] = { ...value, loadAverage: load() };
  log(`${name}: ${JSON.stringify(value)} (load ${load()})`);
}

if (!existsSync(CLI)) {
  console.error(`build first (npm run build at the repository root): ${CLI} is missing`);
  process.exit(1);
}

// ------------------------------------------------------------------ model

const needCombined = !args['skip-pipeline'];
const missing = (f) => !existsSync(join(modelDir, f));
if (missing('config.json') || (needCombined && missing('onnx/model.onnx'))) {
  log(`building the random ViT-B/32 CLIP in ${modelDir} (~${needCombined ? 1.2 : 0.6} GB) …`);
  execFileSync('/usr/bin/python3', [SCRIPT, modelDir, ...(needCombined ? ['--combined'] : [])], {
    stdio: 'inherit',
  });
}

// ------------------------------------------------------------------ images

/** A photo-like 500×375 JPEG (smooth colour field, texture, a disc), as packages/vision/bench does. */
async function syntheticJpeg(sharp, seed) {
  const w = 500;
  const h = 375;
  const px = Buffer.alloc(w * h * 3);
  let s = seed * 2654435761 + 1;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const c = Array.from({ length: 9 }, () => rnd() * 255);
  const cx = rnd() * w;
  const cy = rnd() * h;
  const r = 40 + rnd() * 120;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inDisc = (x - cx) ** 2 + (y - cy) ** 2 < r * r;
      const tex = 18 * Math.sin(x * 0.31 + Math.sin(y * 0.07) * 4) + (rnd() - 0.5) * 10;
      for (let k = 0; k < 3; k++) {
        const base = inDisc ? c[6 + k] : c[k] * (1 - x / w) + c[3 + k] * (y / h);
        px[(y * w + x) * 3 + k] = Math.max(0, Math.min(255, base + tex));
      }
    }
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

const { default: sharp } = await import('sharp');
const wnids = readFileSync(join(DATA, 'wnids.txt'), 'utf8').split('\n').filter(Boolean);
const dataDir = mkdtempSync(join(os.tmpdir(), 'moevl-bench-clip-'));
const files = [];
const csv = ['ImageId,PredictionString'];
log(`writing ${nImages} synthetic 500×375 JPEGs (Kaggle layout) to ${dataDir} …`);
for (let i = 1; i <= nImages; i++) {
  const id = `ILSVRC2012_val_${String(i).padStart(8, '0')}`;
  const file = join(dataDir, `${id}.JPEG`);
  writeFileSync(file, await syntheticJpeg(sharp, i));
  files.push(file);
  csv.push(`${id},${wnids[(i * 7919) % wnids.length]} 0 0 10 10`);
}
writeFileSync(join(dataDir, 'LOC_val_solution.csv'), csv.join('\n') + '\n');

// ------------------------------------------------------------------ raw towers

const vision = await import('@moevl/vision');
const ort = (await import('onnxruntime-node')).default;
const templates = JSON.parse(readFileSync(join(DATA, 'templates.json'), 'utf8')).openai80;
const classNames = JSON.parse(readFileSync(join(DATA, 'classnames.json'), 'utf8'));

/** The vision tower alone: onnxruntime-node with transformers.js's default options, random pixels. */
async function rawVision(name) {
  log(`raw vision tower, batch 32 (${name}) …`);
  const session = await ort.InferenceSession.create(join(modelDir, 'onnx', 'vision_model.onnx'));
  const data = Float32Array.from({ length: 32 * 3 * 224 * 224 }, (_, i) => Math.sin(i) * 1.5);
  const feeds = () => ({ pixel_values: new ort.Tensor('float32', data, [32, 3, 224, 224]) });
  const seconds = await timeRuns(session, feeds, rawBatches);
  record(name, { batch: 32, batches: rawBatches, imagesPerSecond: (32 * rawBatches) / seconds });
  await session.release();
}

async function timeRuns(session, feeds, runs) {
  await session.run(feeds()); // warm-up
  const start = performance.now();
  for (let r = 0; r < runs; r++) await session.run(feeds());
  return (performance.now() - start) / 1000;
}

try {
  if (!args['skip-raw']) await rawVision('rawVision');
  if (!args['skip-text'] || !args['skip-classifier']) {
    // Token statistics of the whole 1000 × 80 build, in the classifier's order and batches of 32.
    const { AutoTokenizer } = await import('@huggingface/transformers');
    const tokenizer = await AutoTokenizer.from_pretrained(modelDir, { local_files_only: true });
    const prompts = classNames.flatMap((c) => templates.map((t) => t.replaceAll('{}', c)));
    const ids = tokenizer(prompts, { padding: false, truncation: false, return_tensor: false }).input_ids;
    const lengths = ids.map((r) => r.length);
    // The library's batches: buildZeroShotClassifier hands 1024 prompts at a time to embedTexts, which
    // sorts them by length and pads each batch of 32 to its longest.
    const batches = [];
    for (let c = 0; c < prompts.length; c += 1024) {
      const chunk = Array.from({ length: Math.min(1024, prompts.length - c) }, (_, k) => c + k);
      chunk.sort((a, b) => lengths[a] - lengths[b] || a - b);
      for (let i = 0; i < chunk.length; i += 32) batches.push(chunk.slice(i, i + 32));
    }
    const padded = batches.reduce((n, b) => n + b.length * Math.max(...b.map((i) => lengths[i])), 0);
    let unsorted = 0;
    for (let i = 0; i < lengths.length; i += 32) unsorted += 32 * Math.max(...lengths.slice(i, i + 32));
    const tokens = lengths.reduce((a, b) => a + b, 0);
    results.prompts = {
      count: prompts.length,
      meanTokens: tokens / prompts.length,
      maxTokens: Math.max(...lengths),
      meanPaddedLength: padded / prompts.length,
      meanPaddedLengthUnsorted: unsorted / prompts.length,
    };
    log(`prompts: ${JSON.stringify(results.prompts)}`);

    if (!args['skip-text']) {
      const session = await ort.InferenceSession.create(join(modelDir, 'onnx', 'text_model.onnx'));
      const textPerSecond = async (picked, padTo) => {
        let i = 0;
        const feeds = () => {
          const batch = picked[i++ % picked.length];
          const t = vision.tokenizeForClip(
            tokenizer,
            batch.map((k) => prompts[k]),
            77,
          );
          const len = Math.max(padTo, t.length);
          const inputIds = new BigInt64Array(32 * len).fill(BigInt(tokenizer.eos_token_id));
          const mask = new BigInt64Array(32 * len);
          for (let r = 0; r < 32; r++) {
            inputIds.set(t.inputIds.subarray(r * t.length, (r + 1) * t.length), r * len);
            mask.set(t.attentionMask.subarray(r * t.length, (r + 1) * t.length), r * len);
          }
          return {
            input_ids: new ort.Tensor('int64', inputIds, [32, len]),
            attention_mask: new ort.Tensor('int64', mask, [32, len]),
          };
        };
        return (32 * picked.length) / (await timeRuns(session, feeds, picked.length));
      };
      // 16 of the build's own batches, spread over all lengths; then 4 of them padded to 20 and to 77.
      const picked = Array.from(
        { length: 16 },
        (_, k) => batches[Math.floor(((k + 0.5) * batches.length) / 16)],
      );
      log('raw text tower: batches of 32 as the classifier build makes them, then padded to 20 and 77 …');
      const real = await textPerSecond(picked, 0);
      const twenty = await textPerSecond(picked.slice(0, 4), 20);
      const full = await textPerSecond(picked.slice(0, 4), 77);
      record('rawText', {
        batch: 32,
        realLengthPromptsPerSecond: real,
        paddedTo20PromptsPerSecond: twenty,
        paddedTo77PromptsPerSecond: full,
        projectedBuildSeconds: prompts.length / real,
      });
      await session.release();
    }
  }

  if (!args['skip-decode']) {
    log('decode + preprocess (sharp, preprocessBatch) …');
    const config = vision.readPreprocessorConfig(join(modelDir, 'preprocessor_config.json'));
    const sample = files.slice(0, Math.min(files.length, 192));
    const rate = async (concurrency) => {
      const start = performance.now();
      for (let i = 0; i < sample.length; i += 32) {
        const { pixels } = await vision.preprocessBatch(sample.slice(i, i + 32), config, { concurrency });
        pixels.dispose();
      }
      return sample.length / ((performance.now() - start) / 1000);
    };
    await rate(4); // warm-up
    record('decode', {
      sequentialImagesPerSecond: await rate(1),
      concurrency4ImagesPerSecond: await rate(4),
    });
  }

  // ---------------------------------------------------------------- the CLI

  const evalCli = (extra) =>
    new Promise((resolvePromise, reject) => {
      const argv = [CLI, 'eval', '--model', modelDir, '--data', dataDir, '--layout', 'kaggle'];
      argv.push('--cache-dir', cacheDir, '--json', ...(args.threads ? ['--threads', args.threads] : []));
      argv.push(...extra);
      log(`$ node ${argv.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}`);
      const start = performance.now();
      const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0) return reject(new Error(`zero-shot eval exited with ${code}`));
        resolvePromise({ json: JSON.parse(out), wallSeconds: (performance.now() - start) / 1000 });
      });
    });

  let templateFlag = ['--templates', 'openai80'];
  if (!args['skip-classifier']) {
    rmSync(cacheDir, { recursive: true, force: true });
    log('building the 1000 × 80 classifier through zero-shot eval (empty cache, 32 images) …');
    const { json, wallSeconds } = await evalCli([...templateFlag, '--limit', '32']);
    record('classifierBuild', {
      seconds: json.timing.classifierSeconds,
      cached: json.timing.classifierCached,
      texts: 1000 * templates.length,
      textsPerSecond: (1000 * templates.length) / json.timing.classifierSeconds,
      cliWallSeconds: wallSeconds,
    });
  } else if (!existsSync(cacheDir)) {
    log('no cached openai80 classifier (--skip-classifier): the eval uses one template instead');
    templateFlag = ['--templates', 'a photo of a {}.'];
  }

  if (!args['skip-eval']) {
    log(`end to end: zero-shot eval over ${nImages} images …`);
    const { json, wallSeconds } = await evalCli(templateFlag);
    if (json.counts.evaluated !== nImages)
      throw new Error(`evaluated ${json.counts.evaluated} of ${nImages}`);
    record('endToEnd', {
      images: nImages,
      imagesPerSecond: json.timing.imagesPerSecond,
      imageSeconds: json.timing.imageSeconds,
      classifierSeconds: json.timing.classifierSeconds,
      classifierCached: json.timing.classifierCached,
      templates: json.templates,
      cliWallSeconds: wallSeconds,
    });
    if (json.timing.classifierCached) {
      record('classifierCacheLoad', { seconds: json.timing.classifierSeconds });
    }
    // Again right after, so the ratio compares like with like on a machine whose load changes.
    if (!args['skip-raw']) await rawVision('rawVisionAfter');
  }

  if (!args['skip-pipeline']) {
    log('transformers.js zero-shot-image-classification pipeline, 1000 classes, one image …');
    const { pipeline, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = dirname(modelDir);
    const classify = await pipeline('zero-shot-image-classification', modelDir, {
      local_files_only: true,
      dtype: 'fp32',
    });
    await classify(files[0], ['cat', 'dog']); // warm-up (sessions, image processor)
    const start = performance.now();
    const out = await classify(files[1], classNames, { hypothesis_template: 'a photo of a {}.' });
    const seconds = (performance.now() - start) / 1000;
    if (out.length !== classNames.length) throw new Error(`pipeline returned ${out.length} labels`);
    record('pipeline', { classes: classNames.length, secondsPerImage: seconds });
    await classify.dispose();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

// ------------------------------------------------------------------ report

const m = results.measurements;
const fmt = (x, d = 1) => (x === undefined ? 'n/a' : x.toFixed(d));
const rows = [];
const row = (what, value, anchor, goal) => rows.push([what, value, anchor ?? '', goal ?? '']);
row(
  'raw vision tower, batch 32 (before / after e2e)',
  `${fmt(m.rawVision?.imagesPerSecond)} / ${fmt(m.rawVisionAfter?.imagesPerSecond)} img/s`,
  `${ANCHOR.raw} img/s`,
);
row(
  'raw text tower, real lengths',
  `${fmt(m.rawText?.realLengthPromptsPerSecond)} prompts/s`,
  results.prompts ? `${fmt(results.prompts.meanPaddedLength, 2)} tokens/prompt padded` : '',
);
row(
  'raw text tower, padded to 20',
  `${fmt(m.rawText?.paddedTo20PromptsPerSecond)} prompts/s`,
  `${ANCHOR.text20}`,
);
row(
  'raw text tower, padded to 77',
  `${fmt(m.rawText?.paddedTo77PromptsPerSecond)} prompts/s`,
  `${ANCHOR.text77}`,
);
row(
  'decode+preprocess, sequential / 4 in flight',
  `${fmt(m.decode?.sequentialImagesPerSecond, 0)} / ${fmt(m.decode?.concurrency4ImagesPerSecond, 0)} img/s`,
  `${ANCHOR.decodeSeq} / ${ANCHOR.decodeAll}`,
);
row(
  'classifier 1000 × 80 build',
  `${fmt(m.classifierBuild?.seconds)} s`,
  results.prompts ? `${fmt(results.prompts.meanTokens, 2)} tokens/prompt` : '',
  `≤ ${GOAL.buildSeconds} s`,
);
row('classifier from cache', `${fmt(m.classifierCacheLoad?.seconds, 3)} s`, '', `< ${GOAL.cacheSeconds} s`);
row('end to end (zero-shot eval)', `${fmt(m.endToEnd?.imagesPerSecond)} img/s`, '', `≥ ${GOAL.e2e} img/s`);
row(
  'transformers.js pipeline, 1000 classes',
  `${fmt(m.pipeline?.secondsPerImage, 2)} s/img`,
  `≈ ${ANCHOR.pipelineSeconds} s`,
);
const e2e = m.endToEnd?.imagesPerSecond;
const rawRuns = [m.rawVision, m.rawVisionAfter].filter(Boolean).map((r) => r.imagesPerSecond);
const raw = rawRuns.length > 0 ? rawRuns.reduce((a, b) => a + b, 0) / rawRuns.length : undefined;
results.ratios = {
  endToEndOverRawVision: e2e && raw ? e2e / raw : undefined,
  endToEndOverPipeline: e2e && m.pipeline ? e2e * m.pipeline.secondsPerImage : undefined,
  buildOverGoal: m.classifierBuild ? m.classifierBuild.seconds / GOAL.buildSeconds : undefined,
};
row(
  'end to end / raw vision tower (mean of both)',
  fmt(results.ratios.endToEndOverRawVision, 3),
  '',
  `≥ ${GOAL.e2eOverRaw}`,
);
row('end to end / pipeline', `${fmt(results.ratios.endToEndOverPipeline, 0)}×`, '', '≈ 400×');

let cpu = 'unknown cpu';
try {
  cpu = execFileSync('sh', ['-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]).toString().trim();
} catch {
  // not Linux
}
results.machine = {
  cpu,
  cores: os.availableParallelism(),
  node: process.version,
  ort: ort.env.versions?.node,
};
results.date = new Date().toISOString();
results.command = `node apps/zero-shot-cli/bench/clip_vit_b32.mjs ${process.argv.slice(2).join(' ')}`.trim();
results.uptimeAtEnd = execFileSync('uptime').toString().trim();

const widths = [0, 1, 2, 3].map((c) =>
  Math.max(...[['', '', 'anchor', 'goal'], ...rows].map((r) => r[c].length)),
);
const line = (r) => r.map((x, c) => x.padEnd(widths[c])).join('  ');
console.log(`\n${cpu}, ${results.machine.cores} cores, node ${process.version}; ${results.uptimeAtEnd}`);
console.log(line(['', 'measured', 'anchor', 'goal']));
for (const r of rows) console.log(line(r));
mkdirSync(dirname(resolve(args.out)), { recursive: true });
writeFileSync(resolve(args.out), JSON.stringify(results, null, 2) + '\n');
console.log(`\nwrote ${resolve(args.out)}`);
