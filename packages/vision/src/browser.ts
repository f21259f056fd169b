/**
 * @moevl/vision in a browser (the `browser` condition of the package's `exports`): the ViT / V-MoE
 * encoders (saved and loaded by path only on Node), the `ImageTextModel` contract, open_clip's zero-shot
 * classifier and one-call zero-shot on pixel tensors, and the preprocessing pipeline after decoding
 * (`preprocessPilImage`: a page decodes with a canvas). Decoding with sharp, datasets, evaluation runs with
 * their files, CLIP through transformers.js and the model-family registry (which resolves files) are only in
 * the Node entry. Add browser-safe exports here too; `browser.test.ts` checks this entry reaches no Node
 * module, and the routing explorer's bundle test that it bundles for a page.
 */
export type * from './model/image_text_model.js';
export * from './models/moe_placement.js';
export * from './models/patch_embedding.js';
export * from './models/position_embedding.js';
export * from './models/presets.js';
export * from './models/resize_matrix.js';
export * from './models/vision_transformer.js';
export * from './zeroshot/index.js';
export * from './preprocess/config.js';
export { preprocessPilImage, type ImageData3D } from './preprocess/preprocess_pixels.js';
export { ImagePreprocessError, describeSource, type ImageSource } from './preprocess/errors.js';
export type { PilImage, PilMode } from './preprocess/pil_image.js';
export { pilImageToTensorData, normalisationTable, outputShape } from './preprocess/pipeline.js';
export {
  checkRandomResizedCrop,
  randomResizedCropConfig,
  randomResizedCropData,
  randomResizedCropRect,
  type CropRandomness,
  type RandomResizedCropOptions,
} from './preprocess/random_resized_crop.js';
export { resizedSize, cropRect, roundHalfEven, type Size } from './preprocess/geometry.js';
export { PIL_RESAMPLE_CODES } from './preprocess/pil_filters.js';
export * from './eval/eval_error.js';
export * from './eval/prompt_check.js';
export * from './eval/zero_shot_browser.js';
