/**
 * LIMoE's text tokenizers: a small CLIP-style BPE trained on the caption corpus, and CLIP's own BPE through
 * Hugging Face's tokenizers; both behind `TextTokenizer` and saved in model files.
 */
export { BpeTokenizer, type BpeTokenizerOptions, type EncodeBatchOptions } from './bpe_tokenizer.js';
export { trainBpe, type TrainBpeOptions } from './train.js';
export { layoutBatch, type EncodedBatch, type LayoutIds } from './batch.js';
export { encodedBatchToTensors, type TokenTensors } from './tensors.js';
export {
  BPE_JSON_VERSION,
  DEFAULT_SPECIAL_TOKENS,
  validateBpeJSON,
  type BpeTokenizerJSON,
  type SpecialTokens,
} from './serialization.js';
export { END_OF_WORD, canonicalText, normalizeText, pretokenize } from './normalize.js';
export { LruCache } from './word_cache.js';
export type { HfTokenizerRef, TextTokenizer, TextTokenizerJSON } from './text_tokenizer.js';
export { CLIP_CONTEXT_LENGTH, ClipTokenizer, type ClipTokenizerOptions } from './clip_tokenizer.js';
export {
  CLIP_BPE_TOKENIZER,
  readShippedTokenizer,
  shippedTokenizerNames,
  type ShippedTokenizer,
} from './shipped_tokenizers.js';
export { loadTextTokenizer } from './load_tokenizer.js';
