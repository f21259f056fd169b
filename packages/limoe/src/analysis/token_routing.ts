import * as tf from '@tensorflow/tfjs';
import type { EvalRouting } from '@moevl/core';
import type { MoELayer, RoutingEvent, RoutingObserver } from '@moevl/router';
import type { EncodeContext, EncodedTower, LIMoEModel } from '../model/limoe_model.js';
import { encodedBatchToTensors } from '../tokenizer/tensors.js';
import type { TextTokenizer } from '../tokenizer/text_tokenizer.js';

/**
 * Where each token of one image or one text went in every MoE layer: the per-token view of the routing that
 * `analyzeRouting` sums over a dataset (what the routing explorer paints over image patches and text tokens).
 * Images and texts are encoded alone, as zero-shot classification encodes them, so this is the routing that
 * produced their embeddings.
 */

/** One token's choices in one MoE layer, best first: the expert (−1 where the choice was dropped) and its weight. */
export interface TokenChoices {
  experts: number[];
  weights: number[];
}

/** One MoE layer's routing of one sequence. */
export interface LayerTokenRouting {
  /** Index of the transformer block whose MLP is this MoE layer. */
  block: number;
  numExperts: number;
  /** One entry per token of the sequence. */
  tokens: TokenChoices[];
}

export interface ImageTokenRouting {
  /** Patch grid `[rows, columns]`: token `i` is the patch in row `⌊i / columns⌋`, column `i mod columns`. */
  grid: [number, number];
  /** Patch side in pixels of the model's input. */
  patchSize: number;
  layers: LayerTokenRouting[];
}

export interface TextTokenRouting {
  text: string;
  /** The tokens the text tower read, `<sot>` and `<eot>` included (cut to the text context). */
  ids: number[];
  /** Each token as text: the tokenizer's `decode` of it alone, `<sot>` and `<eot>` by name. */
  pieces: string[];
  layers: LayerTokenRouting[];
}

export interface TokenRoutingOptions {
  /** How the MoE layers route; default dropless, as zero-shot evaluation does. */
  evalRouting?: EvalRouting;
}

/** Runs one forward pass with `onRouting` and returns, per example of the batch, its layers' routing. */
function observe(
  model: LIMoEModel,
  examples: number,
  run: (ctx: EncodeContext) => EncodedTower,
  options: TokenRoutingOptions,
): LayerTokenRouting[][] {
  const blockOf = new Map<unknown, number>(model.blocks.map((b, i) => [b.mlp, i]));
  const out: LayerTokenRouting[][] = Array.from({ length: examples }, () => []);
  const onRouting: RoutingObserver = ({
    layer,
    start,
    examples: n,
    tokensPerExample: t,
    routing,
  }: RoutingEvent) => {
    if (routing.kind !== 'sparse') {
      throw new Error(
        `routing of ${(layer as MoELayer).routerName}: soft routing sends no token to one expert.`,
      );
    }
    const k = routing.expertIndex.shape[1];
    const [experts, position, weights] = [routing.expertIndex, routing.position, routing.combineWeights].map(
      (x) => x.dataSync(),
    );
    for (let x = 0; x < n; x++) {
      const tokens = Array.from({ length: t }, (_, token) => {
        const first = (x * t + token) * k;
        const choices = Array.from({ length: k }, (_, j) => first + j);
        return {
          experts: choices.map((i) => (position[i] < 0 ? -1 : experts[i])),
          weights: choices.map((i) => weights[i]),
        };
      });
      out[start + x].push({ block: blockOf.get(layer) ?? -1, numExperts: layer.numExperts, tokens });
    }
  };
  const ctx: EncodeContext & { onRouting: RoutingObserver } = {
    training: false,
    evalRouting: options.evalRouting,
    onRouting,
  };
  const encoded = run(ctx);
  tf.dispose([encoded.embeddings, ...Object.values(encoded.auxLosses)]);
  return out.map((layers) => layers.sort((a, b) => a.block - b.block));
}

/** Which expert each patch of each image went to, per MoE layer; `images` as the model reads them. */
export function routeImageTokens(
  model: LIMoEModel,
  images: tf.Tensor4D,
  options: TokenRoutingOptions = {},
): ImageTokenRouting[] {
  const side = model.config.imageSize / model.config.patchSize;
  return observe(model, images.shape[0], (ctx) => model.encodeImages(images, ctx), options).map((layers) => ({
    grid: [side, side],
    patchSize: model.config.patchSize,
    layers,
  }));
}

/** Which expert each token of each text went to, per MoE layer (padding left out). */
export function routeTextTokens(
  model: LIMoEModel,
  tokenizer: Pick<TextTokenizer, 'encodeBatch' | 'decode' | 'sotId' | 'eotId'>,
  texts: readonly string[],
  options: TokenRoutingOptions = {},
): TextTokenRouting[] {
  const L = model.config.contextLength;
  const batch = tokenizer.encodeBatch(texts, { contextLength: L });
  const t = encodedBatchToTensors(batch);
  let routed: LayerTokenRouting[][];
  try {
    routed = observe(
      model,
      texts.length,
      (ctx) => model.encodeTexts({ ids: t.ids, mask: t.mask, eotIndex: batch.eotIndex }, ctx),
      options,
    );
  } finally {
    tf.dispose([t.ids, t.mask, t.eotIndex]);
  }
  const piece = (id: number) =>
    id === tokenizer.sotId ? '<sot>' : id === tokenizer.eotId ? '<eot>' : tokenizer.decode([id]);
  return texts.map((text, r) => {
    const n = batch.lengths[r];
    const ids = Array.from(batch.ids.subarray(r * L, r * L + n));
    const layers = routed[r].map((l) => ({ ...l, tokens: l.tokens.slice(0, n) }));
    return { text, ids, pieces: ids.map(piece), layers };
  });
}
