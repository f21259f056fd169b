import type * as tf from '@tensorflow/tfjs';
import type { ImageTextModel } from '../model/image_text_model.js';
import {
  NonFiniteEmbeddingError,
  type ZeroShotClassifierOptions,
  buildZeroShotClassifier,
} from '../zeroshot/classifier.js';
import { ZeroShotEvalError } from './eval_error.js';
import { checkPrompts } from './prompt_check.js';

/**
 * `buildZeroShotClassifier` as the evaluation library runs it, cache or no cache: the prompts are checked
 * with the model's tokenizer before any text is embedded (truncated prompts become warnings, colliding ones
 * an error), and a non-finite embedding is a `ZeroShotEvalError` with code `non-finite`.
 */
export async function buildCheckedClassifier(
  model: ImageTextModel,
  classNames: readonly string[],
  templates: readonly string[],
  options: ZeroShotClassifierOptions = {},
): Promise<{ classifier: tf.Tensor2D; warnings: string[] }> {
  const warnings = checkPrompts(model, classNames, templates);
  try {
    return { classifier: await buildZeroShotClassifier(model, classNames, templates, options), warnings };
  } catch (err) {
    if (err instanceof NonFiniteEmbeddingError) {
      throw new ZeroShotEvalError(err.message, { code: 'non-finite', cause: err });
    }
    throw err;
  }
}
