import * as tf from '@tensorflow/tfjs';
import { type PreprocessConfig, resolvePreprocessConfig } from './config.js';
import { decodeImage } from './decode.js';
import type { ImageSource } from './errors.js';
import { type ImageData3D, preprocessPilImage } from './preprocess_pixels.js';

export type { ImageData3D } from './preprocess_pixels.js';

/**
 * Decodes and preprocesses one image to CHW float32 without creating a tensor (for ONNX Runtime, or to
 * fill a batch buffer). Same pipeline and errors as `preprocessImage`.
 */
export async function preprocessImageData(
  source: ImageSource,
  options: Partial<PreprocessConfig> = {},
): Promise<ImageData3D> {
  const config = resolvePreprocessConfig(options);
  const img = await decodeImage(source);
  return preprocessPilImage(img, config);
}

/**
 * CLIP-exact preprocessing of one image (a path or encoded bytes) to a `[3, H, W]` float32 tensor,
 * reproducing open_clip's `Resize(size, BICUBIC) → CenterCrop → convert('RGB') → ToTensor → Normalize`
 * on a PIL image: Pillow's decoder output (ICC and EXIF orientation ignored), Pillow's antialiased
 * resampling computed here in Pillow's own fixed-point arithmetic (down- and upscaling alike), torchvision's
 * size and crop rounding, and float32 normalisation. Defaults: 224, CLIP mean/std.
 *
 * Throws `ImagePreprocessError` (message names the source) for unreadable input.
 */
export async function preprocessImage(
  source: string | Buffer,
  options: Partial<PreprocessConfig> = {},
): Promise<tf.Tensor3D> {
  const { data, shape } = await preprocessImageData(source, options);
  return tf.tensor3d(data, shape, 'float32');
}
