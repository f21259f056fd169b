import { loadModelFile, saveModelFile } from '@moevl/core';
import { LIMoEModel } from '../model/limoe_model.js';
import { type LIMoEConfig, validateLIMoEConfig } from '../model/config.js';
import { BpeTokenizer } from '../tokenizer/bpe_tokenizer.js';

/** The model-file format of LIMoE models (core's `saveModelFile`): `moevl-limoe/1`. */
export const LIMOE_FORMAT = 'moevl-limoe';

/** What describes a trained LIMoE besides its weights (stored as safetensors metadata). */
export interface LIMoEMetadata {
  /** How images must be normalised: single-channel mean/std for grayscale models. */
  imageMean: number;
  imageStd: number;
  /** Class names and templates it was trained with, for documentation. */
  trainedOn?: string;
  [key: string]: unknown;
}

/**
 * A LIMoE model file: weights plus, in the header, the model config, the tokenizer and the image
 * normalisation, so the file alone rebuilds a model that embeds images and texts.
 */
export async function saveLIMoE(
  path: string,
  model: LIMoEModel,
  tokenizer: BpeTokenizer,
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
  tokenizer: BpeTokenizer;
  metadata: LIMoEMetadata;
}

/** Reads a LIMoE model file; every error names the file, and a failed load leaves no tensor behind. */
export async function loadLIMoE(path: string): Promise<LoadedLIMoE> {
  let tokenizer: BpeTokenizer | undefined;
  const { model, extras } = await loadModelFile(path, {
    format: LIMOE_FORMAT,
    what: 'LIMoE model file',
    requiredExtras: ['tokenizer', 'metadata'],
    validate: (config) => validateLIMoEConfig(config as LIMoEConfig),
    build: (config, extras) => {
      // Checked before any tensor exists, so a damaged file fails here, not at the first batch.
      const { imageMean, imageStd } = (extras.metadata ?? {}) as Partial<LIMoEMetadata>;
      if (!(Number.isFinite(imageMean) && Number.isFinite(imageStd) && (imageStd as number) > 0)) {
        throw new Error(
          `${path}: the model file has no valid image normalisation (imageMean ${String(imageMean)}, ` +
            `imageStd ${String(imageStd)} in its metadata); it was not written by saveLIMoE or is damaged.`,
        );
      }
      tokenizer = BpeTokenizer.fromJSON(extras.tokenizer);
      return new LIMoEModel(config);
    },
  });
  return { model, tokenizer: tokenizer!, metadata: extras.metadata as LIMoEMetadata };
}
