import { type LoadModelFileOptions, type LoadedModelFile, parseModelFile } from '@moevl/core';
import { LIMoEModel } from '../model/limoe_model.js';
import { type LIMoEConfig, validateLIMoEConfig } from '../model/config.js';
import { loadTextTokenizer } from '../tokenizer/load_tokenizer.js';
import type { TextTokenizer } from '../tokenizer/text_tokenizer.js';

/**
 * Reading a LIMoE model file without a file system — it is in the browser entry, so nothing here may import
 * a Node module: `parseLIMoE` takes the file's bytes, and `loadLIMoE` (limoe_checkpoint.ts) reads the file
 * and uses the same reader, so both check and build alike.
 */

/** The model-file format of LIMoE models (core's `saveModelFile`): `moevl-limoe/1`. */
export const LIMOE_FORMAT = 'moevl-limoe';

/** What describes a trained LIMoE besides its weights (stored as safetensors metadata). */
export interface LIMoEMetadata {
  /**
   * How images must be normalised: one mean/std (grayscale models, or the same for every channel), or one
   * per channel of an RGB model (CLIP's `[0.4815, 0.4578, 0.4082]` / `[0.2686, 0.2613, 0.2758]`).
   */
  imageMean: number | number[];
  imageStd: number | number[];
  /** Class names and templates it was trained with, for documentation. */
  trainedOn?: string;
  [key: string]: unknown;
}

export interface LoadedLIMoE {
  model: LIMoEModel;
  /** A `BpeTokenizer` or a `ClipTokenizer`, whichever the model was trained with. */
  tokenizer: TextTokenizer;
  metadata: LIMoEMetadata;
}

/** The model-file options of a LIMoE file named `source`, and how to get a `LoadedLIMoE` from the result. */
export function limoeFileReader(source: string): {
  options: LoadModelFileOptions<LIMoEConfig, LIMoEModel>;
  loaded(file: LoadedModelFile<LIMoEConfig, LIMoEModel>): LoadedLIMoE;
} {
  let tokenizer: TextTokenizer | undefined;
  return {
    options: {
      format: LIMOE_FORMAT,
      what: 'LIMoE model file',
      requiredExtras: ['tokenizer', 'metadata'],
      validate: (config) => validateLIMoEConfig(config as LIMoEConfig),
      build: (config, extras) => {
        // Checked before any tensor exists, so a damaged file fails here, not at the first batch.
        const { imageMean, imageStd } = (extras.metadata ?? {}) as Partial<LIMoEMetadata>;
        const channels = (config as LIMoEConfig).channels;
        if (!(isNormalisation(imageMean, channels, false) && isNormalisation(imageStd, channels, true))) {
          throw new Error(
            `${source}: the model file has no valid image normalisation (imageMean ${String(imageMean)}, ` +
              `imageStd ${String(imageStd)} in its metadata); it was not written by saveLIMoE or is damaged.`,
          );
        }
        tokenizer = loadTextTokenizer(extras.tokenizer, source);
        const vocabSize = (config as LIMoEConfig).vocabSize;
        if (tokenizer.vocabSize > vocabSize) {
          throw new Error(
            `${source}: its tokenizer has ${tokenizer.vocabSize} tokens and the model's embedding ${vocabSize}; the file is damaged.`,
          );
        }
        return new LIMoEModel(config);
      },
    },
    loaded: ({ model, extras }) => ({
      model,
      tokenizer: tokenizer!,
      metadata: extras.metadata as LIMoEMetadata,
    }),
  };
}

/**
 * A LIMoE model from the bytes of its model file (in a browser, a `fetch` response); `source` names the file
 * in errors. The checks of `loadLIMoE`, and a failed load leaves no tensor behind.
 */
export function parseLIMoE(bytes: Uint8Array, source: string): LoadedLIMoE {
  const reader = limoeFileReader(source);
  return reader.loaded(parseModelFile(bytes, source, reader.options));
}

/** One finite number, or one per channel (`positive`: all > 0). */
function isNormalisation(v: unknown, channels: number, positive: boolean): boolean {
  const values = Array.isArray(v) ? v : [v];
  if (Array.isArray(v) && v.length !== channels && v.length !== 1) return false;
  return values.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0));
}
