import * as tf from '@tensorflow/tfjs';
import type { ImageTextModel } from '../model/image_text_model.js';
import { ZeroShotAccumulator, type ZeroShotMetrics } from './metrics.js';

/** Image embeddings `[N, D]` (L2-normalised) times the classifier `[D, C]`, scaled by the model's logit scale. */
export function zeroShotLogits(
  imageEmbeddings: tf.Tensor2D,
  classifier: tf.Tensor2D,
  logitScale = 100,
): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.matMul(imageEmbeddings, classifier), logitScale) as tf.Tensor2D);
}

export interface ZeroShotBatch {
  /** `[N, 3, H, W]` preprocessed for the model. */
  pixels: tf.Tensor4D;
  labels: ArrayLike<number>;
}

export interface EvaluateZeroShotOptions {
  classIndices?: readonly number[];
  onBatch?: (done: number, metrics: ZeroShotMetrics) => void;
}

/**
 * Scores batches of images against a zero-shot classifier built once (`buildZeroShotClassifier`) and
 * returns top-1, top-5 and mean per-class recall. Batches are disposed after use.
 */
export async function evaluateZeroShot(
  model: ImageTextModel,
  classifier: tf.Tensor2D,
  batches: AsyncIterable<ZeroShotBatch> | Iterable<ZeroShotBatch>,
  options: EvaluateZeroShotOptions = {},
): Promise<ZeroShotMetrics> {
  const acc = new ZeroShotAccumulator(classifier.shape[1], options.classIndices);
  let done = 0;
  for await (const batch of batches) {
    try {
      const emb = await model.embedImages(batch.pixels);
      const logits = zeroShotLogits(emb, classifier, model.logitScale);
      acc.add(logits, batch.labels);
      tf.dispose([emb, logits]);
      done += batch.labels.length;
      options.onBatch?.(done, acc.result());
    } finally {
      batch.pixels.dispose();
    }
  }
  return acc.result();
}
