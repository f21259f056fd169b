import { loadModelFile, saveModelFile } from '@moevl/core';
import { LIMoEModel } from '../model/limoe_model.js';
import { type LIMoEConfig, validateLIMoEConfig } from '../model/config.js';
import { loadTextTokenizer } from '../tokenizer/load_tokenizer.js';
import type { TextTokenizer } from '../tokenizer/text_tokenizer.js';

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

/**
 * A LIMoE model file: weights plus, in the header, the model config, the tokenizer and the image
 * normalisation, so the file alone rebuilds a model that embeds images and texts. The tokenizer is the
 * project's BPE (stored whole) or CLIP's shipped BPE (stored by name and sha256: no download on load).
 */
export async function saveLIMoE(
  path: string,
  model: LIMoEModel,
  tokenizer: TextTokenizer,
  metadata: LIMoEMetadata,
): Promise<void> {
  await saveModelFile(path, model.namedWeights(), {
    format: LIMOE_FORMAT,
    version: 1,
    config: model.config,
    extras: { tokenizer: tokenizer.toJSON(), metadata },
  });
}

export interface LoadedLIMoE {
  model: LIMoEModel;
  /** A `BpeTokenizer` or a `ClipTokenizer`, whichever the model was trained with. */
  tokenizer: TextTokenizer;
  metadata: LIMoEMetadata;
}

/** Reads a LIMoE model file; every error names the file, and a failed load leaves no tensor behind. */
export async function loadLIMoE(path: string): Promise<LoadedLIMoE> {
  let tokenizer: TextTokenizer | undefined;
  const { model, extras } = await loadModelFile(path, {
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
          `${path}: the model file has no valid image normalisation (imageMean ${String(imageMean)}, ` +
            `imageStd ${String(imageStd)} in its metadata); it was not written by saveLIMoE or is damaged.`,
        );
      }
      tokenizer = loadTextTokenizer(extras.tokenizer, path);
      const vocabSize = (config as LIMoEConfig).vocabSize;
      if (tokenizer.vocabSize > vocabSize) {
        throw new Error(
          `${path}: its tokenizer has ${tokenizer.vocabSize} tokens and the model's embedding ${vocabSize}; the file is damaged.`,
        );
      }
      return new LIMoEModel(config);
    },
  });
  return { model, tokenizer: tokenizer!, metadata: extras.metadata as LIMoEMetadata };
}

/** One finite number, or one per channel (`positive`: all > 0). */
function isNormalisation(v: unknown, channels: number, positive: boolean): boolean {
  const values = Array.isArray(v) ? v : [v];
  if (Array.isArray(v) && v.length !== channels && v.length !== 1) return false;
  return values.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0));
}
