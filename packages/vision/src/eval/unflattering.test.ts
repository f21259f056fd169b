import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFashionMnist } from '../data/fashion_mnist.js';
import type { GrayscaleDataset } from '../data/grayscale_dataset.js';
import type { ImageTextModel, TokenizedTexts } from '../model/image_text_model.js';
import { CLIP_PREPROCESS } from '../preprocess/config.js';
import { ZeroShotEvalError } from './eval_error.js';
import { removeTempDirs, tempDir } from './eval.test.helpers.js';
import { grayscaleSource } from './grayscale_source.js';
import { checkPrompts } from './prompt_check.js';
import { runZeroShotEval } from './run_eval.js';

/**
 * "Every number must be unable to flatter": a model that cannot tell classes apart scores ≈ 1/C, a model
 * that outputs NaN is an error (never a rank), and prompts a model cannot read whole are reported.
 */

const NAMES = [
  't-shirt',
  'trouser',
  'pullover',
  'dress',
  'coat',
  'sandal',
  'shirt',
  'sneaker',
  'bag',
  'boot',
];
const PRE = { ...CLIP_PREPROCESS, size: 28, cropSize: 28 };

let ds: GrayscaleDataset;
beforeAll(async () => {
  ds = await loadFashionMnist({ split: 'test', perClass: 20 });
});
afterAll(removeTempDirs);

/** A model of 4-dim embeddings: images map through `image`, texts through `text` (both then L2-normalised). */
function fakeModel(
  image: (pixels: tf.Tensor4D) => tf.Tensor2D,
  text: (texts: string[]) => number[][] = (texts) => texts.map((t) => [1, t.length % 7, 0.5, 0.25]),
  extra: Partial<ImageTextModel> = {},
): ImageTextModel {
  return {
    name: 'fake',
    embeddingDim: 4,
    logitScale: 100,
    preprocess: PRE,
    embedImages: async (pixels) => tf.tidy(() => image(pixels)),
    embedTexts: async (texts) => tf.tidy(() => tf.tensor2d(text(texts))),
    dispose: () => {},
    ...extra,
  };
}

const run = (model: ImageTextModel, extra = {}) =>
  runZeroShotEval({
    model,
    modelId: 'fake',
    source: grayscaleSource(ds),
    classNames: NAMES,
    templates: ['a photo of a {}.'],
    cacheDir: null,
    batchSize: 32,
    onWarning: () => {},
    ...extra,
  });

describe('a model that cannot tell classes apart', () => {
  it('scores 1/C (ties go to the lowest class index, as torch.topk), not 100%', async () => {
    // Every image and every prompt embeds to the same vector: all ten classes tie for every image.
    const same = fakeModel(
      (px) => tf.ones([px.shape[0], 4]),
      (texts) => texts.map(() => [1, 1, 1, 1]),
    );
    const r = await run(same);
    expect(r.counts.evaluated).toBe(200);
    expect(r.metrics.top1).toBeCloseTo(0.1, 10);
    expect(r.metrics.top5).toBeCloseTo(0.5, 10);
    expect(r.metrics.meanPerClassRecall).toBeCloseTo(0.1, 10);
    expect(r.predictions.every((p) => p.top[0].class === 0)).toBe(true);
  });
});

describe('a model that outputs NaN', () => {
  it('stops with one sentence naming the model and the first image, keeping earlier batches', async () => {
    // Image 40 of the run (batch 2) embeds as NaN.
    const nanFrom = 40;
    let seen = 0;
    const broken = fakeModel((px) => {
      const n = px.shape[0];
      const rows = Array.from({ length: n }, (_, i) =>
        seen + i === nanFrom ? [NaN, 1, 1, 1] : [1, 0, 0, 0],
      );
      seen += n;
      return tf.tensor2d(rows);
    });
    const workDir = await tempDir('nan');
    const error = (await run(broken, { workDir }).catch((e: unknown) => e)) as ZeroShotEvalError;
    expect(error).toBeInstanceOf(ZeroShotEvalError);
    expect(error.code).toBe('non-finite');
    const id = `fashion-mnist:test:${ds.indices[nanFrom]}`;
    expect(error.message).toBe(
      `model fake produced NaN scores for image ${id}; the model file may be corrupt ` +
        `(no metrics were computed; the predictions of earlier batches are kept in ${workDir}).`,
    );
    const lines = (await readFile(join(workDir, 'predictions.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1); // batch 0 (images 0–31); batch 1 held the NaN
  });

  it('in a text embedding: stops naming the class before any image is embedded', async () => {
    let images = 0;
    const broken = fakeModel(
      (px) => ((images += px.shape[0]), tf.ones([px.shape[0], 4])),
      (texts) => texts.map((t) => (t.includes('dress') ? [1, Infinity, 0, 0] : [1, 0, 0, 0])),
    );
    const error = (await run(broken).catch((e: unknown) => e)) as ZeroShotEvalError;
    expect(error.code).toBe('non-finite');
    expect(error.message).toMatch(/^model fake produced NaN text embeddings for class "dress"/);
    expect(images).toBe(0);
  });
});

describe('prompts the model cannot read whole', () => {
  /** A word tokenizer with a context of `context` tokens (2 of them <sot>/<eot>). */
  const wordTokenizer =
    (context: number) =>
    (texts: string[]): TokenizedTexts => {
      const vocab = new Map<string, number>();
      const id = (w: string) => vocab.get(w) ?? (vocab.set(w, vocab.size), vocab.size - 1);
      const ids = texts.map((t) => t.split(' ').map(id));
      return {
        ids: ids.map((row) => row.slice(0, context - 2)),
        truncated: ids.map((row) => row.length > context - 2),
        contextLength: context,
      };
    };

  it('reports how many prompts were truncated, with examples, in the result and on the warning channel', async () => {
    const model = fakeModel((px) => tf.ones([px.shape[0], 4]), undefined, { tokenize: wordTokenizer(8) });
    const warnings: string[] = [];
    const r = await run(model, {
      templates: ['a {}.', 'a {} in a black and white picture.'],
      onWarning: (w: string) => warnings.push(w),
    });
    const expected =
      '10 of 20 prompts are longer than the 8-token text context of fake and were truncated ' +
      '(e.g. "a t-shirt in a black and white picture.", "a trouser in a black and white picture.", ' +
      '"a pullover in a black and white picture.", …).';
    expect(r.warnings).toEqual([expected]);
    expect(warnings).toEqual([expected]);
  });

  it('refuses a template whose prompts become the same for two classes', () => {
    const model = fakeModel((px) => px as never, undefined, { tokenize: wordTokenizer(6) });
    const error = (() => {
      try {
        checkPrompts(model, NAMES, ['a {}.', 'a cropped image of the {}.']);
      } catch (e) {
        return e as ZeroShotEvalError;
      }
    })();
    expect(error?.code).toBe('bad-template');
    expect(error?.message).toBe(
      'template "a cropped image of the {}." gives the same 6-token prompt for "t-shirt" and "trouser" ' +
        'with the tokenizer of fake (the class name is cut off); shorten the template or use a model ' +
        'with a longer text context.',
    );
    // Two classes that share a name (ImageNet's two "missile"s) may share prompts.
    expect(checkPrompts(model, ['missile', 'missile'], ['a {}.'])).toEqual([]);
  });
});
