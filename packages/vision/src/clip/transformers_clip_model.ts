import * as tf from '@tensorflow/tfjs';
import type { PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
import type { ImageTextModel, TokenizedTexts } from '../model/image_text_model.js';
import type { PreprocessConfig } from '../preprocess/config.js';
import {
  clipPadId,
  encodeForClip,
  encodeForClipDetailed,
  packClipTokens,
  tokenizeForClip,
} from './clip_tokenize.js';
import type { ClipTokenBatch } from './clip_tokenize.js';

/**
 * The ONNX graphs a CLIP model runs on: the two towers' own exports (`text_model.onnx`,
 * `vision_model.onnx`), or the combined `model.onnx` (CLIPModel), which needs both inputs on every call.
 */
export type ClipGraphs =
  | { layout: 'separate'; text: PreTrainedModel; vision: PreTrainedModel }
  | { layout: 'combined'; model: PreTrainedModel };

export interface TransformersClipModelInit {
  name: string;
  /** `projection_dim` from config.json; when absent it is measured with one text on {@link init}. */
  embeddingDim: number | undefined;
  logitScale: number;
  preprocess: PreprocessConfig;
  graphs: ClipGraphs;
  tokenizer: PreTrainedTokenizer;
  maxLength: number;
  batchSize: number;
  /** transformers.js's Tensor class (the package is loaded on demand, so it is handed in). */
  Tensor: typeof Tensor;
}

type Outputs = Record<string, Tensor | undefined>;

/**
 * An {@link ImageTextModel} backed by transformers.js's ONNX Runtime sessions. Images arrive already
 * preprocessed by this package (docs/reference.md §5: transformers.js's own image processor resizes with
 * different pixel alignment than PIL), texts are tokenised with the model's tokenizer, and both come back
 * L2-normalised as tf tensors. Large inputs run in batches of `batchSize` so memory stays bounded.
 */
export class TransformersClipModel implements ImageTextModel {
  readonly name: string;
  readonly logitScale: number;
  readonly preprocess: PreprocessConfig;
  private dim: number | undefined;
  private readonly graphs: ClipGraphs;
  private readonly tokenizer: PreTrainedTokenizer;
  private readonly maxLength: number;
  private readonly batchSize: number;
  private readonly Tensor: typeof Tensor;
  private disposed = false;
  private dummyText: { input_ids: Tensor; attention_mask: Tensor } | undefined;
  private dummyPixels: Tensor | undefined;

  constructor(init: TransformersClipModelInit) {
    this.name = init.name;
    this.dim = init.embeddingDim;
    this.logitScale = init.logitScale;
    this.preprocess = init.preprocess;
    this.graphs = init.graphs;
    this.tokenizer = init.tokenizer;
    this.maxLength = init.maxLength;
    this.batchSize = init.batchSize;
    this.Tensor = init.Tensor;
  }

  get embeddingDim(): number {
    if (this.dim === undefined) throw new Error(`${this.name}: embedding width not known yet; call init().`);
    return this.dim;
  }

  /** Measures the embedding width with one empty text when config.json does not state it. */
  async init(): Promise<this> {
    if (this.dim === undefined) {
      const probe = await this.runTexts(['']);
      this.dim = probe.length;
    }
    return this;
  }

  async embedImages(pixels: tf.Tensor4D): Promise<tf.Tensor2D> {
    this.assertOpen();
    this.checkPixelShape(pixels.shape, pixels.rank);
    const data = await pixels.data();
    // The tensor's own buffer when the backend hands it out (cpu), else the backend's copy (wasm): ONNX
    // Runtime only reads it, so no further copy is needed.
    return this.embedPixelData(data instanceof Float32Array ? data : Float32Array.from(data), pixels.shape);
  }

  /**
   * {@link embedImages} for pixels already in a plain NCHW buffer (as `prepareBatch` and the eval sources
   * produce them): skips the copy into TensorFlow.js and back out, ~1 ms per image on the wasm backend.
   */
  async embedPixelData(data: Float32Array, shape: readonly number[]): Promise<tf.Tensor2D> {
    this.assertOpen();
    this.checkPixelShape(shape, shape.length);
    const [n, , h, w] = shape;
    if (data.length !== n * 3 * h * w) {
      throw new Error(
        `${this.name}: embedPixelData got ${data.length} values for shape [${shape.join(', ')}].`,
      );
    }
    const d = this.embeddingDim;
    const out = new Float32Array(n * d);
    const per = 3 * h * w;
    for (let start = 0; start < n; start += this.batchSize) {
      const b = Math.min(this.batchSize, n - start);
      const slice = b === n ? data : data.slice(start * per, (start + b) * per);
      out.set(await this.runVision(new this.Tensor('float32', slice, [b, 3, h, w]), b), start * d);
    }
    return tf.tensor2d(l2NormalizeRows(out, d), [n, d]);
  }

  private checkPixelShape(shape: readonly number[], rank: number): void {
    const expected = this.pixelShape();
    const [, c, h, w] = shape;
    if (rank !== 4 || c !== 3 || (expected && (h !== expected[0] || w !== expected[1]))) {
      const want = expected ? expected.join(', ') : 'H, W';
      throw new Error(
        `${this.name}: embedImages expects [N, 3, ${want}] pixels preprocessed with this model's ` +
          `preprocess config, got [${shape.join(', ')}].`,
      );
    }
  }

  /** The token ids CLIP's text tower reads for each text (truncated to its context), and which were cut. */
  tokenize(texts: string[]): TokenizedTexts {
    this.assertOpen();
    const { ids, truncated } = encodeForClipDetailed(this.tokenizer, texts, this.maxLength);
    return { ids, truncated, contextLength: this.maxLength };
  }

  async embedTexts(texts: string[]): Promise<tf.Tensor2D> {
    this.assertOpen();
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) {
      throw new Error(`${this.name}: embedTexts expects an array of strings.`);
    }
    const d = this.embeddingDim;
    const out = new Float32Array(texts.length * d);
    // Batches of texts of similar length: each batch is padded to its longest text, so sorting by length
    // first removes most of the padding (on the 1000 × 80 ImageNet prompts, ~30% of the tokens).
    const rows = encodeForClip(this.tokenizer, texts, this.maxLength);
    const order = rows.map((_, i) => i).sort((a, b) => rows[a].length - rows[b].length || a - b);
    for (let start = 0; start < texts.length; start += this.batchSize) {
      const batch = order.slice(start, start + this.batchSize);
      const emb = await this.runTokens(
        packClipTokens(
          batch.map((i) => rows[i]),
          clipPadId(this.tokenizer),
        ),
      );
      batch.forEach((i, r) => out.set(emb.subarray(r * d, (r + 1) * d), i * d));
    }
    return tf.tensor2d(l2NormalizeRows(out, d), [texts.length, d]);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const models =
      this.graphs.layout === 'separate' ? [this.graphs.text, this.graphs.vision] : [this.graphs.model];
    await Promise.all(models.map((m) => m.dispose()));
  }

  private assertOpen(): void {
    if (this.disposed) throw new Error(`${this.name}: the model has been disposed.`);
  }

  /** One batch of texts → raw (unnormalised) `[b·D]` embeddings. */
  private async runTexts(texts: string[]): Promise<Float32Array> {
    return this.runTokens(tokenizeForClip(this.tokenizer, texts, this.maxLength));
  }

  /** One tokenised batch → raw (unnormalised) `[b·D]` embeddings. */
  private async runTokens(tokens: ClipTokenBatch): Promise<Float32Array> {
    const dims = [tokens.batch, tokens.length];
    const feeds = {
      input_ids: new this.Tensor('int64', tokens.inputIds, dims),
      attention_mask: new this.Tensor('int64', tokens.attentionMask, dims),
    };
    if (this.graphs.layout === 'separate') {
      return this.take(await this.graphs.text(feeds), 'text_embeds', tokens.batch);
    }
    return this.take(
      await this.graphs.model({ ...feeds, pixel_values: this.placeholderPixels() }),
      'text_embeds',
      tokens.batch,
    );
  }

  private async runVision(pixelValues: Tensor, b: number): Promise<Float32Array> {
    if (this.graphs.layout === 'separate') {
      return this.take(await this.graphs.vision({ pixel_values: pixelValues }), 'image_embeds', b);
    }
    const feeds = { ...this.placeholderText(), pixel_values: pixelValues };
    return this.take(await this.graphs.model(feeds), 'image_embeds', b);
  }

  /**
   * The combined graph computes both towers on every call, so an image-only call still needs a text: we
   * feed the cheapest one (the empty text, `<|startoftext|><|endoftext|>`), and a single blank image for
   * text-only calls. Their outputs are ignored.
   */
  private placeholderText(): { input_ids: Tensor; attention_mask: Tensor } {
    if (!this.dummyText) {
      const t = tokenizeForClip(this.tokenizer, [''], this.maxLength);
      this.dummyText = {
        input_ids: new this.Tensor('int64', t.inputIds, [1, t.length]),
        attention_mask: new this.Tensor('int64', t.attentionMask, [1, t.length]),
      };
    }
    return this.dummyText;
  }

  private placeholderPixels(): Tensor {
    const [h, w] = this.pixelShape() ?? [this.preprocess.size, this.preprocess.size];
    this.dummyPixels ??= new this.Tensor('float32', new Float32Array(3 * h * w), [1, 3, h, w]);
    return this.dummyPixels;
  }

  /** `[H, W]` the preprocessing produces (the crop), or undefined when it does not crop to a fixed size. */
  private pixelShape(): [number, number] | undefined {
    const p = this.preprocess;
    if (p.doCenterCrop === false) return undefined;
    return p.cropShape ?? [p.cropSize, p.cropSize];
  }

  private take(outputs: Outputs, name: 'text_embeds' | 'image_embeds', rows: number): Float32Array {
    const t = outputs[name];
    if (!t) {
      throw new Error(
        `${this.name}: the ONNX graph has no output "${name}" (it has ${Object.keys(outputs).join(', ')}); ` +
          `a CLIP export with text_embeds / image_embeds outputs is expected.`,
      );
    }
    const f = t.to('float32');
    const [n, d] = f.dims;
    if (f.dims.length !== 2 || n !== rows || (this.dim !== undefined && d !== this.dim)) {
      throw new Error(
        `${this.name}: output "${name}" has shape [${f.dims.join(', ')}], expected [${rows}, ${this.dim ?? 'D'}].`,
      );
    }
    return f.data as Float32Array;
  }
}

/**
 * L2-normalise each row in place (x / max(‖x‖, 1e-12), torch's `F.normalize`), in double precision, so
 * a dot product of two embeddings is their cosine similarity.
 */
export function l2NormalizeRows(data: Float32Array, width: number): Float32Array {
  for (let off = 0; off < data.length; off += width) {
    let sq = 0;
    for (let j = 0; j < width; j++) sq += data[off + j] * data[off + j];
    const inv = 1 / Math.max(Math.sqrt(sq), 1e-12);
    for (let j = 0; j < width; j++) data[off + j] *= inv;
  }
  return data;
}
