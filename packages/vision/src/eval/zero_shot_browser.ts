import type { ImageTextModel } from '../model/image_text_model.js';
import { buildCheckedClassifier } from './checked_classifier.js';
import { ZeroShotEvalError } from './eval_error.js';
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

/**
 * A browser: the class embeddings are built in memory (there is no file cache), and images arrive as pixel
 * tensors — decoded by the page (a canvas) and preprocessed with `preprocessPilImage`, the pipeline Node
 * runs after sharp decodes a file.
 */
const browser: ZeroShotPlatform = {
  async classifier(model, classNames, templates, options) {
    if (options.cacheDir != null) {
      throw new ZeroShotEvalError(
        'cacheDir: a browser has no file cache for class embeddings; leave it out.',
        {
          code: 'bad-option',
        },
      );
    }
    return (await buildCheckedClassifier(model, classNames, templates)).classifier;
  },
  async preprocess() {
    throw new ZeroShotEvalError(
      'zeroShotClassifier in a browser takes pixel tensors [3, H, W], not paths or bytes: decode the image ' +
        '(a canvas), then preprocessPilImage(image, model.preprocess).',
      { code: 'bad-option' },
    );
  },
};

/** Builds the class embeddings once and returns a function that classifies pixel tensors against them. */
export function zeroShotClassifier(
  model: ImageTextModel,
  options: ZeroShotPipelineOptions,
): Promise<ZeroShotClassifier> {
  return createZeroShotClassifier(model, options, browser);
}

/** `zeroShotClassifier` for one set of images: builds, classifies, frees. */
export function classifyImages(
  model: ImageTextModel,
  inputs: readonly ZeroShotInput[],
  options: ZeroShotPipelineOptions & { topK?: number },
): Promise<ZeroShotImageResult[]> {
  return classifyImagesWith(model, inputs, options, browser);
}
