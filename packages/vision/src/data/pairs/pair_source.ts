import { assertPositiveInteger } from '@moevl/core';
import { DatasetError } from '../dataset_error.js';
import type { DecodeItem, Decoder, DecodeResult } from './decoders.js';
import { badState, type Pulled, type Sampler, type SamplerState } from './row_table.js';
import { addSkips, emptySkips, imageSkipReason, isSkippedSamples, noUsableSamples } from './skips.js';
import type {
  ImageCaptionBatch,
  ImageCaptionFormat,
  ImageCaptionSource,
  ImageCaptionSourceState,
  SkippedSample,
  SkippedSamples,
} from './types.js';

/**
 * The batch pipeline shared by every format. The sampler's candidates are dispatched to the decoder in
 * stream order, in small chunks, up to `readAhead` batches ahead of the consumer; a batch is the next
 * `batchSize` usable samples of that stream, so where it ends depends only on the data (an unusable
 * sample is replaced by the next one, and counted). Every candidate carries the sampler's state after
 * it, and the source's state is the one after the last candidate of the last batch handed out: decoding
 * ahead never changes what a resume sees. `setState` (or an error) drops what was decoded ahead; the
 * next batch starts again from the committed state.
 */

export interface PairSourceOptions {
  format: ImageCaptionFormat;
  /** `[C, H, W]` of a row. */
  shape: [number, number, number];
  augmented: boolean;
  decoder: Decoder;
  loop: boolean;
  readAhead: number;
  signal?: AbortSignal;
}

type Row = { row: Float32Array } | { skip: SkippedSample };

/** One position of the stream, dispatched and not yet handed out. */
type Slot =
  | { kind: 'sample'; pulled: Pulled; result: Promise<Row> }
  | { kind: 'end'; state: SamplerState }
  | { kind: 'error'; error: unknown };

/** Candidates per decode job: small, so the first rows of a batch are ready early. */
const CHUNK = 8;

export class PairSource implements ImageCaptionSource {
  readonly format: ImageCaptionFormat;
  private committed: ImageCaptionSourceState;
  /** Skips of the current epoch, for the message of an epoch without a usable sample. */
  private epochSkips: SkippedSamples = emptySkips();
  private slots: Slot[] = [];
  private samplesInSlots = 0;
  private chunksInFlight = 0;
  private generation = 0;
  private pumping = false;
  private needsRestore = false;
  private pumpTask: Promise<void> = Promise.resolve();
  private wakePump: (() => void) | null = null;
  private wakeConsumer: (() => void) | null = null;
  private serial: Promise<unknown> = Promise.resolve();
  private batchSize = 1;
  private closed = false;

  constructor(
    private readonly sampler: Sampler,
    private readonly options: PairSourceOptions,
  ) {
    this.format = options.format;
    const { epoch, ...position } = sampler.getState();
    this.committed = {
      version: 1,
      format: this.format,
      dataset: sampler.dataset,
      epoch,
      ...position,
      usedInEpoch: 0,
      ended: false,
      skipped: emptySkips(),
    };
    options.signal?.addEventListener('abort', () => this.wake(), { once: true });
  }

  get description(): string {
    const [c, h, w] = this.options.shape;
    const pixels = `${c === 1 ? 'grayscale' : 'RGB'} ${h}×${w}, ${this.options.augmented ? 'random resized crop' : 'center crop'}`;
    return `${this.sampler.description}; ${pixels}; decoded ${this.options.decoder.kind}${this.options.loop ? '; looping' : ''}`;
  }

  get skipped(): SkippedSamples {
    return addSkips(this.committed.skipped, []);
  }

  getState(): ImageCaptionSourceState {
    return structuredClone(this.committed);
  }

  setState(state: unknown): void {
    if (this.closed) throw new Error('setState on a closed image–caption source');
    const s = state as ImageCaptionSourceState;
    if (typeof s !== 'object' || s === null || s.version !== 1) {
      throw badState('it is not a saved data-loader state (version 1)');
    }
    if (s.format !== this.format)
      throw badState(`it is a ${String(s.format)} state and this is ${this.format} data`);
    if (s.dataset !== this.sampler.dataset) {
      throw badState(`it is for ${String(s.dataset)}, this is ${this.sampler.dataset}`);
    }
    const counters =
      Number.isSafeInteger(s.usedInEpoch) &&
      s.usedInEpoch >= 0 &&
      typeof s.ended === 'boolean' &&
      isSkippedSamples(s.skipped);
    if (!counters) throw badState('its counters are malformed');
    this.sampler.checkState(s);
    this.committed = structuredClone(s);
    this.reset();
  }

  /** Drops the stream ahead of `committed`; the next pump puts the sampler back there first. */
  private reset(): void {
    this.generation++;
    this.slots = [];
    this.samplesInSlots = 0;
    this.pumping = false;
    this.needsRestore = true;
    this.epochSkips = emptySkips();
    this.wake();
  }

  private wake(): void {
    const pump = this.wakePump;
    const consumer = this.wakeConsumer;
    this.wakePump = null;
    this.wakeConsumer = null;
    pump?.();
    consumer?.();
  }

  next(batchSize: number): Promise<ImageCaptionBatch | null> {
    try {
      assertPositiveInteger('next(batchSize): batchSize', batchSize, (m) => new RangeError(m));
    } catch (err) {
      return Promise.reject(err as RangeError);
    }
    const p = this.serial.then(() => this.nextInOrder(batchSize));
    this.serial = p.catch(() => undefined);
    return p;
  }

  private async nextInOrder(batchSize: number): Promise<ImageCaptionBatch | null> {
    if (this.closed) throw new Error('next() on a closed image–caption source');
    this.options.signal?.throwIfAborted();
    if (this.committed.ended) return null;
    this.batchSize = batchSize;
    this.startPump();
    this.wake(); // a larger batch size makes room in the window
    try {
      return await this.assemble(batchSize);
    } catch (err) {
      this.reset(); // the slots taken so far are gone: start again from the committed state
      throw err;
    }
  }

  private async assemble(batchSize: number): Promise<ImageCaptionBatch | null> {
    const start = this.committed;
    let samplerState: SamplerState | null = null;
    let used = start.usedInEpoch;
    let ended = false;
    let epochSkips = this.epochSkips;
    const rows: Float32Array[] = [];
    const captions: string[] = [];
    const ids: string[] = [];
    const skips: SkippedSample[] = [];
    while (!ended && rows.length < batchSize) {
      const slot = await this.takeSlot();
      if (slot.kind === 'error') throw slot.error;
      if (slot.kind === 'end') {
        if (used === 0) {
          const where = this.sampler.description.split(':')[0];
          throw new DatasetError('no-images', noUsableSamples(where, addSkips(epochSkips, [])));
        }
        used = 0;
        epochSkips = emptySkips();
        samplerState = slot.state;
        ended = !this.options.loop;
        continue;
      }
      const row = await slot.result;
      samplerState = slot.pulled.state;
      if ('skip' in row) {
        skips.push(row.skip);
        epochSkips = addSkips(epochSkips, [row.skip]);
        continue;
      }
      const c = slot.pulled.candidate as { id: string; caption: string };
      rows.push(row.row);
      captions.push(c.caption);
      ids.push(c.id);
      used++;
    }
    const { epoch, ...position } = samplerState ?? { epoch: start.epoch };
    this.committed = {
      ...start,
      epoch,
      ...position,
      usedInEpoch: used,
      ended,
      skipped: addSkips(start.skipped, skips),
    };
    this.epochSkips = epochSkips;
    if (rows.length === 0) return null;
    const [c, h, w] = this.options.shape;
    const per = c * h * w;
    const pixels = new Float32Array(rows.length * per);
    rows.forEach((r, i) => pixels.set(r, i * per));
    return { pixels, shape: [rows.length, c, h, w], captions, ids };
  }

  private async takeSlot(): Promise<Slot> {
    for (;;) {
      this.options.signal?.throwIfAborted();
      const slot = this.slots.shift();
      if (slot !== undefined) {
        if (slot.kind === 'sample') this.samplesInSlots--;
        this.wake();
        return slot;
      }
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
  }

  private push(slot: Slot): void {
    this.slots.push(slot);
    if (slot.kind === 'sample') this.samplesInSlots++;
    this.wake();
  }

  /** The producer: pulls candidates and dispatches them while the window has room. One at a time. */
  private startPump(): void {
    if (this.pumping) return;
    this.pumping = true;
    const generation = this.generation;
    const previous = this.pumpTask;
    const live = () => generation === this.generation && !this.closed && !this.options.signal?.aborted;
    this.pumpTask = (async () => {
      await previous; // the pump of an earlier generation has let go of the sampler
      try {
        if (this.needsRestore && live()) {
          this.needsRestore = false; // a reset during the restore sets it again, for the next pump
          await this.sampler.restore(this.committed);
        }
        let streamEnded = this.committed.ended;
        while (live() && !streamEnded) {
          const window = (this.options.readAhead + 1) * this.batchSize;
          if (this.samplesInSlots >= window || this.chunksInFlight >= this.options.decoder.parallelChunks) {
            await new Promise<void>((resolve) => (this.wakePump = resolve));
            continue;
          }
          const pulled = await this.sampler.take(Math.min(CHUNK, window - this.samplesInSlots));
          if (!live()) break;
          if (pulled.length > 0) {
            this.dispatch(pulled);
            continue;
          }
          // Looping, the state after the end is the start of the next epoch (a resume there must not
          // see this end again); otherwise the end itself, and the stream stops.
          if (this.options.loop) this.sampler.startEpoch(this.sampler.epoch + 1);
          else streamEnded = true;
          this.push({ kind: 'end', state: this.sampler.getState() });
        }
      } catch (error) {
        if (live()) this.push({ kind: 'error', error });
      }
    })();
  }

  private dispatch(pulled: Pulled[]): void {
    const items: DecodeItem[] = [];
    const at: number[] = [];
    const rows = new Array<Promise<Row> | Row>(pulled.length);
    pulled.forEach(({ candidate: c }, i) => {
      if ('skip' in c) rows[i] = { skip: { id: c.id, reason: c.skip, detail: c.detail } };
      else {
        items.push({ id: c.id, epoch: c.epoch, image: c.image });
        at.push(i);
      }
    });
    if (items.length > 0) {
      this.chunksInFlight++;
      const job = this.options.decoder.decode(items).finally(() => {
        this.chunksInFlight--;
        this.wake();
      });
      const perItem = job.then((r) => this.rowsOf(items, r));
      perItem.catch(() => undefined); // awaited through the slots; never an unhandled rejection
      at.forEach((i, k) => {
        rows[i] = perItem.then((r) => r[k]);
        (rows[i] as Promise<Row>).catch(() => undefined);
      });
    }
    pulled.forEach((p, i) => this.push({ kind: 'sample', pulled: p, result: Promise.resolve(rows[i]) }));
  }

  private rowsOf(items: readonly DecodeItem[], r: DecodeResult): Row[] {
    const [c, h, w] = this.options.shape;
    const per = c * h * w;
    const out = new Array<Row>(items.length);
    r.indices.forEach((i, k) => (out[i] = { row: r.data.subarray(k * per, (k + 1) * per) }));
    for (const e of r.errors) {
      const item = items[e.index];
      const label = typeof item.image === 'string' ? e.source : item.id;
      const detail = e.message.replace(/^cannot preprocess image /, '').replace(e.source, label);
      out[e.index] = { skip: { id: item.id, reason: imageSkipReason(e.message), detail } };
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reset();
    await this.pumpTask;
    await this.options.decoder.close();
    await this.sampler.close();
  }
}
