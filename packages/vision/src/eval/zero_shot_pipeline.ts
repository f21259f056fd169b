import type { ImageTextModel } from '../model/image_text_model.js';
import { preprocessBatch } from '../preprocess/batch.js';
import { loadOrBuildClassifier } from './classifier_cache.js';
import {
  type ZeroShotClassifier,
  type ZeroShotImageResult,
  type ZeroShotInput,
  type ZeroShotPipelineOptions,
  type ZeroShotPlatform,
  classifyImagesWith,
  createZeroShotClassifier,
} from './zero_shot_classify.js';

export type {
  ZeroShotClassifier,
  ZeroShotImageResult,
  ZeroShotInput,
  ZeroShotLabel,
  ZeroShotPipelineOptions,
} from './zero_shot_classify.js';

/** Node: class embeddings through the classifier cache (`cacheDir`), images decoded with sharp. */
const node: ZeroShotPlatform = {
  classifier: async (model, classNames, templates, options) =>
    (
      await loadOrBuildClassifier(model, classNames, templates, {
        modelId: options.modelId ?? model.name,
        cacheDir: options.cacheDir ?? null,
        onWarning: options.onWarning,
      })
    ).classifier,
  preprocess: (sources, config) => preprocessBatch(sources, config),
};

/** Builds the class embeddings once and returns a function that classifies images against them. */
export function zeroShotClassifier(
  model: ImageTextModel,
  options: ZeroShotPipelineOptions,
): Promise<ZeroShotClassifier> {
  return createZeroShotClassifier(model, options, node);
}

/** `zeroShotClassifier` for one set of images: builds, classifies, frees. */
export function classifyImages(
  model: ImageTextModel,
  inputs: readonly ZeroShotInput[],
  options: ZeroShotPipelineOptions & { topK?: number },
): Promise<ZeroShotImageResult[]> {
  return classifyImagesWith(model, inputs, options, node);
}
