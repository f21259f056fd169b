import { loadModelFile, saveModelFile } from '@moevl/core';
import type { LIMoEModel } from '../model/limoe_model.js';
import type { TextTokenizer } from '../tokenizer/text_tokenizer.js';
import { LIMOE_FORMAT, type LIMoEMetadata, type LoadedLIMoE, limoeFileReader } from './limoe_file.js';

export { LIMOE_FORMAT, type LIMoEMetadata, type LoadedLIMoE } from './limoe_file.js';

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

/** Reads a LIMoE model file; every error names the file, and a failed load leaves no tensor behind. */
export async function loadLIMoE(path: string): Promise<LoadedLIMoE> {
  const reader = limoeFileReader(path);
  return reader.loaded(await loadModelFile(path, reader.options));
}
