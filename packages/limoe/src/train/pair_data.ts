import * as tf from '@tensorflow/tfjs';
import { BatchOrder, type BatchOrderState, type ResumableData } from '@moevl/core';
import type { BpeTokenizer } from '../tokenizer/bpe_tokenizer.js';
import { type LayoutIds, layoutBatch } from '../tokenizer/batch.js';
import type { TextBatch } from '../model/limoe_model.js';
import { fillTemplate } from '@moevl/vision';

/** Grayscale images in memory (Fashion-MNIST, MNIST): `count × side × side` bytes and int labels. */
export interface InMemoryImages {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
  side: number;
}

/** Per-pixel normalisation of 8-bit grayscale: (x/255 − mean)/std (Fashion-MNIST's own statistics). */
export const FASHION_MNIST_MEAN = 0.286;
export const FASHION_MNIST_STD = 0.353;

export interface PairBatch {
  images: tf.Tensor4D;
  text: TextBatch;
  /** `[B]` int32 class labels (for same-class positives). */
  labels: tf.Tensor1D;
}

/** `[B, 1, side, side]` normalised float32 pixels for the given items. */
export function imageTensor(
  data: InMemoryImages,
  indices: readonly number[],
  mean = FASHION_MNIST_MEAN,
  std = FASHION_MNIST_STD,
): tf.Tensor4D {
  const px = data.side * data.side;
  const out = new Float32Array(indices.length * px);
  indices.forEach((idx, r) => {
    const src = data.images.subarray(idx * px, (idx + 1) * px);
    for (let i = 0; i < px; i++) out[r * px + i] = (src[i] / 255 - mean) / std;
  });
  return tf.tensor4d(out, [indices.length, 1, data.side, data.side]);
}

/**
 * Image–caption pairs from class-labelled images: each image's caption is one of the training templates
 * filled with its class name, chosen by (item, epoch) so the choice varies across epochs and is the same
 * after a resume. Captions are tokenized once per (class, template).
 */
export class ClassCaptionPairs implements ResumableData<PairBatch> {
  private readonly order: BatchOrder;
  private readonly captions: number[][][];
  private readonly special: LayoutIds;

  constructor(
    readonly data: InMemoryImages,
    readonly classNames: readonly string[],
    readonly templates: readonly string[],
    readonly tokenizer: BpeTokenizer,
    readonly contextLength: number,
    batchSize: number,
    seed: number,
  ) {
    this.order = new BatchOrder(data.count, batchSize, seed);
    // Tokenized once per (class, template); batches only lay rows out.
    this.captions = classNames.map((name) => templates.map((t) => tokenizer.encode(fillTemplate(t, name))));
    const id = (token: string) => tokenizer.id(token)!;
    this.special = { sot: id('<sot>'), eot: id('<eot>'), pad: id('<pad>') };
  }

  /** Every caption text, for training the tokenizer. */
  static captionCorpus(classNames: readonly string[], templates: readonly string[]): string[] {
    return classNames.flatMap((c) => templates.map((t) => fillTemplate(t, c)));
  }

  next(): PairBatch {
    const epoch = this.order.epoch;
    const idx = this.order.next();
    const batchEpoch = this.order.epoch === epoch ? epoch : this.order.epoch;
    const texts = idx.map((i) => {
      const label = this.data.labels[i];
      const t = (i * 7919 + batchEpoch * 104729) % this.templates.length;
      return this.captions[label][t];
    });
    const batch = layoutBatch(texts, this.contextLength, this.special);
    return {
      images: imageTensor(this.data, idx),
      text: {
        ids: tf.tensor2d(batch.ids, [idx.length, this.contextLength], 'int32'),
        mask: tf.tensor2d(batch.mask, [idx.length, this.contextLength]),
        eotIndex: batch.eotIndex,
      },
      labels: tf.tensor1d(
        idx.map((i) => this.data.labels[i]),
        'int32',
      ),
    };
  }

  getState(): BatchOrderState {
    return this.order.getState();
  }

  setState(state: unknown): void {
    this.order.setState(state as BatchOrderState);
  }
}
