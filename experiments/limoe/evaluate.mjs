// Evaluates trained LIMoE-family runs on the official Fashion-MNIST test set (10,000 images) with the six
// held-out templates, through the library's evaluation path (runZeroShotEval: torch.topk ranking, dropless
// routing), analyses the routing of MoE variants on test pairs, and writes one summary per run — metrics,
// the top-1 class of every test image (so paired statistics can be recomputed), training facts — to
// <run>/summary.json and docs/experiments/limoe/runs/<run>.json (committed).
//   node experiments/limoe/evaluate.mjs experiments/limoe/runs/cmp-470-*
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@moevl/core';
import {
  EVAL_TEMPLATES,
  FASHION_CAPTION_NAMES,
  LIMoEImageTextModel,
  analyzeRouting,
  imageTensor,
  loadLIMoE,
  writeRoutingAnalysis,
} from '@moevl/limoe';
import { fillTemplate, grayscaleSource, loadFashionMnist, runZeroShotEval } from '@moevl/vision';

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error('usage: node experiments/limoe/evaluate.mjs RUN_DIR...');
  process.exit(2);
}
const backend = await initBackend();
const test = await loadFashionMnist({ split: 'test' });
const source = grayscaleSource(test, 'fashion-mnist-test');
const docs = new URL('../../docs/experiments/limoe/runs/', import.meta.url).pathname;
mkdirSync(docs, { recursive: true });

/** Test pairs for the routing analysis: images with held-out-template captions, packed as in training. */
function* pairs(tokenizer, contextLength) {
  const data = { images: test.images, labels: test.labels, count: test.count, side: 28 };
  for (let s = 0; s < 2000; s += 250) {
    const idx = Array.from({ length: 250 }, (_, i) => ((s + i) * 5) % test.count);
    const texts = idx.map((i, r) =>
      fillTemplate(EVAL_TEMPLATES[r % EVAL_TEMPLATES.length], FASHION_CAPTION_NAMES[test.labels[i]]),
    );
    const enc = tokenizer.encodeBatch(texts, { contextLength });
    yield {
      images: imageTensor(data, idx),
      text: {
        ids: tf.tensor2d(enc.ids, [idx.length, contextLength], 'int32'),
        mask: tf.tensor2d(enc.mask, [idx.length, contextLength]),
        eotIndex: enc.eotIndex,
      },
    };
  }
}

const layerMeans = (analysis) => {
  const mean = (xs) => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  return {
    image: mean(analysis.layers.map((l) => l.routingSuccessImage).filter((v) => v != null)),
    text: mean(analysis.layers.map((l) => l.routingSuccessText).filter((v) => v != null)),
  };
};

/** Step time summed over the whole run from its log (a resumed run's train.json covers only its last part). */
function stepSeconds(dir) {
  try {
    const lines = readFileSync(join(dir, 'checkpoints', 'log.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const steps = lines.map((l) => JSON.parse(l)).filter((r) => typeof r.ms === 'number');
    return { steps: steps.length, seconds: steps.reduce((a, r) => a + r.ms, 0) / 1000 };
  } catch {
    return null;
  }
}

for (const dir of dirs) {
  const name = basename(dir);
  const train = { ...JSON.parse(readFileSync(join(dir, 'train.json'), 'utf8')), stepTime: stepSeconds(dir) };
  const { model, tokenizer, metadata } = await loadLIMoE(join(dir, 'model.safetensors'));
  const itm = new LIMoEImageTextModel(model, tokenizer, metadata, { name });
  const t0 = Date.now();
  const result = await runZeroShotEval({
    model: itm,
    modelId: name,
    source,
    classNames: [...FASHION_CAPTION_NAMES],
    templates: [...EVAL_TEMPLATES],
    templatesName: 'limoe held-out',
    batchSize: 500,
    cacheDir: null,
  });
  const evalSeconds = (Date.now() - t0) / 1000;
  // Top-1 class per test image in the official order: 10 classes, so one digit each.
  const byIndex = new Array(test.count);
  for (const p of result.predictions) byIndex[p.index] = p.top[0].class;
  let routing = null;
  if (model.moeBlocks.length > 0) {
    // Where tokens go (dropless), and how many would survive at the training capacity factor.
    const dropless = analyzeRouting(model, pairs(tokenizer, model.config.contextLength));
    const atTraining = analyzeRouting(model, pairs(tokenizer, model.config.contextLength), {
      evalRouting: { mode: 'capacity', capacityFactor: 1.05 },
    });
    await writeRoutingAnalysis(dir, dropless, `${train.variant} on Fashion-MNIST`);
    routing = {
      layers: dropless.layers.map((l) => ({ block: l.block, imageShareByExpert: l.imageShareByExpert })),
      successAtTrainingCapacity: layerMeans(atTraining),
      successAtTrainingCapacityByLayer: atTraining.layers.map((l) => ({
        block: l.block,
        image: l.routingSuccessImage,
        text: l.routingSuccessText,
      })),
    };
  }
  const summary = {
    run: name,
    variant: train.variant,
    seed: train.seed,
    steps: train.steps,
    train,
    evaluation: {
      dataset: 'fashion-mnist official test set (10,000 images)',
      templates: 'limoe held-out (6)',
      evalRouting: result.routing?.evalRouting ?? null,
      routingSuccessRate: result.routing?.routingSuccessRate ?? null,
      warnings: result.warnings,
      seconds: evalSeconds,
      backend: backend.backend,
    },
    metrics: {
      top1: result.metrics.top1,
      top5: result.metrics.top5,
      meanPerClassRecall: result.metrics.meanPerClassRecall,
    },
    routing,
    top1Classes: byIndex.join(''),
  };
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  writeFileSync(join(docs, `${name}.json`), JSON.stringify(summary) + '\n');
  console.log(
    `${name}: top-1 ${(100 * result.metrics.top1).toFixed(2)}%, top-5 ${(100 * result.metrics.top5).toFixed(2)}%` +
      (routing
        ? `; routing success at cf 1.05 image ${routing.successAtTrainingCapacity.image?.toFixed(3)} text ${routing.successAtTrainingCapacity.text?.toFixed(3)}`
        : ''),
  );
  itm.dispose();
}
