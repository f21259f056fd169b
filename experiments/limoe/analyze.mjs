// Routing analysis of a trained LIMoE model file on Fashion-MNIST test pairs (test images with captions from
// the held-out evaluation templates): per MoE layer, the modality × expert usage and per-modality routing
// success, written as routing.json and routing-block<i>.{svg,png} next to the model.
//   node experiments/limoe/analyze.mjs experiments/limoe/runs/limoe-s0
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@moevl/core';
import {
  EVAL_TEMPLATES,
  FASHION_CAPTION_NAMES,
  analyzeRouting,
  imageTensor,
  loadLIMoE,
  writeRoutingAnalysis,
} from '@moevl/limoe';
import { fillTemplate, loadFashionMnist } from '@moevl/vision';
import { join } from 'node:path';

const runDir = process.argv[2];
if (!runDir) {
  console.error('usage: node experiments/limoe/analyze.mjs <run dir with model.safetensors>');
  process.exit(2);
}
await initBackend();
const { model, tokenizer } = await loadLIMoE(join(runDir, 'model.safetensors'));
const test = await loadFashionMnist({ split: 'test' });
const data = { images: test.images, labels: test.labels, count: test.count, side: 28 };
const L = model.config.contextLength;
function* batches() {
  for (let s = 0; s < 2000; s += 250) {
    const idx = Array.from({ length: 250 }, (_, i) => ((s + i) * 5) % test.count);
    const texts = idx.map((i, r) =>
      fillTemplate(EVAL_TEMPLATES[r % EVAL_TEMPLATES.length], FASHION_CAPTION_NAMES[test.labels[i]]),
    );
    const enc = tokenizer.encodeBatch(texts, { contextLength: L });
    yield {
      images: imageTensor(data, idx),
      text: {
        ids: tf.tensor2d(enc.ids, [idx.length, L], 'int32'),
        mask: tf.tensor2d(enc.mask, [idx.length, L]),
        eotIndex: enc.eotIndex,
      },
    };
  }
}
const analysis = analyzeRouting(model, batches());
const files = await writeRoutingAnalysis(runDir, analysis, 'LIMoE on Fashion-MNIST');
for (const l of analysis.layers) {
  console.log(
    `block ${l.block}: routing success image ${l.routingSuccessImage?.toFixed(3)} text ${l.routingSuccessText?.toFixed(3)}; image share per expert ${l.imageShareByExpert.map((s) => (s == null ? '–' : s.toFixed(2))).join(' ')}`,
  );
}
console.log('wrote', files.join(', '));
