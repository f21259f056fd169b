/**
 * Pretrained CLIP models through transformers.js (ONNX Runtime), as `ImageTextModel`s for the
 * zero-shot evaluation in this package.
 */
export { defaultLogitScale, loadTransformersClip } from './transformers_clip.js';
export type { TransformersClipOptions } from './transformers_clip.js';
export { TransformersClipModel, l2NormalizeRows } from './transformers_clip_model.js';
export type { ClipGraphs, TransformersClipModelInit } from './transformers_clip_model.js';
export { ClipLoadError } from './clip_load_error.js';
export { tokenizeForClip, clipMaxLength, encodeForClip, packClipTokens, clipPadId } from './clip_tokenize.js';
export type { ClipTokenBatch } from './clip_tokenize.js';
export { DTYPE_SUFFIXES, canonicalDtype, clipOnnxFiles } from './dtypes.js';
export type { ClipDtype, ClipOnnxFiles } from './dtypes.js';
export { CLIP_METADATA_FILES, localClipModelFiles, resolveClipSource } from './model_source.js';
export type { ClipSource, ClipLayout } from './model_source.js';
export * from './clip_family.js';
