import * as tf from '@tensorflow/tfjs';
import { type EvalRouting, type MetricValue, checkEvalRouting } from '@moevl/core';
import type { ImageTextModel, PreprocessConfig, RoutingReport, TokenizedTexts } from '@moevl/vision';
import type { LIMoEModel } from '../model/limoe_model.js';
import { encodedBatchToTensors } from '../tokenizer/tensors.js';
import type { TextTokenizer } from '../tokenizer/text_tokenizer.js';
import type { LIMoEMetadata } from './limoe_checkpoint.js';

/** Kept and total token choices of one modality, summed over MoE layers and batches. */
interface ChoiceCounts {
  kept: number;
  total: number;
  tokens: number;
}

/** Adds one forward pass's per-block routing metrics (`block<i>` → RoutingMetrics) to `into`. */
function countChoices(into: ChoiceCounts, metrics: Record<string, MetricValue>): void {
  for (const m of Object.values(metrics) as Array<Record<string, number | null>>) {
    const tokens = m.tokens ?? 0;
    const k = m.k ?? 1;
    into.tokens += tokens;
    into.total += tokens * k;
    into.kept += (m.routingSuccessRate ?? 0) * tokens * k;
  }
}

export interface LIMoEImageTextModelOptions {
  /** Name in results (`builtin:…`, the file path). Default `limoe`. */
  name?: string;
  /** Images or texts per forward pass. Default 256. */
  batchSize?: number;
  /** How the MoE layers route: dropless (default, batch-independent) or capacity-limited. */
  evalRouting?: EvalRouting;
}

/**
 * Preprocessed images `[N, 3, H, W]` as a LIMoE model reads them: a grayscale model (channels 1) takes the
 * mean of the three channels (equal, for gray images); others take them as they are.
 */
export function imagesForModel(model: LIMoEModel, pixels: tf.Tensor4D): tf.Tensor4D {
  return model.config.channels === 1 && pixels.shape[1] === 3
    ? (tf.mean(pixels, 1, true) as tf.Tensor4D)
    : pixels;
}

/**
 * A LIMoE model behind the `ImageTextModel` interface, so the zero-shot CLI evaluates it exactly like a
 * CLIP model. Images arrive preprocessed as RGB `[N, 3, H, W]` with the per-channel mean/std this adapter
 * declares; a grayscale model (channels 1) averages the three (identical, for gray images) channels.
 * Images and texts are encoded alone (image-only and text-only routing groups), dropless by default, so an
 * embedding never depends on what else is in the batch; `routing` reports what the routing did.
 */
export class LIMoEImageTextModel implements ImageTextModel {
  readonly embeddingDim: number;
  readonly preprocess: PreprocessConfig;
  readonly name: string;
  readonly batchSize: number;
  readonly evalRouting: EvalRouting;
  private images: ChoiceCounts = { kept: 0, total: 0, tokens: 0 };
  private texts: ChoiceCounts = { kept: 0, total: 0, tokens: 0 };
  readonly routing?: { report(): RoutingReport; reset(): void };

  constructor(
    readonly model: LIMoEModel,
    readonly tokenizer: TextTokenizer,
    readonly metadata: LIMoEMetadata,
    options: LIMoEImageTextModelOptions = {},
  ) {
    this.name = options.name ?? 'limoe';
    this.batchSize = options.batchSize ?? 256;
    this.evalRouting = checkEvalRouting(options.evalRouting ?? { mode: 'dropless' });
    if (model.moeBlocks.length > 0) {
      const rate = (c: ChoiceCounts) => (c.total > 0 ? c.kept / c.total : null);
      this.routing = {
        report: () => ({
          evalRouting: this.evalRouting,
          routingSuccessRate: { images: rate(this.images), texts: rate(this.texts) },
          tokens: { images: this.images.tokens, texts: this.texts.tokens },
        }),
        reset: () => {
          this.images = { kept: 0, total: 0, tokens: 0 };
          this.texts = { kept: 0, total: 0, tokens: 0 };
        },
      };
    }
    const c = model.config;
    this.embeddingDim = c.embedDim;
    // One value for all channels (grayscale models), or one per RGB channel.
    const perChannel = (v: number | number[]): [number, number, number] => {
      const [a, b = a, c = a] = Array.isArray(v) ? v : [v];
      return [a, b, c];
    };
    this.preprocess = {
      size: c.imageSize,
      cropSize: c.imageSize,
      resizeMode: 'shortest',
      mean: perChannel(metadata.imageMean),
      std: perChannel(metadata.imageStd),
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
    const input = tf.tidy(() => imagesForModel(this.model, pixels));
    const parts: tf.Tensor2D[] = [];
    for (let start = 0; start < input.shape[0]; start += this.batchSize) {
      const size = Math.min(this.batchSize, input.shape[0] - start);
      const chunk = tf.slice(input, [start, 0, 0, 0], [size, -1, -1, -1]) as tf.Tensor4D;
      const out = this.model.encodeImages(chunk, { training: false, evalRouting: this.evalRouting });
      countChoices(this.images, out.metrics);
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
      const out = this.model.encodeTexts(
        { ids: t.ids, mask: t.mask, eotIndex: batch.eotIndex },
        { training: false, evalRouting: this.evalRouting },
      );
      countChoices(this.texts, out.metrics);
      tf.dispose([t.ids, t.mask, t.eotIndex, ...Object.values(out.auxLosses)]);
      parts.push(out.embeddings);
    }
    const result = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D);
    if (parts.length > 1) tf.dispose(parts);
    return result;
  }

  /** The tokens the text tower reads for each text (cut to the context, `<sot>`/`<eot>` included). */
  tokenize(texts: string[]): TokenizedTexts {
    const contextLength = this.model.config.contextLength;
    const batch = this.tokenizer.encodeBatch(texts, { contextLength });
    const ids = texts.map((_, r) =>
      Array.from(batch.ids.subarray(r * contextLength, r * contextLength + batch.lengths[r])),
    );
    return { ids, truncated: Array.from(batch.truncated, (t) => t === 1), contextLength };
  }

  dispose(): void {
    this.model.dispose();
  }
}
