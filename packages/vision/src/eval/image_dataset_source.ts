import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../data/image_dataset.js';
import { applyVipsThreads, prepareBatch } from '../preprocess/batch.js';
import { resolvePreprocessConfig } from '../preprocess/config.js';
import type { PreprocessConfig } from '../preprocess/config.js';
import { resolveMaxImageBytes } from '../preprocess/read_image.js';
import { ZeroShotEvalError } from './eval_error.js';
import type { EvalSource, EvalSourceBatch } from './eval_source.js';

export interface ImageDatasetSourceOptions {
  /** Images decoded at once (see `preprocessBatch`; default 4). */
  concurrency?: number;
  /**
   * Files larger than this many bytes are skipped without being read, each reported in its batch's
   * `errors` with its size (default `DEFAULT_MAX_IMAGE_BYTES`, 256 MiB).
   */
  maxImageBytes?: number;
  /**
   * The evaluation's stop signal (pass the one given to `runZeroShotEval`): a batch being read then stops
   * at once and rejects with a `ZeroShotEvalError` 'aborted', rather than finishing its reads first.
   */
  signal?: AbortSignal;
}

/**
 * An image-folder dataset (any ImageNet layout) as an evaluation source. Decoding happens here, batch by
 * batch, with the CLIP-exact pipeline; a file that cannot be decoded comes back in `errors` so the
 * evaluator can skip it (or fail in strict mode) with its path; so does a file that is not a regular file
 * (a FIFO or a device put there after the folder was listed) or is over `maxImageBytes`, neither of which
 * is read. A subset dataset (ImageNet-A/R) keeps its `classIndices` so prediction is restricted to its
 * classes, as every published number for them is.
 */
export function imageDatasetSource(ds: ImageDataset, options: ImageDatasetSourceOptions = {}): EvalSource {
  const labels = Int32Array.from(ds.items, (item) => item.label);
  const maxImageBytes = resolveMaxImageBytes(options.maxImageBytes);
  const { signal } = options;
  const source: EvalSource = {
    name: ds.name,
    count: ds.items.length,
    labels,
    id: (i) => ds.items[i].path,
    async loadBatch(indices: number[], preprocess: PreprocessConfig): Promise<EvalSourceBatch> {
      const paths = indices.map((i) => ds.items[i].path);
      // The plain buffer is kept next to the tensor: `pixelData` lets a model that runs outside
      // TensorFlow.js (CLIP through ONNX Runtime) skip the copy back out of the tensor.
      applyVipsThreads({});
      let prepared;
      try {
        prepared = await prepareBatch(paths, resolvePreprocessConfig(preprocess), {
          concurrency: options.concurrency,
          maxImageBytes,
          signal,
        });
      } catch (err) {
        if (!signal?.aborted) throw err;
        throw new ZeroShotEvalError(
          `evaluation stopped while reading images of ${ds.root}; batches finished before are kept in ` +
            'the work dir, if there is one (run again with resume to continue).',
          { code: 'aborted', cause: err },
        );
      }
      const { data: pixelData, indices: rows, errors, shape } = prepared;
      const pixels = tf.tensor4d(pixelData, [rows.length, ...shape], 'float32');
      const loaded = rows.map((r) => indices[r]);
      const failed = errors.map((e) => ({ index: indices[e.index], message: e.message }));
      if (loaded.length === 0) {
        pixels.dispose();
        return { pixels: null, loaded, errors: failed };
      }
      return { pixels, loaded, errors: failed, pixelData };
    },
  };
  if (ds.isSubset) source.classIndices = [...ds.classIndices];
  return source;
}
