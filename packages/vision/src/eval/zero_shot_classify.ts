import * as tf from '@tensorflow/tfjs';
import type { ImageTextModel } from '../model/image_text_model.js';
import type { PreprocessBatchResult } from '../preprocess/batch.js';
import type { PreprocessConfig } from '../preprocess/config.js';
import type { ImageSource } from '../preprocess/errors.js';
import { zeroShotLogits } from '../zeroshot/evaluate.js';
import { NonFiniteScoreError, rankPredictions } from '../zeroshot/rank_predictions.js';
import { ZeroShotEvalError } from './eval_error.js';

/**
 * Zero-shot classification in one call, shaped like transformers.js's
 * `pipeline('zero-shot-image-classification')` but with open_clip's classifier: the class texts are
 * embedded once (every template of every class, averaged), then any number of images are ranked against
 * them, so a thousand classes cost once, not per image.
 */

export interface ZeroShotLabel {
  label: string;
  /** Softmax over the classes of `logitScale · cosine` (CLIP's probabilities). */
  probability: number;
  /** The logit, `logitScale · cosine`. */
  score: number;
}

/** One input's outcome: its best labels, or why it could not be read. */
export type ZeroShotImageResult = { labels: ZeroShotLabel[] } | { error: string };

/** An image as a path, its encoded bytes, or already preprocessed pixels `[3, H, W]`. */
export type ZeroShotInput = ImageSource | tf.Tensor3D;

export interface ZeroShotPipelineOptions {
  classNames: readonly string[];
  /** Prompt templates with `{}` or `{c}`; default `['a photo of a {}.']`. */
  templates?: readonly string[];
  /** Cache the class embeddings here (keyed by model, classes and templates); default: no cache. */
  cacheDir?: string | null;
  /** Names the model in the cache key (default `model.name`). */
  modelId?: string;
  /** Images per embedding call. Default 32. */
  batchSize?: number;
  onWarning?: (message: string) => void;
}

export interface ZeroShotClassifier {
  /** Ranks each input's labels (best first, `topK` of them, default 5): in input order. */
  (inputs: readonly ZeroShotInput[], options?: { topK?: number }): Promise<ZeroShotImageResult[]>;
  readonly classNames: readonly string[];
  readonly templates: readonly string[];
  /** Frees the class embeddings (the model stays the caller's). */
  dispose(): void;
}

/**
 * What the pipeline needs from where it runs: the class embeddings (Node: from the classifier cache), and
 * pixels for images given as paths or bytes (Node: decoded with sharp). `zero_shot_pipeline.ts` and
 * `zero_shot_browser.ts` are the two platforms; the ranking is this one implementation.
 */
export interface ZeroShotPlatform {
  /** The `[D, C]` class embeddings of (classes × templates). */
  classifier(
    model: ImageTextModel,
    classNames: readonly string[],
    templates: readonly string[],
    options: ZeroShotPipelineOptions,
  ): Promise<tf.Tensor2D>;
  preprocess(sources: ImageSource[], config: PreprocessConfig): Promise<PreprocessBatchResult>;
}

/**
 * `zeroShotClassifier` on a platform: builds the class embeddings once and returns a function that
 * classifies images against them.
 */
export async function createZeroShotClassifier(
  model: ImageTextModel,
  options: ZeroShotPipelineOptions,
  platform: ZeroShotPlatform,
): Promise<ZeroShotClassifier> {
  const classNames = [...options.classNames];
  const templates = [...(options.templates ?? ['a photo of a {}.'])];
  const duplicate = classNames.find((c, i) => classNames.indexOf(c) !== i);
  if (duplicate !== undefined) {
    throw new ZeroShotEvalError(`the class "${duplicate}" is listed twice; give each class once.`, {
      code: 'bad-option',
    });
  }
  const classifier = await platform.classifier(model, classNames, templates, options);
  const batchSize = options.batchSize ?? 32;
  const columns = classNames.map((_, c) => c);

  const classify = async (inputs: readonly ZeroShotInput[], opts: { topK?: number } = {}) => {
    const k = Math.min(opts.topK ?? 5, classNames.length);
    const results: ZeroShotImageResult[] = [];
    for (let start = 0; start < inputs.length; start += batchSize) {
      const chunk = inputs.slice(start, start + batchSize);
      const { pixels, rows, errors } = await pixelsOf(chunk, model, platform);
      const byRow = new Map<number, ZeroShotLabel[]>();
      if (rows.length > 0) {
        const emb = await model.embedImages(pixels!);
        const logits = zeroShotLogits(emb, classifier, model.logitScale);
        const probs = tf.softmax(logits);
        const [scores, p] = await Promise.all([logits.data(), probs.data()]);
        tf.dispose([emb, logits, probs, pixels!]);
        let ranked;
        try {
          // Ranked as torch.topk: ties to the lower class index; NaN is an error, never a label.
          ranked = rankPredictions(scores, columns, new Array(rows.length).fill(-1), k);
        } catch (err) {
          if (!(err instanceof NonFiniteScoreError)) throw err;
          throw new ZeroShotEvalError(
            `model ${model.name} produced ${err.value} scores for image ${start + rows[err.row]}; the model file may be corrupt.`,
            { code: 'non-finite', cause: err },
          );
        }
        ranked.forEach((r, i) =>
          byRow.set(
            rows[i],
            r.top.map((t) => ({
              label: classNames[t.class],
              score: t.score,
              probability: p[i * classNames.length + t.class],
            })),
          ),
        );
      } else {
        pixels?.dispose();
      }
      chunk.forEach((_, i) =>
        results.push(byRow.has(i) ? { labels: byRow.get(i)! } : { error: errors.get(i) ?? 'unreadable' }),
      );
    }
    return results;
  };
  return Object.assign(classify, {
    classNames,
    templates,
    dispose: () => classifier.dispose(),
  });
}

/** Preprocessed pixels of the readable inputs (paths and bytes decoded; tensors taken as they are). */
async function pixelsOf(
  chunk: readonly ZeroShotInput[],
  model: ImageTextModel,
  platform: ZeroShotPlatform,
): Promise<{ pixels: tf.Tensor4D | null; rows: number[]; errors: Map<number, string> }> {
  const errors = new Map<number, string>();
  if (chunk.every((x) => x instanceof tf.Tensor)) {
    const pixels = tf.stack(chunk as tf.Tensor3D[]) as tf.Tensor4D;
    return { pixels, rows: chunk.map((_, i) => i), errors };
  }
  if (chunk.some((x) => x instanceof tf.Tensor)) {
    throw new ZeroShotEvalError(
      'zeroShotClassifier: give either image files/bytes or pixel tensors in one call, not both.',
      {
        code: 'bad-option',
      },
    );
  }
  const {
    pixels,
    indices,
    errors: failed,
  } = await platform.preprocess(chunk as ImageSource[], model.preprocess);
  for (const e of failed) errors.set(e.index, e.message);
  return { pixels: indices.length > 0 ? pixels : (pixels.dispose(), null), rows: indices, errors };
}

/** `classifyImages` on a platform: builds, classifies, frees. */
export async function classifyImagesWith(
  model: ImageTextModel,
  inputs: readonly ZeroShotInput[],
  options: ZeroShotPipelineOptions & { topK?: number },
  platform: ZeroShotPlatform,
): Promise<ZeroShotImageResult[]> {
  const classify = await createZeroShotClassifier(model, options, platform);
  try {
    return await classify(inputs, { topK: options.topK });
  } finally {
    classify.dispose();
  }
}
