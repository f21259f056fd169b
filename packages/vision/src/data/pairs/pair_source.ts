import { prepareBatch } from '../../preprocess/batch.js';
import type { ResolvedPreprocessConfig } from '../../preprocess/config.js';
import { DatasetError } from '../dataset_error.js';
import type { PairPixels } from './pixel_writer.js';
import type { Sampler } from './row_table.js';
import { badState } from './row_table.js';
import { addSkips, emptySkips, imageSkipReason, isSkippedSamples, noUsableSamples } from './skips.js';
import type {
  Candidate,
  ImageCaptionBatch,
  ImageCaptionFormat,
  ImageCaptionSource,
  ImageCaptionSourceState,
  SkippedSample,
  SkippedSamples,
} from './types.js';

/**
 * The batch pipeline shared by every format. A batch is the next `batchSize` usable samples of the
 * sampler's stream: candidates are pulled exactly as many as are still missing, decoded concurrently, and
 * the unusable ones replaced by pulling more, so where a batch ends depends only on the data. Batches are
 * produced one after the other, up to `readAhead` ahead of the consumer; each carries the state right
 * after it, which becomes the source's state when the batch is handed out. Resuming (or a change of batch
 * size) discards what was decoded ahead and puts the sampler back at the last handed-out batch.
 */

export interface PairSourceOptions {
  format: ImageCaptionFormat;
  config: ResolvedPreprocessConfig;
  pixels: PairPixels;
  loop: boolean;
  readAhead: number;
  concurrency: number;
  maxImageBytes: number;
  signal?: AbortSignal;
}

interface Produced {
  batch: ImageCaptionBatch | null;
  state: ImageCaptionSourceState;
}

/** Where production stands, ahead of what was handed out. */
interface Cursor {
  usedInEpoch: number;
  /** Skips of this epoch, for the error of an epoch with no usable sample. */
  epochSkips: SkippedSamples;
  skipped: SkippedSamples;
  ended: boolean;
}

export class PairSource implements ImageCaptionSource {
  readonly format: ImageCaptionFormat;
  private committed: ImageCaptionSourceState;
  private cursor: Cursor;
  private queue: Promise<Produced>[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private serial: Promise<unknown> = Promise.resolve();
  private generation = 0;
  private batchSize = 0;
  /** The sampler must be put back at `committed` when `restoreAt` is ahead of `restoredAt` (generations). */
  private restoreAt = 0;
  private restoredAt = 0;
  private closed = false;

  constructor(
    private readonly sampler: Sampler,
    private readonly options: PairSourceOptions,
  ) {
    this.format = options.format;
    this.cursor = { usedInEpoch: 0, epochSkips: emptySkips(), skipped: emptySkips(), ended: false };
    this.committed = this.stateNow();
  }

  get description(): string {
    const { channels, crop } = this.describePixels();
    return `${this.sampler.description}; ${channels}, ${crop}${this.options.loop ? ', looping' : ''}`;
  }

  private describePixels(): { channels: string; crop: string } {
    const [c, h, w] = this.options.pixels.shape;
    return {
      channels: `${c === 1 ? 'grayscale' : 'RGB'} ${h}×${w}`,
      crop: this.options.pixels.augmented ? 'random resized crop' : 'center crop',
    };
  }

  get skipped(): SkippedSamples {
    return addSkips(this.committed.skipped, []);
  }

  getState(): ImageCaptionSourceState {
    return structuredClone(this.committed);
  }

  private stateNow(): ImageCaptionSourceState {
    const { epoch, ...position } = this.sampler.getState();
    return {
      version: 1,
      format: this.format,
      dataset: this.sampler.dataset,
      epoch,
      ...position,
      usedInEpoch: this.cursor.usedInEpoch,
      ended: this.cursor.ended,
      skipped: addSkips(this.cursor.skipped, []),
    };
  }

  setState(state: unknown): void {
    if (this.closed) throw new Error('setState on a closed image–caption source');
    const s = state as ImageCaptionSourceState;
    if (typeof s !== 'object' || s === null || s.version !== 1)
      throw badState('it is not a saved data-loader state (version 1)');
    if (s.format !== this.format)
      throw badState(`it is a ${String(s.format)} state and this is ${this.format} data`);
    if (s.dataset !== this.sampler.dataset)
      throw badState(`it is for ${String(s.dataset)}, this is ${this.sampler.dataset}`);
    if (
      !Number.isSafeInteger(s.usedInEpoch) ||
      s.usedInEpoch < 0 ||
      typeof s.ended !== 'boolean' ||
      !isSkippedSamples(s.skipped)
    ) {
      throw badState('its counters are malformed');
    }
    this.sampler.checkState(s);
    this.committed = structuredClone(s);
    this.reset();
  }

  /** Drops what was produced ahead; the next production starts from `committed`. */
  private reset(): void {
    this.generation++;
    this.queue = [];
    this.restoreAt = this.generation;
  }

  next(batchSize: number): Promise<ImageCaptionBatch | null> {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      return Promise.reject(
        new RangeError(`next(batchSize): batchSize must be a positive integer, got ${batchSize}`),
      );
    }
    const p = this.serial.then(() => this.nextInOrder(batchSize));
    this.serial = p.catch(() => undefined);
    return p;
  }

  private async nextInOrder(batchSize: number): Promise<ImageCaptionBatch | null> {
    if (this.closed) throw new Error('next() on a closed image–caption source');
    this.options.signal?.throwIfAborted();
    if (batchSize !== this.batchSize) {
      if (this.batchSize !== 0) this.reset();
      this.batchSize = batchSize;
    }
    this.fill();
    const got = this.queue.shift()!;
    this.fill();
    let produced: Produced;
    try {
      produced = await got;
    } catch (err) {
      // The stream is broken from here on: what was queued behind this batch is not valid either.
      this.reset();
      throw err;
    }
    this.committed = produced.state;
    return produced.batch;
  }

  /** Keeps the batch to hand out plus `readAhead` more in production. */
  private fill(): void {
    while (this.queue.length < this.options.readAhead + 1) {
      const gen = this.generation;
      const size = this.batchSize;
      const p = this.chain.then(() => this.produce(size, gen));
      p.catch(() => undefined); // awaited (or dropped) by nextInOrder; never an unhandled rejection
      this.chain = p.catch(() => undefined);
      this.queue.push(p);
    }
  }

  private async restoreIfNeeded(): Promise<void> {
    if (this.restoreAt === this.restoredAt) return;
    const target = this.restoreAt;
    const s = this.committed;
    await this.sampler.restore(s);
    this.cursor = {
      usedInEpoch: s.usedInEpoch,
      epochSkips: emptySkips(),
      skipped: addSkips(s.skipped, []),
      ended: s.ended,
    };
    this.restoredAt = target;
  }

  private async produce(batchSize: number, generation: number): Promise<Produced> {
    if (generation !== this.generation) throw new Error('superseded'); // dropped by reset, never awaited
    await this.restoreIfNeeded();
    const { pixels, loop } = this.options;
    const per = pixels.size;
    const parts: Float32Array[] = [];
    const captions: string[] = [];
    const ids: string[] = [];
    const skips: SkippedSample[] = [];
    while (!this.cursor.ended && captions.length < batchSize) {
      this.options.signal?.throwIfAborted();
      const candidates = await this.sampler.take(batchSize - captions.length);
      if (candidates.length === 0) {
        this.endOfEpoch(skips);
        if (loop) this.sampler.startEpoch(this.sampler.epoch + 1);
        else this.cursor.ended = true;
        continue;
      }
      const events: { at: number; skip: SkippedSample }[] = [];
      const usable: Candidate[] = [];
      const positions: number[] = [];
      candidates.forEach((c, at) => {
        if ('skip' in c) events.push({ at, skip: { id: c.id, reason: c.skip, detail: c.detail } });
        else {
          usable.push(c);
          positions.push(at);
        }
      });
      if (usable.length > 0) {
        const sources = usable.map((c) => ('image' in c ? c.image : ''));
        const done = await prepareBatch(
          sources,
          this.options.config,
          {
            concurrency: this.options.concurrency,
            maxImageBytes: this.options.maxImageBytes,
            signal: this.options.signal,
          },
          0,
          pixels.forBatch(usable),
        );
        for (const e of done.errors) {
          const c = usable[e.index];
          const label = typeof sources[e.index] === 'string' ? e.source : c.id;
          const detail = e.message.replace(/^cannot preprocess image /, '').replace(e.source, label);
          events.push({
            at: positions[e.index],
            skip: { id: c.id, reason: imageSkipReason(e.message), detail },
          });
        }
        if (done.indices.length > 0) parts.push(done.data);
        for (const i of done.indices) {
          const c = usable[i] as Candidate & { caption: string };
          captions.push(c.caption);
          ids.push(c.id);
        }
        this.cursor.usedInEpoch += done.indices.length;
      }
      events.sort((a, b) => a.at - b.at);
      for (const e of events) skips.push(e.skip);
      this.cursor.epochSkips = addSkips(
        this.cursor.epochSkips,
        events.map((e) => e.skip),
      );
    }
    this.cursor.skipped = addSkips(this.cursor.skipped, skips);
    const state = this.stateNow();
    if (captions.length === 0) return { batch: null, state };
    const data = parts.length === 1 ? parts[0] : concat(parts, captions.length * per);
    const [c, h, w] = pixels.shape;
    return { batch: { pixels: data, shape: [captions.length, c, h, w], captions, ids }, state };
  }

  /** An epoch without a single usable sample would loop forever (or end silently empty): an error. */
  private endOfEpoch(skips: SkippedSample[]): void {
    if (this.cursor.usedInEpoch === 0) {
      const epochSkips =
        this.cursor.epochSkips.total > 0 ? this.cursor.epochSkips : addSkips(emptySkips(), skips);
      throw new DatasetError(
        'no-images',
        noUsableSamples(this.sampler.description.split(':')[0], epochSkips),
      );
    }
    this.cursor.usedInEpoch = 0;
    this.cursor.epochSkips = emptySkips();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reset();
    await this.chain;
    await this.sampler.close();
  }
}

function concat(parts: readonly Float32Array[], length: number): Float32Array {
  const out = new Float32Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
