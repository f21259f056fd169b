import * as tf from '@tensorflow/tfjs';
import {
  type ClipRetrievalMetrics,
  DatasetError,
  fillTemplate,
  type ImageCaptionSourceSpec,
  type SkippedSamples,
  clipRetrievalMetrics,
  imageDatasetSource,
  imagenetTemplates,
  loadImageFolderDataset,
  openImageCaptionSource,
  runZeroShotEval,
} from '@moevl/vision';
import type { LIMoEMetadata } from '../io/limoe_checkpoint.js';
import { LIMoEImageTextModel } from '../io/limoe_image_text_model.js';
import { clipLoss } from '../losses/contrastive.js';
import type { LIMoEModel } from '../model/limoe_model.js';
import type { TextTokenizer } from '../tokenizer/text_tokenizer.js';
import { captionBatchTensors } from './caption_pair_data.js';

/** open_clip's validation: the mean contrastive loss over the pairs, and retrieval over all of them. */
export interface PairValidation extends ClipRetrievalMetrics {
  /** open_clip's `clip_val_loss`: per-batch CLIP loss (diagonal positives), weighted by batch size. */
  loss: number;
  pairs: number;
  skipped: SkippedSamples;
}

export interface ValidatePairsOptions {
  /** The validation data: opened once per call, in file order, with the evaluation transform. */
  data: Omit<ImageCaptionSourceSpec, 'preprocess' | 'seed' | 'augment' | 'loop' | 'shuffle'>;
  preprocess: ImageCaptionSourceSpec['preprocess'];
  batchSize: number;
  /** Use only the first `limit` pairs (retrieval is over N × N scores). */
  limit?: number;
  signal?: AbortSignal;
}

/**
 * Validates a LIMoE model on held-out image–caption pairs the way open_clip's `evaluate` does: images and
 * captions encoded alone (evaluation routing: dropless, so nothing depends on the batch), the CLIP loss of
 * each batch at the model's temperature, and `get_clip_metrics` over all pairs at once.
 */
export async function validateLIMoEOnPairs(
  model: LIMoEModel,
  tokenizer: TextTokenizer,
  options: ValidatePairsOptions,
): Promise<PairValidation> {
  const source = await openImageCaptionSource({
    ...options.data,
    preprocess: options.preprocess,
    seed: 0,
    loop: false,
    shuffle: false,
    signal: options.signal,
  });
  const images: tf.Tensor2D[] = [];
  const texts: tf.Tensor2D[] = [];
  let weighted = 0;
  let pairs = 0;
  const limit = options.limit ?? Infinity;
  try {
    while (pairs < limit) {
      const batch = await source.next(Math.min(options.batchSize, limit - pairs));
      if (batch === null) break;
      const input = captionBatchTensors(batch, tokenizer, model.config.contextLength, 'diagonal');
      const img = model.encodeImages(input.images);
      const txt = model.encodeTexts(input.text);
      const loss = clipLoss(img.embeddings, txt.embeddings, model.logitScale as tf.Scalar, {
        normalized: true,
      });
      const n = batch.shape[0];
      weighted += loss.dataSync()[0] * n;
      pairs += n;
      images.push(img.embeddings);
      texts.push(txt.embeddings);
      tf.dispose([
        loss,
        input.images,
        input.text.ids,
        input.text.mask,
        ...Object.values(img.auxLosses),
        ...Object.values(txt.auxLosses),
      ]);
    }
    if (pairs === 0) throw new Error(`validation: no usable pair in ${source.description}.`);
    const [allImages, allTexts] = [tf.concat(images, 0), tf.concat(texts, 0)] as tf.Tensor2D[];
    try {
      return {
        loss: weighted / pairs,
        ...clipRetrievalMetrics(allImages, allTexts),
        pairs,
        skipped: source.skipped,
      };
    } finally {
      tf.dispose([allImages, allTexts]);
    }
  } finally {
    tf.dispose([...images, ...texts]);
    await source.close();
  }
}

export interface ZeroShotDuringTrainingOptions {
  /** An ImageNet-style image folder (class folders, Kaggle's or ImageNetV2's layout, ...). */
  data: string;
  /** Prompt templates (default `simple7`: the 7 of CLIP's 80 ImageNet prompts its authors chose, for speed). */
  templates?: string[];
  /** Evaluate a seeded class-balanced sample of this many images. */
  limit?: number;
  batchSize?: number;
  signal?: AbortSignal;
}

/**
 * Checks, before training, that every zero-shot prompt of the folder's classes fits the text context with
 * the run's tokenizer (a cut prompt can make two classes' prompts identical, which the evaluation refuses):
 * better a clear error at the start than a failed evaluation after hours of training.
 */
export async function checkZeroShotPrompts(
  tokenizer: TextTokenizer,
  contextLength: number,
  options: Pick<ZeroShotDuringTrainingOptions, 'data' | 'templates'>,
): Promise<void> {
  const ds = await loadImageFolderDataset(options.data, { layout: 'auto' });
  for (const template of options.templates ?? imagenetTemplates('simple7')) {
    for (const name of ds.classNames) {
      const prompt = fillTemplate(template, name);
      const tokens = tokenizer.encode(prompt).length + 2;
      if (tokens > contextLength) {
        throw new DatasetError(
          'bad-option',
          `The zero-shot prompts of ${options.data} do not fit the model's text context: "${prompt}" is ${tokens} ` +
            `tokens with the run's tokenizer, more than its contextLength ${contextLength}; raise model.contextLength ` +
            'in the model config, or use other templates.',
        );
      }
    }
  }
}

/**
 * Zero-shot top-1/top-5 of the model being trained on an image folder, as open_clip's `--imagenet-val`:
 * the folder's class names in the templates, no classifier cache (the weights change every step).
 */
export async function zeroShotDuringTraining(
  model: LIMoEModel,
  tokenizer: TextTokenizer,
  metadata: LIMoEMetadata,
  options: ZeroShotDuringTrainingOptions,
): Promise<{ top1: number | null; top5: number | null; images: number; classes: number }> {
  const ds = await loadImageFolderDataset(options.data, { layout: 'auto' });
  // Not disposed: the adapter would dispose the model that is still training.
  const itm = new LIMoEImageTextModel(model, tokenizer, metadata, { name: 'training' });
  const result = await runZeroShotEval({
    model: itm,
    modelId: 'limoe (training)',
    source: imageDatasetSource(ds, { signal: options.signal }),
    classNames: ds.classNames,
    templates: options.templates ?? imagenetTemplates('simple7'),
    batchSize: options.batchSize ?? 64,
    limit: options.limit,
    cacheDir: null,
    signal: options.signal,
    onWarning: () => {},
  });
  return {
    top1: result.metrics.top1,
    top5: result.metrics.top5,
    images: result.counts.evaluated,
    classes: ds.classNames.length,
  };
}
