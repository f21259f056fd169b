import { type PreprocessConfig, resolvePreprocessConfig } from './config.js';
import type { PilImage } from './pil_image.js';
import { outputShape, pilImageToTensorData } from './pipeline.js';

/** Preprocessed pixels without tfjs: CHW float32 and its shape. */
export interface ImageData3D {
  data: Float32Array;
  shape: [number, number, number];
}

/**
 * The preprocessing of `preprocessImage` for an image that is already decoded — a canvas's pixels in a
 * browser, or a decoder of your own: the same resize, crop, `convert('RGB')` and normalisation, so equal
 * pixels give equal inputs whichever side decoded them. No sharp, no file system.
 */
export function preprocessPilImage(img: PilImage, options: Partial<PreprocessConfig> = {}): ImageData3D {
  const config = resolvePreprocessConfig(options);
  return { data: pilImageToTensorData(img, config), shape: outputShape(img.width, img.height, config) };
}
