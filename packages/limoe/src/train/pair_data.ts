import * as tf from '@tensorflow/tfjs';
import { BatchOrder, type BatchOrderState, type ResumableData } from '@moevl/core';
import type { BpeTokenizer } from '../tokenizer/bpe_tokenizer.js';
import { type LayoutIds, layoutBatch } from '../tokenizer/batch.js';
import type { TextBatch } from '../model/limoe_model.js';
import { fillTemplate } from '@moevl/vision';

/**
 * Images in memory with int labels: `count × channels × side × side` bytes, each image channel-planar
 * (CHW). Grayscale (Fashion-MNIST, MNIST) by default; `channels: 3` for RGB.
 */
export interface InMemoryImages {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
  side: number;
  /** 1 (default) or 3. */
  channels?: 1 | 3;
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

/**
 * `[B, C, side, side]` normalised float32 pixels, (x/255 − mean)/std, for the given items; `mean` and `std`
 * are one value for every channel or one per channel.
 */
export function imageTensor(
  data: InMemoryImages,
  indices: readonly number[],
  mean: number | readonly number[] = FASHION_MNIST_MEAN,
  std: number | readonly number[] = FASHION_MNIST_STD,
): tf.Tensor4D {
  const c = data.channels ?? 1;
  const plane = data.side * data.side;
  const px = c * plane;
  const out = new Float32Array(indices.length * px);
  indices.forEach((idx, r) => {
    const src = data.images.subarray(idx * px, (idx + 1) * px);
    for (let ch = 0; ch < c; ch++) {
      const m = typeof mean === 'number' ? mean : mean[ch];
      const s = typeof std === 'number' ? std : std[ch];
      const base = ch * plane;
      for (let i = 0; i < plane; i++) out[r * px + base + i] = (src[base + i] / 255 - m) / s;
    }
  });
  return tf.tensor4d(out, [indices.length, c, data.side, data.side]);
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
