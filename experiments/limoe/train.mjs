// LIMoE on Fashion-MNIST: trains one variant on the official training set (60,000 images) and writes the
// model file and train.json (time, loss, training-time routing). evaluate.mjs scores the model on the
// official test set with held-out templates, through the same evaluation path as `zero-shot eval`.
//
//   node experiments/limoe/train.mjs --variant limoe --steps 1400 --out experiments/limoe/runs/limoe-s0
//   variants: limoe | dense | limoe-no-entropy | two-tower
// Resume an interrupted run by repeating the command with --resume.
import { initBackend, matmulPath } from '@moevl/core';
import {
  FASHION_CAPTION_NAMES,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  LIMOE_VARIANTS,
  limoeVariantConfig,
  saveLIMoE,
  trainLIMoE,
} from '@moevl/limoe';
import { loadFashionMnist } from '@moevl/vision';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    variant: { type: 'string', default: 'limoe' },
    steps: { type: 'string', default: '1400' },
    batch: { type: 'string', default: '128' },
    lr: { type: 'string', default: '1e-3' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string' },
    resume: { type: 'boolean', default: false },
    positives: { type: 'string', default: 'same-class' },
    'train-per-class': { type: 'string' },
    patch: { type: 'string', default: '7' },
    'fashion-mnist-dir': { type: 'string' },
  },
});
const variant = values.variant;
const out = values.out ?? `experiments/limoe/runs/${variant}-s${values.seed}`;
mkdirSync(out, { recursive: true });
const backend = await initBackend();
console.error(`backend ${backend.backend}; variant ${variant}; out ${out}`);

if (!LIMOE_VARIANTS.includes(variant))
  throw new Error(`unknown --variant ${variant}; use ${LIMOE_VARIANTS.join(', ')}`);
// The variants are equal in compute per token: dense MLP width = expert width, top-1 routing.
const config = { ...limoeVariantConfig(variant, Number(values.seed)), patchSize: Number(values.patch) };

const perClass = values['train-per-class'] ? Number(values['train-per-class']) : undefined;
const train = await loadFashionMnist({ split: 'train', perClass, dir: values['fashion-mnist-dir'] });
const data = { images: train.images, labels: train.labels, count: train.count, side: 28 };
const t0 = Date.now();
const result = await trainLIMoE({
  config,
  data,
  classNames: FASHION_CAPTION_NAMES,
  steps: Number(values.steps),
  batchSize: Number(values.batch),
  peakLr: Number(values.lr),
  seed: Number(values.seed),
  positives: values.positives,
  dir: join(out, 'checkpoints'),
  checkpointEvery: 100,
  resume: values.resume,
});
const trainSeconds = (Date.now() - t0) / 1000;
const modelPath = join(out, 'model.safetensors');
await saveLIMoE(modelPath, result.model, result.tokenizer, {
  imageMean: FASHION_MNIST_MEAN,
  imageStd: FASHION_MNIST_STD,
  trainedOn: `fashion-mnist official train (${train.count} images), ${variant}, ${values.steps} steps`,
});
const last = result.run.records[result.run.records.length - 1] ?? {};
// Routing success of the training batches (packed image+text groups at the training capacity factor),
// averaged over the last 50 steps of this call.
const tail = result.run.records.slice(-50);
const meanOf = (key) => {
  const v = tail.map((r) => r[key]).filter((x) => typeof x === 'number');
  return v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : null;
};
const summary = {
  variant,
  seed: Number(values.seed),
  steps: Number(values.steps),
  batch: Number(values.batch),
  positives: values.positives,
  trainImages: train.count,
  trainSeconds,
  resumedFromStep: result.run.resumedFrom?.step ?? null,
  tokensPerSecond: result.tokensPerSecond,
  gflopsPerSecond: result.gflopsPerSecond,
  finalLoss: last.loss ?? null,
  trainRoutingSuccessImage: meanOf('routingSuccessImage'),
  trainRoutingSuccessText: meanOf('routingSuccessText'),
  parameters: result.model.countParams(),
  backend: backend.backend,
  matmul: matmulPath().name,
};
writeFileSync(join(out, 'train.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(JSON.stringify(summary, null, 2));
result.model.dispose();
