/** LIMoE's text tokenizer: a small CLIP-style BPE trained on the caption corpus and saved in checkpoints. */
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
