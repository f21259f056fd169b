import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Rng } from '@moevl/core';
import { DatasetError, listFew, plural } from '../dataset_error.js';
import { expandBraces } from './brace_expand.js';
import { badState, type Pulled, type Sampler, type SamplerState, seededRng } from './row_table.js';
import { ShardReader } from './tar_shard.js';
import type { Candidate } from './types.js';

/**
 * WebDataset shards as webdataset's `shuffle` stage reads them: per epoch a seeded shard order, then a
 * shuffle buffer: it fills to `bufferSize` samples, after which each incoming sample replaces a random
 * one that is handed out; at the end of the epoch the buffer drains in random order, so every sample is
 * seen once per epoch. Skips pass through at once (they hold nothing).
 *
 * State: the epoch, the shard cursor (position in this epoch's shard order) and how many samples of that
 * shard were read, the buffer as `[shard, sample, key]` references in buffer order, and the generator's
 * four words. Restoring re-reads the buffered samples from their shards and skips the current shard to
 * where it was, so the next sample equals the uninterrupted run's.
 */

export const DEFAULT_SHUFFLE_BUFFER = 1000;

/** A sample in the buffer: the candidate and where it came from (`ref`, as the state stores it). */
interface Buffered {
  ref: readonly [shard: number, ordinal: number, key: string];
  candidate: Candidate;
}

export interface WebDatasetOptions {
  seed: number;
  shuffle: boolean;
  bufferSize: number;
  maxImageBytes: number;
  signal?: AbortSignal;
}

/** Expands the patterns and checks that every shard is there, or says which are not. */
export async function listShards(patterns: readonly string[]): Promise<string[]> {
  const names = patterns.flatMap((p) => expandBraces(p)).map((p) => resolve(p));
  const shown = patterns.join(' ');
  if (names.length === 0)
    throw new DatasetError('missing-files', `The shard pattern ${shown} names no file.`);
  const missing: string[] = [];
  for (let at = 0; at < names.length; at += 64) {
    const chunk = names.slice(at, at + 64);
    const found = await Promise.all(
      chunk.map((n) =>
        stat(n).then(
          (s) => s.isFile(),
          () => false,
        ),
      ),
    );
    chunk.forEach((n, i) => found[i] || missing.push(n));
  }
  if (missing.length === names.length) {
    throw new DatasetError(
      'missing-files',
      `The shard pattern ${shown} matches no file (${plural(names.length, 'name')} tried, e.g. ${names[0]}); check the folder and the range.`,
    );
  }
  if (missing.length > 0) {
    throw new DatasetError(
      'missing-files',
      `${plural(missing.length, 'shard')} of the ${names.length} named by ${shown} ${missing.length === 1 ? 'is' : 'are'} missing or not regular files: ${listFew(missing)}; fix the range or fetch them.`,
    );
  }
  return names;
}

export class WebDatasetSampler implements Sampler {
  epoch = 0;
  private order: number[] = [];
  private cursor = 0;
  private reader: ShardReader | null = null;
  private buffer: Buffered[] = [];
  private rng: Rng | null = null;
  readonly description: string;
  readonly dataset: string;

  constructor(
    private readonly shards: readonly string[],
    private readonly options: WebDatasetOptions,
    patterns: readonly string[],
  ) {
    const { shuffle, bufferSize } = options;
    this.description =
      `webdataset ${patterns.join(' ')}: ${plural(shards.length, 'shard')}` +
      (shuffle ? `, shard order shuffled per epoch, shuffle buffer ${bufferSize}` : ', in order');
    this.dataset = `webdataset:${shards.length}:${shards.map((s) => basename(s)).join(',')}`;
    this.startEpoch(0);
  }

  private get buffered(): boolean {
    return this.options.shuffle && this.options.bufferSize > 0;
  }

  startEpoch(epoch: number): void {
    this.reader?.close();
    this.reader = null;
    this.epoch = epoch;
    this.cursor = 0;
    this.buffer = [];
    this.order = this.shards.map((_, i) => i);
    if (this.options.shuffle) seededRng(this.options.seed, `shards epoch ${epoch}`).shuffle(this.order);
    this.rng = this.buffered ? seededRng(this.options.seed, `buffer epoch ${epoch}`) : null;
  }

  private openReader(shard: number): ShardReader {
    const { maxImageBytes, signal } = this.options;
    return new ShardReader(this.shards[shard], this.epoch, maxImageBytes, signal);
  }

  /** The next sample of the shard stream (no buffer), or null at the end of the epoch's shards. */
  private async fromStream(): Promise<Buffered | null> {
    while (this.cursor < this.order.length) {
      const shard = this.order[this.cursor];
      this.reader ??= this.openReader(shard);
      let got;
      try {
        got = await this.reader.next();
      } catch (err) {
        this.options.signal?.throwIfAborted();
        const reader = this.reader;
        this.nextShard();
        const message = err instanceof DatasetError ? err.message : `${(err as Error).message ?? err}`;
        const id = reader.name;
        const detail = `${reader.path}: ${message.replace(/\.$/, '')}; the rest of the shard after ${plural(reader.samplesRead, 'sample')} was skipped`;
        return { ref: [shard, -1, ''], candidate: { id, epoch: this.epoch, skip: 'corrupt-shard', detail } };
      }
      if (got === null) {
        this.nextShard();
        continue;
      }
      return { ref: [shard, got.ordinal, got.key], candidate: got.candidate };
    }
    return null;
  }

  private nextShard(): void {
    this.reader?.close();
    this.reader = null;
    this.cursor++;
  }

  private async one(): Promise<Candidate | null> {
    if (this.rng === null) return (await this.fromStream())?.candidate ?? null;
    const size = this.options.bufferSize;
    for (;;) {
      const item = this.cursor < this.order.length ? await this.fromStream() : null;
      if (item === null) {
        if (this.buffer.length === 0) return null;
        const k = this.rng.int(this.buffer.length);
        const out = this.buffer[k];
        this.buffer[k] = this.buffer[this.buffer.length - 1];
        this.buffer.pop();
        return out.candidate;
      }
      if ('skip' in item.candidate) return item.candidate;
      if (this.buffer.length < size) {
        this.buffer.push(item);
        continue;
      }
      const k = this.rng.int(size);
      const out = this.buffer[k];
      this.buffer[k] = item;
      return out.candidate;
    }
  }

  async take(n: number): Promise<Pulled[]> {
    const out: Pulled[] = [];
    while (out.length < n) {
      const candidate = await this.one();
      if (candidate === null) break;
      out.push({ candidate, state: this.getState() });
    }
    return out;
  }

  getState(): SamplerState {
    return {
      epoch: this.epoch,
      shard: this.cursor,
      sample: this.reader?.samplesRead ?? 0,
      buffer: this.buffer.map((b) => b.ref),
      rng: this.rng?.getState() ?? null,
    };
  }

  checkState(state: Record<string, unknown>): void {
    const { epoch, shard, sample, buffer, rng } = state;
    const int = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
    if (!int(epoch)) throw badState(`epoch ${JSON.stringify(epoch)}`);
    if (!int(shard) || shard > this.shards.length)
      throw badState(`shard cursor ${JSON.stringify(shard)} of ${this.shards.length}`);
    if (!int(sample)) throw badState(`sample ${JSON.stringify(sample)}`);
    const ref = (r: unknown): boolean =>
      Array.isArray(r) &&
      r.length === 3 &&
      int(r[0]) &&
      r[0] < this.shards.length &&
      int(r[1]) &&
      typeof r[2] === 'string';
    if (!Array.isArray(buffer) || !buffer.every(ref) || buffer.length > this.options.bufferSize) {
      throw badState('its shuffle buffer is malformed or larger than shuffleBuffer');
    }
    if (this.buffered !== Array.isArray(rng)) throw badState('it was saved with another shuffle setting');
  }

  async restore(state: SamplerState): Promise<void> {
    const s = state as SamplerState & {
      shard: number;
      sample: number;
      buffer: [number, number, string][];
      rng: number[] | null;
    };
    this.startEpoch(s.epoch);
    if (this.rng && s.rng) this.rng.setState(s.rng);
    this.cursor = s.shard;
    const current = this.cursor < this.order.length ? this.order[this.cursor] : -1;
    const wanted = new Map<number, Map<number, Buffered>>();
    for (const [shard, ordinal, key] of s.buffer) {
      if (!wanted.has(shard)) wanted.set(shard, new Map());
      const unread: Candidate = { id: '', epoch: 0, skip: 'no-image', detail: '' };
      wanted.get(shard)!.set(ordinal, { ref: [shard, ordinal, key], candidate: unread });
    }
    for (const [shard, refs] of wanted) {
      if (shard === current) continue;
      const reader = this.openReader(shard);
      try {
        await this.collect(reader, refs, Math.max(...refs.keys()) + 1);
      } finally {
        reader.close();
      }
    }
    if (current >= 0 && s.sample > 0) {
      this.reader = this.openReader(current);
      await this.collect(this.reader, wanted.get(current) ?? new Map(), s.sample);
    }
    this.buffer = s.buffer.map(([shard, ordinal]) => wanted.get(shard)!.get(ordinal)!);
  }

  /** Reads `count` samples of a shard, filling in the referenced ones (and checking their keys). */
  private async collect(reader: ShardReader, refs: Map<number, Buffered>, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      let got;
      try {
        got = await reader.next();
      } catch (err) {
        throw badState(`${reader.path} now fails after ${i} samples (${(err as Error).message})`);
      }
      if (got === null)
        throw badState(`${reader.path} now has ${i} samples, fewer than the ${count} read before`);
      const ref = refs.get(got.ordinal);
      if (ref === undefined) continue;
      if (ref.ref[2] !== got.key) {
        throw badState(`sample ${got.ordinal} of ${reader.path} is now ${got.key}, was ${ref.ref[2]}`);
      }
      ref.candidate = got.candidate;
    }
  }

  async close(): Promise<void> {
    this.reader?.close();
    this.reader = null;
    this.buffer = [];
  }
}
