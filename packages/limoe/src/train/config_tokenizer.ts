import { dirname, resolve } from 'node:path';
import { DatasetError, type ReadCaptionsSpec, readImageCaptions } from '@moevl/vision';
import type { LIMoEModelConfig } from '../configs/model_config_file.js';
import { ClipTokenizer } from '../tokenizer/clip_tokenizer.js';
import { CLIP_BPE_TOKENIZER } from '../tokenizer/shipped_tokenizers.js';
import type { TextTokenizer } from '../tokenizer/text_tokenizer.js';
import { trainBpe } from '../tokenizer/train.js';

/** Captions a `bpe` tokenizer learns from when its config does not say (the first ones of the data). */
export const DEFAULT_BPE_CAPTIONS = 100_000;

/**
 * The tokenizer a model config asks for: CLIP's shipped BPE (or a tokenizer.json next to the config), or
 * the project's BPE learned from the first captions of the training data (read without decoding images;
 * deterministic, so a resumed run learns the same one). Its context is the config's `contextLength`.
 */
export async function tokenizerForModelConfig(
  config: LIMoEModelConfig,
  train: ReadCaptionsSpec,
): Promise<TextTokenizer> {
  const t = config.tokenizer;
  const contextLength = config.model.contextLength;
  if (t.type === 'clip') {
    const source =
      t.path !== undefined ? resolve(dirname(config.path), t.path) : (t.name ?? CLIP_BPE_TOKENIZER);
    return ClipTokenizer.load(source, { contextLength });
  }
  const captions = await readImageCaptions(train, { limit: t.captions ?? DEFAULT_BPE_CAPTIONS });
  if (captions.length === 0) {
    throw new DatasetError(
      'no-images',
      `No caption to learn the BPE tokenizer from in ${String(train.path)}.`,
    );
  }
  return trainBpe(captions, { vocabSize: t.vocabSize, contextLength });
}
