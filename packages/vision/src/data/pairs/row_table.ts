import { Rng } from '@moevl/core';
import { DatasetError } from '../dataset_error.js';
import type { Candidate } from './types.js';

/** A dataset whose samples can be read in any order by number: CSV and JSONL rows, folder images. */
export interface RowTable {
  readonly size: number;
  readonly description: string;
  /** Identifies the data (names, row counts, sizes): a saved state is only restored into the same. */
  readonly dataset: string;
  read(row: number, epoch: number): Promise<Candidate>;
  close(): Promise<void>;
}

/** Where a sampler is; `epoch` is common to all, the rest is the format's own. */
export interface SamplerState {
  epoch: number;
  [field: string]: unknown;
}

/** A candidate and the sampler's state right after it: where a batch that ends with it resumes. */
export interface Pulled {
  candidate: Candidate;
  state: SamplerState;
}

/**
 * Hands out the samples of an epoch in order, as candidates (decodable, or skipped with a reason), each
 * with the state after it, so a batch can end at any candidate and still be resumed from exactly there.
 */
export interface Sampler {
  readonly description: string;
  readonly dataset: string;
  readonly epoch: number;
  /** Up to `n` next candidates of this epoch; fewer only at its end (none: the epoch is over). */
  take(n: number): Promise<Pulled[]>;
  startEpoch(epoch: number): void;
  getState(): SamplerState;
  /** Throws a `DatasetError` when `state` was not made by a sampler of this dataset. */
  checkState(state: Record<string, unknown>): void;
  /** Puts the sampler where `state` says (after `checkState`); may re-read data. */
  restore(state: SamplerState): Promise<void>;
  close(): Promise<void>;
}

/** A per-epoch generator derived from the run's seed and a label: the same for the same (seed, label). */
export function seededRng(seed: number, label: string): Rng {
  return new Rng(seed).fork(label);
}

export function badState(why: string): DatasetError {
  return new DatasetError(
    'bad-option',
    `The saved data-loader state does not fit this dataset: ${why}; resume with the data and options the run started with.`,
  );
}

/**
 * Rows in a seeded order per epoch (a Fisher–Yates permutation from (seed, epoch) alone, as core's
 * `BatchOrder`, in a Uint32Array so 10 million rows cost 40 MB), or in file order without shuffling.
 * State: the epoch and how many rows of it were handed out.
 */
export class RowSampler implements Sampler {
  private order: Uint32Array | null = null;
  private position = 0;
  epoch = 0;

  constructor(
    private readonly table: RowTable,
    private readonly seed: number,
    private readonly shuffle: boolean,
  ) {
    this.startEpoch(0);
  }

  get description(): string {
    return this.table.description + (this.shuffle ? ', shuffled per epoch' : '');
  }

  get dataset(): string {
    return this.table.dataset;
  }

  startEpoch(epoch: number): void {
    this.epoch = epoch;
    this.position = 0;
    if (!this.shuffle) return;
    const order = this.order ?? new Uint32Array(this.table.size);
    for (let i = 0; i < order.length; i++) order[i] = i;
    this.order = seededRng(this.seed, `rows epoch ${epoch}`).shuffle(order);
  }

  async take(n: number): Promise<Pulled[]> {
    const start = this.position;
    const end = Math.min(this.table.size, start + n);
    const rows: number[] = [];
    for (let i = start; i < end; i++) rows.push(this.order ? this.order[i] : i);
    this.position = end;
    const epoch = this.epoch;
    const candidates = await Promise.all(rows.map((r) => this.table.read(r, epoch)));
    return candidates.map((candidate, i) => ({ candidate, state: { epoch, position: start + i + 1 } }));
  }

  getState(): SamplerState {
    return { epoch: this.epoch, position: this.position };
  }

  checkState(state: Record<string, unknown>): void {
    const { epoch, position } = state;
    if (!Number.isSafeInteger(epoch) || (epoch as number) < 0)
      throw badState(`epoch ${JSON.stringify(epoch)}`);
    if (
      !Number.isSafeInteger(position) ||
      (position as number) < 0 ||
      (position as number) > this.table.size
    ) {
      throw badState(`row position ${JSON.stringify(position)} of ${this.table.size}`);
    }
  }

  async restore(state: SamplerState): Promise<void> {
    if (state.epoch !== this.epoch) this.startEpoch(state.epoch);
    this.position = state.position as number;
  }

  async close(): Promise<void> {
    await this.table.close();
  }
}
