import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { type PreprocessConfig, type ResolvedPreprocessConfig, resolvePreprocessConfig } from './config.js';
import { decodeImageBytes } from './decode.js';
import { describeSource, type ImageSource } from './errors.js';
import type { PilImage } from './pil_image.js';
import { outputShape, normalisationTable, pilImageToTensorData } from './pipeline.js';
import { readImageSource, resolveMaxImageBytes } from './read_image.js';

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
  /**
   * Files larger than this many bytes are reported in `errors` without being read (default
   * `DEFAULT_MAX_IMAGE_BYTES`, 256 MiB); only regular files are ever read (see `readImageFile`).
   */
  maxImageBytes?: number;
  /**
   * Stops the batch: no further image is read, reads in flight stop at their next chunk, and the call
   * rejects with the signal's reason (an aborted batch has no partial result, so nothing can record the
   * images it did not read as failures).
   */
  signal?: AbortSignal;
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

/**
 * How decoded images become batch rows when that is not the evaluation transform (a train-time
 * augmentation, a grayscale model): the row shape, and a function that writes image `index` of the batch
 * (its position in `sources`) as CHW float32 into `out` at `offset`.
 */
export interface BatchPixelWriter {
  shape: [number, number, number];
  write(img: PilImage, index: number, out: Float32Array, offset: number): void;
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
  writer?: BatchPixelWriter,
): Promise<Prepared> {
  const shape = writer?.shape ?? fixedShape(config);
  const { signal } = options;
  const read = { maxBytes: resolveMaxImageBytes(options.maxImageBytes), signal };
  signal?.throwIfAborted();
  const per = shape[0] * shape[1] * shape[2];
  const data = new Float32Array(sources.length * per);
  const ok = new Array<boolean>(sources.length).fill(false);
  const errors: PreprocessFailure[] = [];
  const lut = normalisationTable(config);
  let next = 0;
  const take = (): number => (next < sources.length && !signal?.aborted ? next++ : -1);
  const readAt = (i: number): Promise<{ bytes: Uint8Array } | { error: unknown }> =>
    readImageSource(sources[i], read).then(
      (bytes) => ({ bytes }),
      (error: unknown) => ({ error }),
    );
  // Each worker reads its next image while it decodes the current one. A read is three trips through
  // libuv's pool (open, fstat, read), each also waiting for this thread to come back from resampling
  // another image; done in turn with the decode, those waits leave the pool idle.
  const worker = async (): Promise<void> => {
    let i = take();
    let pending = i < 0 ? undefined : readAt(i);
    while (pending !== undefined) {
      const got = await pending;
      const j = take();
      pending = j < 0 ? undefined : readAt(j);
      try {
        if ('error' in got) throw got.error;
        signal?.throwIfAborted();
        const img = await decodeImageBytes(got.bytes, sources[i]);
        if (writer) writer.write(img, i, data, i * per);
        else pilImageToTensorData(img, config, lut, data, i * per);
        ok[i] = true;
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        const message = err instanceof Error ? err.message : String(err);
        errors.push({ index: indexOffset + i, source: describeSource(sources[i]), message });
      }
      i = j;
    }
  };
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  await Promise.all(Array.from({ length: Math.min(concurrency, sources.length) }, worker));
  signal?.throwIfAborted();
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
 * Inputs that cannot be used (missing, unreadable, not a regular file, over `maxImageBytes`, empty, not an
 * image, corrupt or truncated) are reported in `errors` with their index and source instead of failing
 * the batch; the caller decides to skip them.
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
