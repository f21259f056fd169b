// Scores trained runs of the emoji benchmark on the held-out style (Twemoji, never seen in training) and
// writes one summary per run — metrics, and every test item's outcome so paired statistics can be
// recomputed — to <run>/summary-twemoji.json and docs/experiments/emoji/runs/<run>.json (committed).
//
//   node experiments/emoji/evaluate.mjs experiments/emoji/runs/e20-*-s? experiments/emoji/runs/untrained-*-s?
//
// The model goes through the library's ImageTextModel adapter (LIMoEImageTextModel: images and texts encoded
// alone, MoE layers dropless, so nothing depends on the batch); the Twemoji images through the library's
// evaluation transform (openImageCaptionSource without augmentation: resize to the model's size, centre crop,
// the model's mean/std), in file order.
// - Image→text retrieval: each of the N Twemoji images ranks all N emoji names (the captions of the eval
//   set); rank in torch.topk order (ties counted against the right caption, so a constant model is at chance).
//   Text→image likewise. Cross-checked against the library's clipRetrievalMetrics on the same embeddings.
// - Zero-shot classification by category (C = 10) and by subcategory (C = 99): class names from emoji.json,
//   made readable by prepare.mjs ("animal-mammal" → "animal mammal"); CLIP's prompt ensembling over TEMPLATES
//   (mean of the L2-normalised prompt embeddings, re-normalised); top-1 with ties to the lower class index.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@moevl/core';
import { LIMoEImageTextModel, loadLIMoE } from '@moevl/limoe';
import { clipRetrievalMetrics, openImageCaptionSource } from '@moevl/vision';

export const TEMPLATES = ['an emoji of {}.', 'a {} emoji.', '{}.'];

// --style noto scores the training style instead (the drawings seen in training, captions too): not the
// benchmark, only the size of the gap between the style trained on and the held-out one.
const args = process.argv.slice(2);
const style = args[0] === '--style' ? args[1] : 'twemoji';
const dirs = args[0] === '--style' ? args.slice(2) : args;
if (dirs.length === 0 || !['twemoji', 'noto'].includes(style)) {
  console.error('usage: node experiments/emoji/evaluate.mjs [--style twemoji|noto] RUN_DIR...');
  process.exit(2);
}
const PACKAGE = { twemoji: 'emoji-datasource-twitter', noto: 'emoji-datasource-google' };
const here = new URL('.', import.meta.url).pathname;
const data = join(here, 'data');
const meta = JSON.parse(readFileSync(join(data, 'meta.json'), 'utf8'));
const N = meta.emoji;
const backend = await initBackend();
const docs = new URL('../../docs/experiments/emoji/runs/', import.meta.url).pathname;
mkdirSync(docs, { recursive: true });

/** 0-based rank of column `target[i]` in row i of scores [rows, cols], torch.topk order. */
function ranksOf(scores, rows, cols, target) {
  const ranks = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const base = i * cols;
    const t = target(i);
    const own = scores[base + t];
    let rank = 0;
    for (let j = 0; j < cols; j++) {
      const v = scores[base + j];
      if (!Number.isFinite(v)) throw new Error(`score ${v} of row ${i}, column ${j} is not finite`);
      if (v > own || (v === own && j < t)) rank++;
    }
    ranks[i] = rank;
  }
  return ranks;
}
const rate = (bools) => bools.filter(Boolean).length / bools.length;
const argmax = (scores, i, cols) => {
  let best = 0;
  for (let j = 1; j < cols; j++) if (scores[i * cols + j] > scores[i * cols + best]) best = j;
  return best;
};

/** Class embeddings [C, D]: CLIP's ensemble over TEMPLATES. */
async function classEmbeddings(itm, names) {
  const per = [];
  for (const t of TEMPLATES) per.push(await itm.embedTexts(names.map((n) => t.replace('{}', n))));
  const out = tf.tidy(() => {
    const m = tf.addN(per).div(per.length);
    return m.div(tf.norm(m, 2, 1, true));
  });
  tf.dispose(per);
  return out;
}

async function evaluate(dir) {
  const name = basename(dir);
  const trainSummary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  const { model, tokenizer, metadata } = await loadLIMoE(join(dir, 'model.safetensors'));
  const itm = new LIMoEImageTextModel(model, tokenizer, metadata, { name });
  const t0 = Date.now();
  // Twemoji images, evaluation transform, file order (= meta order).
  const source = await openImageCaptionSource({
    path: join(data, `${style}-pairs.jsonl`),
    preprocess: { ...itm.preprocess, channels: model.config.channels },
    seed: 0,
    loop: false,
    shuffle: false,
  });
  const imageParts = [];
  const captions = [];
  for (;;) {
    const b = await source.next(256);
    if (b === null) break;
    const px = tf.tensor4d(b.pixels, b.shape);
    imageParts.push(await itm.embedImages(px));
    px.dispose();
    captions.push(...b.captions);
  }
  await source.close();
  if (captions.length !== N || captions.some((c, i) => c !== meta.captions[i]))
    throw new Error(
      `${name}: the ${style} pairs are not the ${N} of meta.json in order (skipped: ${JSON.stringify(source.skipped)})`,
    );
  const images = tf.concat(imageParts, 0);
  tf.dispose(imageParts);
  const texts = await itm.embedTexts(meta.captions);

  const s = tf.tidy(() => tf.matMul(images, texts, false, true));
  const scores = s.dataSync();
  s.dispose();
  const i2t = ranksOf(scores, N, N, (i) => i);
  // The caption each image ranks first (not zero-shot: a reference for how much of the taxonomy the image
  // embedding carries, through the category of that caption's emoji).
  const nearest = Array.from({ length: N }, (_, i) => argmax(scores, i, N));
  const st = tf.tidy(() => tf.matMul(texts, images, false, true));
  const t2i = ranksOf(st.dataSync(), N, N, (i) => i);
  st.dispose();
  const lib = clipRetrievalMetrics(images, texts);

  const zeroShot = {};
  for (const [task, names, labels] of [
    ['category', meta.categories, meta.category],
    ['subcategory', meta.subcategories, meta.subcategory],
  ]) {
    const cls = await classEmbeddings(itm, names);
    const l = tf.tidy(() => tf.matMul(images, cls, false, true));
    const sc = l.dataSync();
    l.dispose();
    cls.dispose();
    const pred = Array.from({ length: N }, (_, i) => argmax(sc, i, names.length));
    const top1 = pred.reduce((a, p, i) => a + (p === labels[i] ? 1 : 0), 0) / N;
    // Mean per-class recall (balanced accuracy): a model that always says the majority class gets 1/C.
    const recall = names.map((_, c) => {
      const idx = labels.map((y, i) => (y === c ? i : -1)).filter((i) => i >= 0);
      return idx.filter((i) => pred[i] === c).length / idx.length;
    });
    zeroShot[task] = {
      classes: names.length,
      top1,
      meanPerClassRecall: recall.reduce((a, b) => a + b, 0) / recall.length,
      predictions: pred,
    };
  }
  tf.dispose([images, texts]);
  const evalSeconds = (Date.now() - t0) / 1000;
  const within = (r, k) => r.reduce((a, x) => a + (x < k ? 1 : 0), 0) / r.length;
  const i2tR1 = within(i2t, 1);
  if (
    Math.abs(i2tR1 - lib['image_to_text_R@1']) > 1e-12 ||
    Math.abs(within(t2i, 1) - lib['text_to_image_R@1']) > 1e-12
  )
    throw new Error(`${name}: own retrieval ranks disagree with clipRetrievalMetrics`);
  // Which captions and prompts the text context cuts (20 tokens).
  const truncated = (list) => (itm.tokenize ? itm.tokenize(list).truncated.filter(Boolean).length : null);
  const prompts = (names) => TEMPLATES.flatMap((t) => names.map((n) => t.replace('{}', n)));
  const m = /-s(\d+)$/.exec(name);
  const summary = {
    run: name,
    config: basename(String(trainSummary.config)),
    variant: name.replace(/^e\d+-/, '').replace(/-s\d+$/, ''),
    seed: m ? Number(m[1]) : null,
    // The CLI's summary.json, without its local paths.
    train: {
      ...trainSummary,
      model: undefined,
      files: undefined,
      config: basename(String(trainSummary.config)),
    },
    evaluation: {
      style,
      data:
        `${style} (${PACKAGE[style]} ${meta.packages[PACKAGE[style]]}), ${N} emoji` +
        (style === 'twemoji' ? ', never seen in training' : ', the training images (evaluation transform)'),
      templates: TEMPLATES,
      evalRouting: itm.routing?.report().evalRouting ?? null,
      routingSuccessRate: itm.routing?.report().routingSuccessRate ?? null,
      truncated: {
        captions: truncated(meta.captions),
        categoryPrompts: truncated(prompts(meta.categories)),
        subcategoryPrompts: truncated(prompts(meta.subcategories)),
      },
      seconds: evalSeconds,
      backend: backend.backend,
      pixelsSha256: meta.pixelsSha256,
    },
    metrics: {
      'image_to_text_R@1': i2tR1,
      'image_to_text_R@5': within(i2t, 5),
      'image_to_text_R@10': within(i2t, 10),
      image_to_text_mean_rank: i2t.reduce((a, b) => a + b, 0) / N + 1,
      'text_to_image_R@1': within(t2i, 1),
      'text_to_image_R@5': within(t2i, 5),
      category_top1: zeroShot.category.top1,
      category_meanPerClassRecall: zeroShot.category.meanPerClassRecall,
      subcategory_top1: zeroShot.subcategory.top1,
      subcategory_meanPerClassRecall: zeroShot.subcategory.meanPerClassRecall,
      category_viaNearestCaption: rate(nearest.map((j, i) => meta.category[j] === meta.category[i])),
      subcategory_viaNearestCaption: rate(nearest.map((j, i) => meta.subcategory[j] === meta.subcategory[i])),
    },
    libraryRetrieval: lib,
    perItem: {
      imageToTextRank: Array.from(i2t),
      categoryPrediction: zeroShot.category.predictions,
      subcategoryPrediction: zeroShot.subcategory.predictions,
      nearestCaption: nearest,
    },
  };
  writeFileSync(join(dir, `summary-${style}.json`), JSON.stringify(summary, null, 2) + '\n');
  writeFileSync(
    join(docs, style === 'twemoji' ? `${name}.json` : `${name}.noto.json`),
    JSON.stringify(summary) + '\n',
  );
  const pc = (x) => `${(100 * x).toFixed(2)}%`;
  console.log(
    `${name} on ${style}: i→t R@1 ${pc(i2tR1)} R@5 ${pc(within(i2t, 5))}; category ${pc(zeroShot.category.top1)}, ` +
      `subcategory ${pc(zeroShot.subcategory.top1)} (${evalSeconds.toFixed(1)} s)`,
  );
  await itm.dispose();
}

// What the report needs of the benchmark itself (data/ is not committed): counts, class names, labels.
writeFileSync(join(docs, '..', 'benchmark.json'), JSON.stringify(meta) + '\n');
for (const dir of dirs) await evaluate(dir);
