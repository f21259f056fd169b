import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@moevl/core';
import { loadFashionMnist } from '@moevl/vision';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resolveBuiltinModel } from '../io/builtin.js';
import { type LoadedLIMoE, loadLIMoE } from '../io/limoe_checkpoint.js';
import { imageTensor } from '../train/pair_data.js';
import { routeImageTokens, routeTextTokens } from './token_routing.js';

let loaded: LoadedLIMoE;
let images: tf.Tensor4D;
beforeAll(async () => {
  await useBackend('wasm');
  loaded = await loadLIMoE(resolveBuiltinModel('limoe-fashion-mnist').path);
  const test = await loadFashionMnist({ split: 'test', perClass: 1 });
  images = imageTensor({ ...test, side: 28 }, [0, 1, 2]);
});
afterAll(() => {
  images.dispose();
  loaded.model.dispose();
});

/** Same experts for every token in every layer, and the same weights to 1e-6 (float32 rounding). */
function expectSameRouting(
  a: { layers: { tokens: { experts: number[]; weights: number[] }[] }[] },
  b: { layers: { tokens: { experts: number[]; weights: number[] }[] }[] },
): void {
  const experts = (r: typeof a) => r.layers.map((l) => l.tokens.map((t) => t.experts));
  expect(experts(a)).toEqual(experts(b));
  expect({ ...a, layers: null }).toEqual({ ...b, layers: null });
  a.layers.forEach((layer, l) =>
    layer.tokens.forEach((t, i) =>
      t.weights.forEach((w, j) => expect(Math.abs(w - b.layers[l].tokens[i].weights[j])).toBeLessThan(1e-6)),
    ),
  );
}

it("names each patch's expert in every MoE layer, as the router's own counts say", () => {
  const { model } = loaded;
  const routed = routeImageTokens(model, images);
  expect(routed).toHaveLength(3);
  expect(routed[0].grid).toEqual([4, 4]);
  expect(routed[0].layers.map((l) => l.block)).toEqual(model.moeBlocks);
  for (const layer of routed[0].layers) {
    expect(layer.tokens).toHaveLength(16);
    // Top-1, dropless: one kept choice per patch.
    expect(layer.tokens.every((t) => t.experts.length === 1 && t.experts[0] >= 0 && t.experts[0] < 8)).toBe(
      true,
    );
  }
  // The per-token view adds up to the usage the MoE layer reports for the same forward pass.
  const out = model.encodeImages(images, { training: false });
  for (const [b, block] of model.moeBlocks.entries()) {
    const counts = new Array(8).fill(0);
    for (const image of routed) for (const t of image.layers[b].tokens) counts[t.experts[0]]++;
    const usage = (out.metrics[`block${block}`] as { expertModalityUsage: number[][] })
      .expertModalityUsage[0];
    expect(counts).toEqual(usage);
  }
  tf.dispose([out.embeddings, ...Object.values(out.auxLosses)]);
  // Batch-independent: an image is routed alike alone or with others — the same experts exactly; the
  // weights to float32 rounding, since a BLAS may block a 1-image product differently from a 3-image one.
  const alone = tf.slice(images, [1, 0, 0, 0], [1, -1, -1, -1]);
  expectSameRouting(routeImageTokens(model, alone)[0], routed[1]);
  alone.dispose();
});

it("names each real token's expert, <sot> and <eot> included, padding left out", () => {
  const { model, tokenizer } = loaded;
  const [boot, bag] = routeTextTokens(model, tokenizer, ['a photo of an ankle boot.', 'a bag.']);
  expect(boot.pieces[0]).toBe('<sot>');
  expect(boot.pieces.at(-1)).toBe('<eot>');
  expect(boot.pieces.slice(1, -1).join(' ')).toMatch(/ankle/);
  for (const r of [boot, bag]) {
    expect(r.layers.map((l) => l.block)).toEqual(model.moeBlocks);
    for (const layer of r.layers) expect(layer.tokens).toHaveLength(r.ids.length);
  }
  expect(bag.ids.length).toBeLessThan(boot.ids.length);
  expectSameRouting(routeTextTokens(model, tokenizer, ['a bag.'])[0], bag);
});
