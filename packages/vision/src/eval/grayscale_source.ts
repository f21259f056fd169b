import * as tf from '@tensorflow/tfjs';
import type { GrayscaleDataset } from '../data/grayscale_dataset.js';
import { type PreprocessConfig, resolvePreprocessConfig } from '../preprocess/config.js';
import type { PilImage } from '../preprocess/pil_image.js';
import { normalisationTable, outputShape, pilImageToTensorData } from '../preprocess/pipeline.js';
import type { EvalSource, EvalSourceBatch } from './eval_source.js';

/**
 * An in-memory 8-bit grayscale dataset (Fashion-MNIST, MNIST) as an evaluation source. Each image goes
 * through the same pipeline a file would — as a PIL `L` image: resized to the model's size with the
 * model's filter (Pillow's antialiased resampling, so 28 → 224 matches `Image.fromarray(x).resize`),
 * center-cropped, replicated to RGB by `convert('RGB')`, scaled and normalised with the model's mean/std —
 * so numbers agree with a Python open_clip evaluation of the same arrays. Items are named by their index
 * in the official file, `<dataset>:<split>:<i>` (e.g. `fashion-mnist:test:42`).
 */
export function grayscaleSource(ds: GrayscaleDataset, name: string = ds.name): EvalSource {
  const side = ds.height * ds.width;
  if (ds.images.length < ds.count * side) {
    throw new RangeError(
      `grayscaleSource: ${name} holds ${ds.images.length} bytes, fewer than ${ds.count} images of ` +
        `${ds.height}×${ds.width}.`,
    );
  }
  return {
    name,
    count: ds.count,
    labels: ds.labels,
    id: (i) => `${ds.name}:${ds.split}:${ds.indices[i]}`,
    async loadBatch(indices: number[], preprocess: PreprocessConfig): Promise<EvalSourceBatch> {
      const config = resolvePreprocessConfig(preprocess);
      const shape = outputShape(ds.width, ds.height, config);
      const per = shape[0] * shape[1] * shape[2];
      const lut = normalisationTable(config);
      const data = new Float32Array(indices.length * per);
      const loaded: number[] = [];
      const errors: EvalSourceBatch['errors'] = [];
      for (const index of indices) {
        if (!Number.isInteger(index) || index < 0 || index >= ds.count) {
          errors.push({ index, message: `no image #${index} in ${name} (${ds.count} images)` });
          continue;
        }
        const img: PilImage = {
          mode: 'L',
          width: ds.width,
          height: ds.height,
          channels: 1,
          data: ds.images.subarray(index * side, (index + 1) * side),
        };
        pilImageToTensorData(img, config, lut, data, loaded.length * per);
        loaded.push(index);
      }
      if (loaded.length === 0) return { pixels: null, loaded, errors };
      const used = loaded.length === indices.length ? data : data.subarray(0, loaded.length * per);
      return { pixels: tf.tensor4d(used, [loaded.length, ...shape], 'float32'), loaded, errors };
    },
  };
}
