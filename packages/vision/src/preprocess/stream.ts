import * as tf from '@tensorflow/tfjs';
import { type PreprocessConfig, resolvePreprocessConfig } from './config.js';
import {
  applyVipsThreads,
  type PreprocessBatchOptions,
  type PreprocessBatchResult,
  prepareBatch,
} from './batch.js';
import type { ImageSource } from './errors.js';

export interface PreprocessStreamOptions extends PreprocessBatchOptions {
  /** Images per yielded batch (default 32). The last batch may be smaller. */
  batchSize?: number;
}

/** One batch from `preprocessStream`; the consumer owns (and disposes) `pixels`. */
export interface PreprocessStreamBatch extends PreprocessBatchResult {
  /** The sources of this batch, in order (errors included). */
  sources: ImageSource[];
}

async function* chunks<T>(items: Iterable<T> | AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let chunk: T[] = [];
  for await (const item of items) {
    chunk.push(item);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * A data-loader view of `preprocessBatch`: yields NCHW batches of `batchSize` from any (async) iterable of
 * sources, preparing the next batch while the consumer works on the current one (one batch of
 * prefetch). `indices` and `errors[].index` count from the start of the stream. Tensors are only created
 * when a batch is yielded, so stopping early (break) leaks nothing.
 */
export async function* preprocessStream(
  sources: Iterable<ImageSource> | AsyncIterable<ImageSource>,
  config: Partial<PreprocessConfig> = {},
  options: PreprocessStreamOptions = {},
): AsyncGenerator<PreprocessStreamBatch> {
  const resolved = resolvePreprocessConfig(config);
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 32));
  applyVipsThreads(options);
  const it = chunks(sources, batchSize);
  let offset = 0;
  const start = async (): Promise<
    (Awaited<ReturnType<typeof prepareBatch>> & { sources: ImageSource[] }) | null
  > => {
    const next = await it.next();
    if (next.done) return null;
    const batch = next.value;
    const first = offset;
    offset += batch.length;
    return { ...(await prepareBatch(batch, resolved, options, first)), sources: batch };
  };
  let pending = start();
  // Swallow a rejection of the prefetch if the consumer stops before awaiting it.
  pending.catch(() => undefined);
  try {
    for (;;) {
      const ready = await pending;
      if (ready === null) return;
      pending = start();
      pending.catch(() => undefined);
      const { data, indices, errors, shape, sources: batchSources } = ready;
      const pixels = tf.tensor4d(data, [indices.length, ...shape], 'float32');
      yield { pixels, indices, errors, sources: batchSources };
    }
  } finally {
    await it.return(undefined);
  }
}
