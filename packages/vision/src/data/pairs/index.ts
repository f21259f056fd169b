/**
 * Image–caption pairs for training: CSV/TSV, JSONL, WebDataset shards and image folders as one
 * streaming, resumable source of decoded batches (`openImageCaptionSource`).
 */
export { openImageCaptionSource } from './open_source.js';
export { countImageCaptions, readImageCaptions, type ReadCaptionsSpec } from './read_captions.js';
export { expandBraces, MAX_EXPANDED_NAMES } from './brace_expand.js';
export {
  parseCsvRecord,
  DEFAULT_CSV_CAPTION_KEY,
  DEFAULT_CSV_IMAGE_KEY,
  DEFAULT_CSV_SEPARATOR,
} from './csv_table.js';
export { JSONL_CAPTION_KEYS, JSONL_IMAGE_KEYS } from './jsonl_table.js';
export { DEFAULT_CAPTION_TEMPLATES } from './folder_table.js';
export { DEFAULT_SHUFFLE_BUFFER } from './webdataset_sampler.js';
export { WEBDATASET_CAPTION_EXTENSIONS, WEBDATASET_IMAGE_EXTENSIONS } from './tar_shard.js';
export { describeSkips, MAX_SKIP_EXAMPLES } from './skips.js';
export type {
  ImageCaptionBatch,
  ImageCaptionFormat,
  ImageCaptionPreprocess,
  ImageCaptionSource,
  ImageCaptionSourceSpec,
  ImageCaptionSourceState,
  SkippedSample,
  SkippedSamples,
  SkipReason,
} from './types.js';
