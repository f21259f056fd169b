import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { prepareBatch, type PreprocessFailure } from '../../preprocess/batch.js';
import { PairPixels, type PairPixelsSettings, type SampleKey } from './pixel_writer.js';

/**
 * Where images are read, decoded and resampled: on the calling thread, or in a pool of worker threads.
 * sharp decodes on libuv's pool either way, but the Pillow-exact resample, crop and normalisation are
 * JavaScript; on the calling thread they wait while a training step holds it (a tfjs step is synchronous),
 * so the loader would only run between steps. Workers keep decoding during the step, and the calling
 * thread only copies finished rows into the batch. Both give the same pixels (the crop of a sample is
 * seeded by its id and epoch, not by where or when it is computed).
 */

export interface DecodeItem extends SampleKey {
  image: string | Uint8Array;
}

export interface DecodeResult {
  /** Rows of the decodable items, in item order. */
  data: Float32Array;
  /** For each row, its item's position. */
  indices: number[];
  errors: PreprocessFailure[];
}

export interface Decoder {
  /** `in-thread` or `2 worker threads`, for the description. */
  readonly kind: string;
  /**
   * Chunks to have in flight. The pool takes the whole read-ahead window at once: it must have work for
   * the length of a training step, during which the calling thread cannot hand it more.
   */
  readonly parallelChunks: number;
  decode(items: readonly DecodeItem[]): Promise<DecodeResult>;
  close(): Promise<void>;
}

export interface DecoderSettings extends PairPixelsSettings {
  /** Images decoded at once per thread (libuv's pool is shared by all). */
  concurrency: number;
  maxImageBytes: number;
}

export class InThreadDecoder implements Decoder {
  readonly kind = 'in-thread';
  readonly parallelChunks = 2;
  private readonly pixels: PairPixels;

  constructor(
    private readonly settings: DecoderSettings,
    private readonly signal?: AbortSignal,
  ) {
    this.pixels = new PairPixels(settings);
  }

  decode(items: readonly DecodeItem[]): Promise<DecodeResult> {
    const { config, concurrency, maxImageBytes } = this.settings;
    return prepareBatch(
      items.map((i) => i.image),
      config,
      { concurrency, maxImageBytes, signal: this.signal },
      0,
      this.pixels.forBatch(items),
    );
  }

  async close(): Promise<void> {}
}

/** The compiled worker entry beside this module; absent when running from TypeScript sources (tests). */
export function decodeWorkerScript(): URL | null {
  const url = new URL('./decode_worker.js', import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : null;
}

interface Pending {
  resolve(r: DecodeResult): void;
  reject(e: unknown): void;
  worker: number;
}

export class WorkerPoolDecoder implements Decoder {
  readonly kind: string;
  readonly parallelChunks: number;
  private readonly workers: Worker[];
  private readonly busy: number[];
  private readonly pending = new Map<number, Pending>();
  private nextJob = 0;
  private failure: Error | null = null;

  constructor(script: URL, count: number, settings: DecoderSettings) {
    this.kind = `${count} worker thread${count === 1 ? '' : 's'}`;
    this.parallelChunks = Number.POSITIVE_INFINITY;
    this.workers = Array.from({ length: count }, (_, w) => {
      const worker = new Worker(script, { workerData: settings });
      worker.on('message', (m: { job: number } & DecodeResult) => this.settle(m.job, m));
      worker.on('error', (err) => this.fail(err));
      worker.on(
        'exit',
        (code) => code !== 0 && this.fail(new Error(`decode worker ${w} exited with code ${code}`)),
      );
      worker.unref(); // an idle pool never keeps the process alive; a busy one does (see decode)
      return worker;
    });
    this.busy = this.workers.map(() => 0);
  }

  private settle(job: number, result: DecodeResult): void {
    const p = this.pending.get(job);
    if (!p) return;
    this.pending.delete(job);
    if (--this.busy[p.worker] === 0) this.workers[p.worker].unref();
    p.resolve({ data: result.data, indices: result.indices, errors: result.errors });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const [job, p] of this.pending) {
      this.pending.delete(job);
      p.reject(err);
    }
  }

  decode(items: readonly DecodeItem[]): Promise<DecodeResult> {
    if (this.failure) return Promise.reject(this.failure);
    let w = 0;
    for (let i = 1; i < this.busy.length; i++) if (this.busy[i] < this.busy[w]) w = i;
    const job = this.nextJob++;
    if (this.busy[w]++ === 0) this.workers[w].ref();
    return new Promise<DecodeResult>((resolve, reject) => {
      this.pending.set(job, { resolve, reject, worker: w });
      this.workers[w].postMessage({ job, items });
    });
  }

  async close(): Promise<void> {
    this.fail(new Error('the image–caption source was closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
