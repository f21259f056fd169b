import * as tf from '@tensorflow/tfjs';
import { initBackend, l2Normalize } from '@moevl/core';
import {
  type EvalSource,
  type ImageTextModel,
  VisionTransformer,
  type ZeroShotEvalResult,
  grayscaleSource,
  loadFashionMnist,
  mergeZeroShotResults,
  runZeroShotEval,
} from '@moevl/vision';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVAL_TEMPLATES, FASHION_CAPTION_NAMES } from '../train/captions.js';
import { resolveBuiltinModel } from './builtin.js';
import { LIMoEImageTextModel } from './limoe_image_text_model.js';
import { loadLIMoE } from './limoe_checkpoint.js';

/**
 * A model's prediction for an image may not depend on the batch size, the order of the data, the shard or
 * the other images of its batch (issue: trustworthy numbers). The official test set is ordered so that
 * neighbouring images are often of one class — the setting in which capacity-limited routing drops the
 * most tokens — and a tight capacity factor makes any dependence show.
 */

let source: EvalSource;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  source = grayscaleSource(await loadFashionMnist({ split: 'test', perClass: 24 }));
});

/** The same items in another order (a seeded permutation), so batches hold other companions. */
function permuted(inner: EvalSource, seed: number): EvalSource {
  const perm = Array.from({ length: inner.count }, (_, i) => i);
  for (let i = perm.length - 1, s = seed; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return {
    ...inner,
    labels: Int32Array.from(perm, (p) => inner.labels[p]),
    id: (i) => inner.id(perm[i]),
    async loadBatch(indices, preprocess) {
      const got = await inner.loadBatch(
        indices.map((i) => perm[i]),
        preprocess,
      );
      const back = new Map(perm.map((p, i) => [p, i]));
      return {
        ...got,
        loaded: got.loaded.map((p) => back.get(p)!),
        errors: got.errors.map((e) => ({ ...e, index: back.get(e.index)! })),
      };
    },
  };
}

/** Per image id: the ranked classes and the label's rank; scores must agree to 1e-5. */
function byId(r: ZeroShotEvalResult) {
  return new Map(r.predictions.map((p) => [p.id, p]));
}

function expectSamePredictions(a: ZeroShotEvalResult, b: ZeroShotEvalResult): void {
  const [pa, pb] = [byId(a), byId(b)];
  expect(pb.size).toBe(pa.size);
  for (const [id, p] of pa) {
    const q = pb.get(id)!;
    expect(
      q.top.map((t) => t.class),
      id,
    ).toEqual(p.top.map((t) => t.class));
    expect(q.rank, id).toBe(p.rank);
    q.top.forEach((t, i) => expect(Math.abs(t.score - p.top[i].score), id).toBeLessThan(1e-4));
  }
  expect(b.metrics).toEqual(a.metrics);
}

async function checkBatchIndependence(model: ImageTextModel, classNames: string[], templates: string[]) {
  const run = (extra: Record<string, unknown>) =>
    runZeroShotEval({
      model,
      modelId: model.name,
      source,
      classNames,
      templates,
      cacheDir: null,
      onWarning: () => {},
      ...extra,
    });
  const reference = await run({ batchSize: 32 });
  expect(reference.counts.evaluated).toBe(240);
  for (const batchSize of [1, 7, 128]) expectSamePredictions(reference, await run({ batchSize }));
  expectSamePredictions(reference, await run({ batchSize: 32, source: permuted(source, 7) }));
  const shards = [];
  for (let index = 0; index < 3; index++)
    shards.push(await run({ batchSize: 32, shard: { index, count: 3 } }));
  expectSamePredictions(reference, mergeZeroShotResults(shards));
  return reference;
}

describe('batch-independent MoE evaluation', () => {
  it('the shipped LIMoE: same predictions at batch 1, 7, 32, 128, shuffled, and as 3 merged shards', async () => {
    const m = resolveBuiltinModel('limoe-fashion-mnist');
    const { model, tokenizer, metadata } = await loadLIMoE(m.path);
    const itm = new LIMoEImageTextModel(model, tokenizer, metadata, { name: `builtin:${m.name}` });
    try {
      const r = await checkBatchIndependence(itm, [...FASHION_CAPTION_NAMES], [...EVAL_TEMPLATES]);
      expect(r.routing?.evalRouting).toEqual({ mode: 'dropless' });
      expect(r.routing?.routingSuccessRate.images).toBe(1);
      expect(r.warnings).toEqual([]); // every held-out prompt fits the text context
    } finally {
      itm.dispose();
    }
  }, 120_000);

  describe('a V-MoE image tower (top-2 routing, BPR, evaluation capacity factor 0.5)', () => {
    const vit = new VisionTransformer({
      imageSize: 28,
      patchSize: 7,
      inChannels: 1,
      dim: 32,
      depth: 2,
      numHeads: 2,
      seed: 3,
      moe: {
        numExperts: 4,
        every: 1,
        router: { name: 'top-k', options: { k: 2, evalCapacityFactor: 0.5, capacityMultipleOf: 1 } },
      },
    });
    /** Texts embed as seeded random directions: only the image side routes. */
    const model: ImageTextModel = {
      name: 'vmoe-test',
      embeddingDim: 32,
      logitScale: 100,
      preprocess: {
        size: 28,
        cropSize: 28,
        resizeMode: 'shortest',
        mean: [0.5, 0.5, 0.5],
        std: [0.5, 0.5, 0.5],
      },
      embedImages: async (pixels) =>
        tf.tidy(() => l2Normalize(vit.apply(tf.mean(pixels, 1, true)), -1) as tf.Tensor2D),
      embedTexts: async (texts) =>
        tf.tidy(
          () =>
            l2Normalize(
              tf.stack(
                texts.map((t) =>
                  tf.randomNormal(
                    [32],
                    0,
                    1,
                    'float32',
                    [...t].reduce((a, c) => a + c.charCodeAt(0), 0),
                  ),
                ),
              ),
              -1,
            ) as tf.Tensor2D,
        ),
      dispose: () => {},
    };
    afterAll(() => vit.dispose());

    it('gives the same predictions at batch 1, 7, 32, 128, shuffled, and as 3 merged shards', async () => {
      await checkBatchIndependence(model, [...FASHION_CAPTION_NAMES], ['a photo of a {}.']);
    }, 120_000);
  });
});
