import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { type PreprocessConfig, type ResolvedPreprocessConfig, resolvePreprocessConfig } from './config.js';
import { decodeImage } from './decode.js';
import { describeSource, type ImageSource } from './errors.js';
import { outputShape, normalisationTable, pilImageToTensorData } from './pipeline.js';

/** One input that could not be used; the batch goes on without it. */
export interface PreprocessFailure {
  /** Position in the `sources` given. */
  index: number;
  /** The path, or `<buffer of N bytes>`. */
  source: string;
  message: string;
}

export interface PreprocessBatchResult {
  /** `[n, 3, H, W]` for the `n` images that could be read, in input order. */
  pixels: tf.Tensor4D;
  /** For each row of `pixels`, its position in `sources`. */
  indices: number[];
  /** Unreadable, corrupt or unsupported inputs, in input order. */
  errors: PreprocessFailure[];
}

export interface PreprocessBatchOptions {
  /**
   * Images decoded at once (default 4, libuv's default thread-pool size, which is where sharp decodes).
   * More only helps with a larger `UV_THREADPOOL_SIZE`.
   */
  concurrency?: number;
  /**
   * libvips threads per image, applied with `sharp.concurrency()` (a process-wide setting) before the
   * batch starts. Default 1: images already decode in parallel, one per pool thread, so more threads per
   * image only oversubscribe the cores (sharp's own default is the core count, except on glibc Linux).
   * `null` leaves sharp's setting alone.
   */
  vipsThreads?: number | null;
}

/** The fixed `[3, H, W]` every image gets, or an error when the config lets it depend on the image. */
function fixedShape(config: ResolvedPreprocessConfig): [number, number, number] {
  if (config.doCenterCrop || (config.doResize && config.resizeMode === 'squash')) {
    return outputShape(1000, 1000, config); // any size: the crop (or squash) decides the shape
  }
  throw new RangeError(
    'preprocessBatch needs every image to have the same shape: enable doCenterCrop or use resizeMode squash',
  );
}

interface Prepared {
  data: Float32Array;
  indices: number[];
  errors: PreprocessFailure[];
  shape: [number, number, number];
}

/**
 * Decodes and preprocesses `sources` with at most `concurrency` in flight, writing each image straight
 * into its slot of one batch buffer. Failures are recorded, not thrown; the buffer is compacted at the end.
 */
export async function prepareBatch(
  sources: readonly ImageSource[],
  config: ResolvedPreprocessConfig,
  options: PreprocessBatchOptions = {},
  indexOffset = 0,
): Promise<Prepared> {
  const shape = fixedShape(config);
  const per = shape[0] * shape[1] * shape[2];
  const data = new Float32Array(sources.length * per);
  const ok = new Array<boolean>(sources.length).fill(false);
  const errors: PreprocessFailure[] = [];
  const lut = normalisationTable(config);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < sources.length) {
      const i = next++;
      try {
        const img = await decodeImage(sources[i]);
        pilImageToTensorData(img, config, lut, data, i * per);
        ok[i] = true;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        errors.push({ index: indexOffset + i, source: describeSource(sources[i]), message });
      }
    }
  };
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  await Promise.all(Array.from({ length: Math.min(concurrency, sources.length) }, worker));
  const indices: number[] = [];
  for (let i = 0; i < sources.length; i++) {
    if (!ok[i]) continue;
    if (indices.length !== i) data.copyWithin(indices.length * per, i * per, (i + 1) * per);
    indices.push(indexOffset + i);
  }
  errors.sort((a, b) => a.index - b.index);
  // A copy only when something failed, so the tensor does not pin the larger buffer.
  const kept = indices.length === sources.length ? data : data.slice(0, indices.length * per);
  return { data: kept, indices, errors, shape };
}

/** Applies `options.vipsThreads` (default 1) to sharp's process-wide libvips thread count. */
export function applyVipsThreads(options: PreprocessBatchOptions): void {
  if (options.vipsThreads !== null) sharp.concurrency(options.vipsThreads ?? 1);
}

/**
 * Preprocesses many images into one NCHW batch. Decoding runs on libuv's thread pool (sharp), so up to
 * `concurrency` images decode in parallel while the calling thread resamples the ones already decoded.
 * Inputs that cannot be read (missing, empty, not an image, corrupt or truncated) are reported in
 * `errors` with their index and source instead of failing the batch; the caller decides to skip them.
 * `indices` maps each row of `pixels` back to `sources`.
 */
export async function preprocessBatch(
  sources: readonly ImageSource[],
  config: Partial<PreprocessConfig> = {},
  options: PreprocessBatchOptions = {},
): Promise<PreprocessBatchResult> {
  const resolved = resolvePreprocessConfig(config);
  applyVipsThreads(options);
  const { data, indices, errors, shape } = await prepareBatch(sources, resolved, options);
  const pixels = tf.tensor4d(data, [indices.length, ...shape], 'float32');
  return { pixels, indices, errors };
}
