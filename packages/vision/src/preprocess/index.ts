/**
 * CLIP-exact image preprocessing: Pillow's decoding and resampling reproduced on top of sharp, in
 * open_clip's order (resize, center crop, RGB, /255, normalise). See `preprocessImage`.
 */
export * from './config.js';
export { preprocessImage, preprocessImageData, type ImageData3D } from './preprocess_image.js';
export { preprocessPilImage } from './preprocess_pixels.js';
export {
  preprocessBatch,
  type PreprocessBatchOptions,
  type PreprocessBatchResult,
  type PreprocessFailure,
} from './batch.js';
export { preprocessStream, type PreprocessStreamBatch, type PreprocessStreamOptions } from './stream.js';
export {
  readPreprocessorConfig,
  PreprocessorConfigError,
  type ReadPreprocessorConfigOptions,
} from './hf_config.js';
export { ImagePreprocessError, describeSource, type ImageSource } from './errors.js';
export { decodeImage, pilModeOf } from './decode.js';
export { DEFAULT_MAX_IMAGE_BYTES, readImageFile, type ReadImageOptions } from './read_image.js';
export type { PilImage, PilMode } from './pil_image.js';
export { pilImageToTensorData, normalisationTable, outputShape } from './pipeline.js';
export {
  checkRandomResizedCrop,
  randomResizedCropConfig,
  randomResizedCropData,
  randomResizedCropRect,
  type CropRandomness,
  type RandomResizedCropOptions,
} from './random_resized_crop.js';
export { resizedSize, cropRect, roundHalfEven, type Size } from './geometry.js';
export { PIL_RESAMPLE_CODES } from './pil_filters.js';
