import * as tf from '@tensorflow/tfjs';
import { type BackendReport, initBackend } from '@moevl/core';
import {
  BUILTIN_MODEL_CATALOG,
  type BuiltinModelEntry,
  type ImageTokenRouting,
  LIMoEImageTextModel,
  type TextTokenRouting,
  imagesForModel,
  parseLIMoE,
  routeImageTokens,
  routeTextTokens,
} from '@moevl/limoe';
import {
  type PilImage,
  type ZeroShotClassifier,
  type ZeroShotLabel,
  fillTemplate,
  preprocessPilImage,
  zeroShotClassifier,
} from '@moevl/vision';

/**
 * The page's model side, DOM-free: the shipped LIMoE checkpoint loaded from the page's own server, and for
 * an image and class names the zero-shot labels (the library's one-call classifier, the CLI's `classify`)
 * and the routing of the image's patches and of one prompt per class.
 */

export const MODEL_NAME = 'limoe-fashion-mnist';

export interface ExplorerResult {
  /** Every class, best first, as `zero-shot classify --json` lists them. */
  labels: ZeroShotLabel[];
  /** The model's input `[C, H, W]` (normalised), which the patches cut up. */
  input: { data: Float32Array; shape: [number, number, number] };
  image: ImageTokenRouting;
  /** One prompt per class, with `template`. */
  texts: TextTokenRouting[];
  milliseconds: number;
}

export interface Explorer {
  readonly entry: BuiltinModelEntry;
  readonly model: LIMoEImageTextModel;
  readonly backend: BackendReport;
  classify(image: PilImage, classNames: readonly string[], template: string): Promise<ExplorerResult>;
}

/** Starts the wasm backend and loads the checkpoint from `modelUrl` (a folder holding the model file). */
export async function loadExplorer(modelUrl: URL): Promise<Explorer> {
  const backend = await initBackend({ backend: 'wasm' });
  const entry = BUILTIN_MODEL_CATALOG.find((m) => m.name === MODEL_NAME);
  if (entry === undefined) throw new Error(`@moevl/limoe has no builtin model ${MODEL_NAME}.`);
  const url = new URL(entry.file, modelUrl);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
  const { model, tokenizer, metadata } = parseLIMoE(new Uint8Array(await response.arrayBuffer()), url.href);
  const adapter = new LIMoEImageTextModel(model, tokenizer, metadata, { name: `builtin:${entry.name}` });
  // The class embeddings are built once per class list; the last one is kept.
  let cached: { key: string; classify: ZeroShotClassifier } | undefined;
  return {
    entry,
    model: adapter,
    backend,
    async classify(image, classNames, template) {
      const start = performance.now();
      const key = JSON.stringify(classNames);
      if (cached?.key !== key) {
        cached?.classify.dispose();
        cached = undefined;
        cached = {
          key,
          classify: await zeroShotClassifier(adapter, { classNames, templates: entry.templates }),
        };
      }
      const { data, shape } = preprocessPilImage(image, adapter.preprocess);
      const pixels = tf.tensor3d(data, shape);
      try {
        const [ranked] = await cached.classify([pixels], { topK: classNames.length });
        if ('error' in ranked) throw new Error(ranked.error);
        const batch = tf.expandDims(pixels, 0) as tf.Tensor4D;
        const input = imagesForModel(adapter.model, batch);
        const [routed] = routeImageTokens(adapter.model, input, { evalRouting: adapter.evalRouting });
        const seen = {
          data: (await input.data()) as Float32Array,
          shape: input.shape.slice(1) as [number, number, number],
        };
        tf.dispose([batch, input]);
        const prompts = classNames.map((c) => fillTemplate(template, c));
        const texts = routeTextTokens(adapter.model, adapter.tokenizer, prompts, {
          evalRouting: adapter.evalRouting,
        });
        return {
          labels: ranked.labels,
          input: seen,
          image: routed,
          texts,
          milliseconds: performance.now() - start,
        };
      } finally {
        pixels.dispose();
      }
    },
  };
}

/** Class names from what a person typed: commas or new lines, trimmed, empty ones dropped. */
export function parseClassNames(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
