import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '@moevl/core';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultLIMoEConfig } from '../model/config.js';
import { LIMoEModel } from '../model/limoe_model.js';
import { analyzeRouting, writeRoutingAnalysis } from './routing_analysis.js';

const dir = await mkdtemp(join(tmpdir(), 'moevl-routing-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
beforeAll(() => useBackend('wasm'));

it('counts each modality per expert per MoE layer and writes JSON, SVG and PNG', async () => {
  const model = new LIMoEModel(
    defaultLIMoEConfig({
      imageSize: 8,
      patchSize: 4,
      dim: 16,
      depth: 4,
      numHeads: 2,
      embedDim: 8,
      vocabSize: 20,
      contextLength: 5,
      moe: { numExperts: 4, every: 2 },
    }),
  );
  const ids = [
    [1, 5, 6, 2, 0],
    [1, 7, 2, 0, 0],
  ];
  const batch = () => ({
    images: tf.randomNormal([2, 1, 8, 8], 0, 1, 'float32', 1) as tf.Tensor4D,
    text: {
      ids: tf.tensor2d(ids, undefined, 'int32'),
      mask: tf.tensor2d(ids.map((r) => r.map((v, j) => (j === 0 || v !== 0 ? 1 : 0)))),
      eotIndex: [3, 2],
    },
  });
  const analysis = analyzeRouting(model, [batch(), batch()]);
  expect(analysis.pairs).toBe(4);
  expect(analysis.layers.map((l) => l.block)).toEqual([1, 3]);
  for (const layer of analysis.layers) {
    // 2 batches × (2 images × 4 patches) image tokens and 2 × (4 + 3) real text tokens, top-1, cf 2: no drops.
    expect(layer.expertModalityUsage[0].reduce((a, b) => a + b)).toBe(16);
    expect(layer.expertModalityUsage[1].reduce((a, b) => a + b)).toBe(14);
    expect(layer.imageShareByExpert.every((s) => s == null || (s >= 0 && s <= 1))).toBe(true);
    expect(layer.routingSuccessText).toBe(1);
  }
  const files = await writeRoutingAnalysis(dir, analysis);
  expect(files).toHaveLength(5);
  expect(JSON.parse(await readFile(join(dir, 'routing.json'), 'utf8')).layers).toHaveLength(2);
  const meta = await sharp(join(dir, 'routing-block1.png')).metadata();
  expect(meta.format).toBe('png');
  model.dispose();
});
