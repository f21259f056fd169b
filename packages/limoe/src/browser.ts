/**
 * @moevl/limoe in a browser (the `browser` condition of the package's `exports`): the model, its
 * project-BPE tokenizer, model files from bytes (`parseLIMoE`), the `ImageTextModel` adapter, the shipped
 * models' catalog and per-token routing (`routeImageTokens`, `routeTextTokens`). Files, training runs, CLIP's
 * shipped tokenizer and the model-family registration are only in the Node entry. Add browser-safe exports
 * here too; `browser.test.ts` checks the entry reaches no Node module.
 */
export * from './analysis/token_routing.js';
export * from './configs/model_config_error.js';
export * from './configs/model_config_file.js';
export { LIMOE_FORMAT, parseLIMoE, type LIMoEMetadata, type LoadedLIMoE } from './io/limoe_file.js';
export * from './io/limoe_image_text_model.js';
export { BUILTIN_MODEL_CATALOG, BUILTIN_PREFIX, type BuiltinModelEntry } from './io/builtin_catalog.js';
export * from './losses/index.js';
export * from './model/index.js';
export {
  BpeTokenizer,
  type BpeTokenizerOptions,
  type EncodeBatchOptions,
} from './tokenizer/bpe_tokenizer.js';
export { trainBpe, type TrainBpeOptions } from './tokenizer/train.js';
export { layoutBatch, type EncodedBatch, type LayoutIds } from './tokenizer/batch.js';
export { encodedBatchToTensors, type TokenTensors } from './tokenizer/tensors.js';
export {
  BPE_JSON_VERSION,
  DEFAULT_SPECIAL_TOKENS,
  validateBpeJSON,
  type BpeTokenizerJSON,
  type SpecialTokens,
} from './tokenizer/serialization.js';
export { END_OF_WORD, canonicalText, normalizeText, pretokenize } from './tokenizer/normalize.js';
export { LruCache } from './tokenizer/word_cache.js';
export type { HfTokenizerRef, TextTokenizer, TextTokenizerJSON } from './tokenizer/text_tokenizer.js';
export { loadTextTokenizer } from './tokenizer/load_tokenizer.js';
export * from './train/captions.js';
export * from './train/variants.js';
