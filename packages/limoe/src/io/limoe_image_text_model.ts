import * as tf from '@tensorflow/tfjs';
import type { ImageTextModel, PreprocessConfig } from '@moevl/vision';
import type { LIMoEModel } from '../model/limoe_model.js';
import type { BpeTokenizer } from '../tokenizer/bpe_tokenizer.js';
import { encodedBatchToTensors } from '../tokenizer/tensors.js';
import type { LIMoEMetadata } from './limoe_checkpoint.js';

/**
 * A LIMoE model behind the `ImageTextModel` interface, so the zero-shot CLI evaluates it exactly like a
 * CLIP model. Images arrive preprocessed as RGB `[N, 3, H, W]` with the per-channel mean/std this adapter
 * declares; a grayscale model (channels 1) averages the three (identical, for gray images) channels.
 */
export class LIMoEImageTextModel implements ImageTextModel {
  readonly embeddingDim: number;
  readonly preprocess: PreprocessConfig;

  constructor(
    readonly model: LIMoEModel,
    readonly tokenizer: BpeTokenizer,
    readonly metadata: LIMoEMetadata,
    readonly name = 'limoe',
    readonly batchSize = 256,
  ) {
    const c = model.config;
    this.embeddingDim = c.embedDim;
    const m = metadata.imageMean;
    const s = metadata.imageStd;
    this.preprocess = {
      size: c.imageSize,
      cropSize: c.imageSize,
      resizeMode: 'shortest',
      mean: [m, m, m],
      std: [s, s, s],
    };
  }

  get logitScale(): number {
    return Math.exp(this.model.logitScale.dataSync()[0]);
  }

  async embedImages(pixels: tf.Tensor4D): Promise<tf.Tensor2D> {
    const c = this.model.config;
    if (pixels.rank !== 4 || pixels.shape[2] !== c.imageSize || pixels.shape[3] !== c.imageSize) {
      throw new Error(
        `${this.name}: expected images [N, C, ${c.imageSize}, ${c.imageSize}], got [${pixels.shape}].`,
      );
    }
    const input = tf.tidy(() =>
      c.channels === 1 && pixels.shape[1] === 3 ? (tf.mean(pixels, 1, true) as tf.Tensor4D) : pixels,
    );
    const parts: tf.Tensor2D[] = [];
    for (let start = 0; start < input.shape[0]; start += this.batchSize) {
      const size = Math.min(this.batchSize, input.shape[0] - start);
      const chunk = tf.slice(input, [start, 0, 0, 0], [size, -1, -1, -1]) as tf.Tensor4D;
      const out = this.model.encodeImages(chunk);
      tf.dispose([chunk, ...Object.values(out.auxLosses)]);
      parts.push(out.embeddings);
    }
    if (input !== pixels) input.dispose();
    const result = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D);
    if (parts.length > 1) tf.dispose(parts);
    return result;
  }

  async embedTexts(texts: string[]): Promise<tf.Tensor2D> {
    const parts: tf.Tensor2D[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      const batch = this.tokenizer.encodeBatch(texts.slice(start, start + this.batchSize), {
        contextLength: this.model.config.contextLength,
      });
      const t = encodedBatchToTensors(batch);
      const out = this.model.encodeTexts({ ids: t.ids, mask: t.mask, eotIndex: batch.eotIndex });
      tf.dispose([t.ids, t.mask, t.eotIndex, ...Object.values(out.auxLosses)]);
      parts.push(out.embeddings);
    }
    const result = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D);
    if (parts.length > 1) tf.dispose(parts);
    return result;
  }

  dispose(): void {
    this.model.dispose();
  }
}
