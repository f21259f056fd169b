import type * as tf from '@tensorflow/tfjs';
import type { PreprocessConfig } from '../preprocess/config.js';

/** One batch from `EvalSource.loadBatch`; the caller owns (and disposes) `pixels`. */
export interface EvalSourceBatch {
  /** `[loaded.length, 3, H, W]`, or null when no item of the batch could be read. */
  pixels: tf.Tensor4D | null;
  /** Item indices of the rows of `pixels`, in order. */
  loaded: number[];
  /** Items that could not be read, with the reason. */
  errors: Array<{ index: number; message: string }>;
  /**
   * Optional: the same pixels as `pixels`, as the plain NCHW buffer they were made from. A model that
   * runs outside TensorFlow.js (`embedPixelData`, as CLIP through ONNX Runtime has) then reads them
   * without the copy out of the tensor.
   */
  pixelData?: Float32Array;
}

/**
 * Where images come from; both file datasets and in-memory datasets fit. The evaluator only asks for
 * batches of item indices, so it never needs to know whether an item is a JPEG on disk or 784 bytes in a
 * typed array, and a corrupt file is reported per item instead of failing the whole batch.
 */
export interface EvalSource {
  /** Dataset name for reports. */
  name: string;
  count: number;
  /** Class index of item i (in the classifier's class space). */
  labels: ArrayLike<number>;
  /** File path, or `<dataset>:<split>:<index>` for in-memory items. */
  id(i: number): string;
  /** Preprocessed pixels for these items; unreadable ones are reported, not thrown. */
  loadBatch(indices: number[], preprocess: PreprocessConfig): Promise<EvalSourceBatch>;
  /** Global class indices a subset dataset may predict among (ImageNet-A/R), else undefined. */
  classIndices?: number[];
}
