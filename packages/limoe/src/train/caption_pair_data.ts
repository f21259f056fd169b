import * as tf from '@tensorflow/tfjs';
import type { AsyncResumableData } from '@moevl/core';
import { DatasetError, type ImageCaptionBatch, type ImageCaptionSource } from '@moevl/vision';
import type { TextTokenizer } from '../tokenizer/text_tokenizer.js';
import type { ContrastiveBatch } from './contrastive_step.js';

/**
 * Which pairs of a batch are positives: `diagonal` (open_clip: each image with its own caption only) or
 * `same-caption` (pairs whose captions are the same text are positives of each other — a folder dataset
 * captioned from class names has many such pairs in a batch, which plain CLIP loss would push apart).
 */
export type CaptionPositives = 'diagonal' | 'same-caption';

/** Labels for `same-caption`: the index of each caption's first occurrence in the batch. */
export function sameCaptionLabels(captions: readonly string[]): Int32Array {
  const first = new Map<string, number>();
  return Int32Array.from(captions, (c, i) => {
    const seen = first.get(c);
    if (seen !== undefined) return seen;
    first.set(c, i);
    return i;
  });
}

/** One decoded batch of an image–caption source as model inputs (tensors the caller disposes). */
export function captionBatchTensors(
  batch: ImageCaptionBatch,
  tokenizer: TextTokenizer,
  contextLength: number,
  positives: CaptionPositives,
): ContrastiveBatch {
  const encoded = tokenizer.encodeBatch(batch.captions, { contextLength });
  const n = batch.shape[0];
  return {
    images: tf.tensor4d(batch.pixels, batch.shape),
    text: {
      ids: tf.tensor2d(encoded.ids, [n, contextLength], 'int32'),
      mask: tf.tensor2d(encoded.mask, [n, contextLength]),
      eotIndex: encoded.eotIndex,
    },
    labels:
      positives === 'same-caption' ? tf.tensor1d(sameCaptionLabels(batch.captions), 'int32') : undefined,
  };
}

/**
 * An image–caption source (`openImageCaptionSource`, looping) as the data of core's `runTraining`: each
 * `next()` is the source's next batch, tokenized; the state is the source's, taken after the last batch
 * handed out, so a run resumed from a checkpoint sees the samples, crops and order the uninterrupted run saw.
 */
export class CaptionPairData implements AsyncResumableData<ContrastiveBatch> {
  /** Captions cut to the text context so far (counted, not an error: CLIP cuts them too). */
  truncatedCaptions = 0;

  constructor(
    readonly source: ImageCaptionSource,
    readonly tokenizer: TextTokenizer,
    readonly contextLength: number,
    readonly batchSize: number,
    readonly positives: CaptionPositives = 'diagonal',
  ) {}

  async next(): Promise<ContrastiveBatch> {
    const batch = await this.source.next(this.batchSize);
    if (batch === null) {
      throw new DatasetError('no-images', `The training data ended: ${this.source.description}.`);
    }
    const out = captionBatchTensors(batch, this.tokenizer, this.contextLength, this.positives);
    return out;
  }

  getState(): unknown {
    return this.source.getState();
  }

  setState(state: unknown): void {
    this.source.setState(state);
  }
}
