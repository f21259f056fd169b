// LIMoE on Fashion-MNIST: trains one variant, evaluates zero-shot on the 10,000 test images with prompt
// templates never used as training captions, and writes the model file and a JSON summary.
//
//   node experiments/limoe/train.mjs --variant limoe --steps 1400 --out experiments/limoe/runs/limoe-s0
//   variants: limoe | dense | limoe-no-entropy | two-tower
// Resume an interrupted run by repeating the command with --resume.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@moevl/core';
import {
  EVAL_TEMPLATES,
  FASHION_CAPTION_NAMES,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  LIMOE_VARIANTS,
  LIMoEImageTextModel,
  limoeVariantConfig,
  imageTensor,
  saveLIMoE,
  trainLIMoE,
} from '@moevl/limoe';
import { buildZeroShotClassifier, evaluateZeroShot, loadFashionMnist } from '@moevl/vision';
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
const train = await loadFashionMnist({ split: 'train', perClass });
const test = await loadFashionMnist({ split: 'test' });
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
  trainedOn: `fashion-mnist train (${train.count} images), ${variant}, ${values.steps} steps`,
});

// Zero-shot on the test split with the held-out templates.
const itm = new LIMoEImageTextModel(result.model, result.tokenizer, {
  imageMean: FASHION_MNIST_MEAN,
  imageStd: FASHION_MNIST_STD,
});
const e0 = Date.now();
const classifier = await buildZeroShotClassifier(itm, FASHION_CAPTION_NAMES, EVAL_TEMPLATES);
const testData = { images: test.images, labels: test.labels, count: test.count, side: 28 };
function* batches() {
  for (let s = 0; s < test.count; s += 500) {
    const idx = Array.from({ length: Math.min(500, test.count - s) }, (_, i) => s + i);
    yield { pixels: imageTensor(testData, idx), labels: idx.map((i) => test.labels[i]) };
  }
}
const metrics = await evaluateZeroShot(itm, classifier, batches());
const evalSeconds = (Date.now() - e0) / 1000;

// Routing on test pairs (eval templates as captions): per-modality success and expert usage per layer.
const last = result.run.records[result.run.records.length - 1] ?? {};
const summary = {
  variant,
  seed: Number(values.seed),
  steps: Number(values.steps),
  batch: Number(values.batch),
  positives: values.positives,
  trainSeconds,
  evalSeconds,
  tokensPerSecond: result.tokensPerSecond,
  gflopsPerSecond: result.gflopsPerSecond,
  zeroShot: { top1: metrics.top1, top5: metrics.top5, meanPerClassRecall: metrics.meanPerClassRecall },
  finalLoss: last.loss,
  routingSuccessImage: last.routingSuccessImage ?? null,
  routingSuccessText: last.routingSuccessText ?? null,
  parameters: result.model.countParams(),
  backend: backend.backend,
};
writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(JSON.stringify(summary, null, 2));
classifier.dispose();
itm.dispose();
void tf;
