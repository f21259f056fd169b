import * as tf from '@tensorflow/tfjs';
import { readSafetensors, writeSafetensors } from '@moevl/core';
import { LIMoEModel } from '../model/limoe_model.js';
import { type LIMoEConfig, validateLIMoEConfig } from '../model/config.js';
import { BpeTokenizer } from '../tokenizer/bpe_tokenizer.js';

const FORMAT = 'moevl-limoe/1';

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
 * A LIMoE model file: weights (safetensors, F32) plus the model config, the tokenizer and the image
 * normalisation in the metadata, so the file alone rebuilds a model that embeds images and texts.
 */
export async function saveLIMoE(
  path: string,
  model: LIMoEModel,
  tokenizer: BpeTokenizer,
  metadata: LIMoEMetadata,
): Promise<void> {
  await writeSafetensors(path, model.namedWeights(), {
    format: FORMAT,
    config: JSON.stringify(model.config),
    tokenizer: JSON.stringify(tokenizer.toJSON()),
    metadata: JSON.stringify(metadata),
  });
}

export interface LoadedLIMoE {
  model: LIMoEModel;
  tokenizer: BpeTokenizer;
  metadata: LIMoEMetadata;
}

export async function loadLIMoE(path: string): Promise<LoadedLIMoE> {
  const { tensors, metadata } = await readSafetensors(path);
  try {
    if (metadata.format !== FORMAT) {
      throw new Error(
        `${path}: not a LIMoE model file (format ${JSON.stringify(metadata.format)}, expected "${FORMAT}").`,
      );
    }
    let config: LIMoEConfig;
    let tokenizerJson: unknown;
    let extra: LIMoEMetadata;
    try {
      config = JSON.parse(metadata.config) as LIMoEConfig;
      tokenizerJson = JSON.parse(metadata.tokenizer);
      extra = JSON.parse(metadata.metadata) as LIMoEMetadata;
    } catch {
      throw new Error(
        `${path}: the LIMoE metadata (config, tokenizer) is not valid JSON; the file is damaged.`,
      );
    }
    // Checked before any tensor exists, so a damaged file fails here, naming itself, not at the first batch.
    const { imageMean, imageStd } = extra ?? ({} as LIMoEMetadata);
    if (!(Number.isFinite(imageMean) && Number.isFinite(imageStd) && imageStd > 0)) {
      throw new Error(
        `${path}: the model file has no valid image normalisation (imageMean ${String(imageMean)}, ` +
          `imageStd ${String(imageStd)} in its metadata); it was not written by saveLIMoE or is damaged.`,
      );
    }
    let validated: LIMoEConfig;
    try {
      validated = validateLIMoEConfig(config);
    } catch (err) {
      throw new Error(`${path}: ${(err as Error).message}`, { cause: err });
    }
    const tokenizer = BpeTokenizer.fromJSON(tokenizerJson);
    const model = new LIMoEModel(validated);
    try {
      model.loadWeights(tensors, { source: path });
    } catch (err) {
      model.dispose();
      throw err;
    }
    return { model, tokenizer, metadata: extra };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
