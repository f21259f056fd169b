import * as tf from '@tensorflow/tfjs';
import { l2Normalize } from '@moevl/core';
import type { ImageTextModel } from '../model/image_text_model.js';

export interface ZeroShotClassifierOptions {
  /** Texts per call to `embedTexts` (a model may sort each call by length to pad less). Default 1024. */
  batchSize?: number;
  /** Called after each class with (classes done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** A model embedded a prompt as NaN or ±Infinity: a broken model, never a classifier. */
export class NonFiniteEmbeddingError extends Error {
  override readonly name = 'NonFiniteEmbeddingError';
  constructor(
    message: string,
    readonly className: string,
  ) {
    super(message);
  }
}

/** Fills a template's `{}` (or `{c}`) placeholder with a class name. */
export function fillTemplate(template: string, className: string): string {
  if (!template.includes('{}') && !template.includes('{c}')) {
    throw new Error(`Template "${template}" has no {} placeholder for the class name.`);
  }
  return template.replaceAll('{}', className).replaceAll('{c}', className);
}

/**
 * open_clip's zero-shot classifier: for each class, embed every template, L2-normalise each embedding,
 * average them, and re-normalise. Returns `[D, C]`, built once per (model, classes, templates); texts are
 * embedded in large batches across classes, never per image.
 */
export async function buildZeroShotClassifier(
  model: ImageTextModel,
  classNames: readonly string[],
  templates: readonly string[],
  options: ZeroShotClassifierOptions = {},
): Promise<tf.Tensor2D> {
  if (classNames.length === 0) throw new Error('buildZeroShotClassifier: no class names given.');
  if (templates.length === 0) throw new Error('buildZeroShotClassifier: no templates given.');
  const texts = classNames.flatMap((c) => templates.map((t) => fillTemplate(t, c)));
  const batchSize = options.batchSize ?? 1024;
  const perClass: tf.Tensor[] = [];
  try {
    let pending: tf.Tensor[] = [];
    let pendingRows = 0;
    for (let start = 0; start < texts.length; start += batchSize) {
      const emb = await model.embedTexts(texts.slice(start, start + batchSize));
      pending.push(emb);
      pendingRows += emb.shape[0];
      // Reduce every complete class as soon as its rows are in, so memory stays at one batch.
      const complete = Math.floor(pendingRows / templates.length);
      if (complete > 0) {
        const all = pending.length === 1 ? pending[0] : tf.concat(pending, 0);
        const [used, rest] = tf.split(
          all,
          [complete * templates.length, pendingRows - complete * templates.length],
          0,
        );
        const classes = tf.tidy(() => {
          const normed = l2Normalize(used, -1);
          const mean = tf.mean(tf.reshape(normed, [complete, templates.length, -1]), 1);
          return l2Normalize(mean, -1);
        });
        perClass.push(classes);
        tf.dispose([...pending, all, used]);
        pending = rest.shape[0] > 0 ? [rest] : (rest.dispose(), []);
        pendingRows = rest.shape[0];
        options.onProgress?.(
          perClass.reduce((n, t) => n + t.shape[0], 0),
          classNames.length,
        );
      }
    }
    tf.dispose(pending);
    const classifier = tf.tidy(() =>
      tf.transpose(perClass.length === 1 ? perClass[0] : tf.concat(perClass, 0)),
    ) as tf.Tensor2D;
    const values = await classifier.data();
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      classifier.dispose();
      const c = bad % classNames.length;
      throw new NonFiniteEmbeddingError(
        `model ${model.name} produced ${values[bad]} text embeddings for class "${classNames[c]}" ` +
          `(prompt "${fillTemplate(templates[0], classNames[c])}"); the model file may be corrupt.`,
        classNames[c],
      );
    }
    return classifier;
  } finally {
    tf.dispose(perClass);
  }
}
