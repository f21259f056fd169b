// LIMoE's routing on the held-out style, for docs/experiments/emoji.md: every Twemoji image–caption pair run
// through each trained LIMoE as in training (packed, one routing group of 64 pairs, captions with the images),
// twice — dropless, for where each modality's tokens go (the paper's modality specialisation), and capacity-
// limited at the training factor (1.05), for the per-modality routing success the paper's claim is about —
// plus the last 60 training steps' routing success per modality from the run's log. Writes the committed
// summary docs/experiments/emoji/routing.json and the figure docs/experiments/emoji/specialisation.svg.
//   node experiments/emoji/routing.mjs experiments/emoji/runs/e20-limoe-s?
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@moevl/core';
import { LIMoEImageTextModel, analyzeRouting, captionBatchTensors, loadLIMoE } from '@moevl/limoe';
import { openImageCaptionSource } from '@moevl/vision';

const here = new URL('.', import.meta.url).pathname;
const repo = join(here, '../..');
const docs = join(repo, 'docs/experiments/emoji');
const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error('routing: give the LIMoE run folders, e.g. experiments/emoji/runs/e20-limoe-s?');
  process.exit(2);
}
await initBackend({ backend: 'wasm' });

async function batchesOf(model, tokenizer, itm) {
  const source = await openImageCaptionSource({
    path: join(here, 'data', 'twemoji-pairs.jsonl'),
    preprocess: { ...itm.preprocess, channels: model.config.channels },
    seed: 0,
    loop: false,
    shuffle: false,
  });
  const batches = [];
  try {
    for (let b = await source.next(64); b !== null; b = await source.next(64)) {
      batches.push(captionBatchTensors(b, tokenizer, model.config.contextLength, 'diagonal'));
    }
  } finally {
    await source.close();
  }
  return batches;
}

const runs = [];
for (const dir of dirs) {
  const name = basename(dir);
  const { model, tokenizer, metadata } = await loadLIMoE(join(dir, 'model.safetensors'));
  const itm = new LIMoEImageTextModel(model, tokenizer, metadata, { name });
  const batches = await batchesOf(model, tokenizer, itm);
  const dropless = analyzeRouting(model, batches, { evalRouting: { mode: 'dropless' } });
  const capacity = analyzeRouting(model, batches, {
    evalRouting: { mode: 'capacity', capacityFactor: 1.05 },
  });
  tf.dispose(batches.map((b) => [b.images, b.text.ids, b.text.mask]).flat());
  const log = readFileSync(join(dir, 'checkpoints', 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.routingSuccessImage != null);
  const last = log.slice(-60);
  const avg = (k) => last.reduce((a, r) => a + r[k], 0) / last.length;
  runs.push({
    run: name,
    seed: Number(/-s(\d+)$/.exec(name)?.[1]),
    pairs: dropless.pairs,
    training: {
      steps: `${last[0].step}–${last.at(-1).step}`,
      routingSuccessImage: avg('routingSuccessImage'),
      routingSuccessText: avg('routingSuccessText'),
    },
    layers: dropless.layers.map((l, i) => ({
      block: l.block,
      expertModalityUsage: l.expertModalityUsage,
      imageShareByExpert: l.imageShareByExpert,
      routingSuccessAtCf105: {
        image: capacity.layers[i].routingSuccessImage,
        text: capacity.layers[i].routingSuccessText,
      },
    })),
  });
  console.log(`${name}: ${dropless.pairs} pairs`);
  model.dispose();
}
writeFileSync(join(docs, 'routing.json'), JSON.stringify({ data: 'twemoji', runs }, null, 2) + '\n');

// Figure: per seed and MoE layer, each expert's share of image tokens (0 = text-only, 1 = image-only).
const cell = 30;
const rows = runs.flatMap((r) => r.layers.map((l) => ({ label: `seed ${r.seed}, block ${l.block}`, l })));
const E = rows[0].l.imageShareByExpert.length;
const left = 120;
const top = 40;
const width = Math.max(left + E * cell + 20, 560);
const height = top + rows.length * cell + 40;
const colour = (s) => {
  if (s == null) return 'rgb(230,230,230)';
  const a = [214, 96, 77];
  const b = [67, 147, 195];
  return `rgb(${a.map((v, i) => Math.round(v * (1 - s) + b[i] * s)).join(',')})`;
};
const svg = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
  `<rect width="${width}" height="${height}" fill="white"/>`,
  `<text x="8" y="18" font-size="13" font-weight="bold">LIMoE on Twemoji: share of image tokens per expert</text>`,
  ...Array.from(
    { length: E },
    (_, e) => `<text x="${left + e * cell + cell / 2}" y="${top - 4}" text-anchor="middle">e${e}</text>`,
  ),
  ...rows.flatMap(({ label, l }, r) => [
    `<text x="${left - 6}" y="${top + r * cell + cell / 2 + 4}" text-anchor="end">${label}</text>`,
    ...l.imageShareByExpert.map(
      (s, e) =>
        `<rect x="${left + e * cell}" y="${top + r * cell}" width="${cell - 1}" height="${cell - 1}" fill="${colour(s)}"><title>e${e}: ${s == null ? 'no tokens' : `${(100 * s).toFixed(1)}% image`}</title></rect>`,
    ),
  ]),
  `<text x="8" y="${height - 12}">red: text tokens only · blue: image tokens only (dropless routing, all ${runs[0].pairs} pairs)</text>`,
  '</svg>',
];
writeFileSync(join(docs, 'specialisation.svg'), svg.join('\n') + '\n');
console.log('wrote docs/experiments/emoji/routing.json and specialisation.svg');
