import { Rng } from '../rng.js';
import { assertInteger, assertPositiveInteger } from '../../config/integer_checks.js';

export interface BatchOrderState {
  epoch: number;
  /** Items of this epoch already served. */
  position: number;
}

/**
 * Which items go in each batch: a fresh permutation per epoch derived from (seed, epoch) alone, so the
 * order after a resume is the order the uninterrupted run would have used. The state is two integers.
 */
export class BatchOrder {
  private permutation: number[] = [];
  private state: BatchOrderState = { epoch: 0, position: 0 };

  constructor(
    readonly size: number,
    readonly batchSize: number,
    readonly seed: number,
    /** Drop the short last batch of an epoch (keeps shapes fixed). Default true. */
    readonly dropLast = true,
  ) {
    assertPositiveInteger('BatchOrder: dataset size', size);
    const note = dropLast ? 'the dataset size, as dropLast is set' : undefined;
    assertInteger('BatchOrder: batchSize', batchSize, { min: 1, max: dropLast ? size : undefined, note });
    this.shuffle();
  }

  private shuffle(): void {
    this.permutation = new Rng(this.seed * 1_000_003 + this.state.epoch).permutation(this.size);
  }

  /** Indices of the next batch. */
  next(): number[] {
    let end = this.state.position + this.batchSize;
    if (end > this.size && (this.dropLast || this.state.position >= this.size)) {
      this.state = { epoch: this.state.epoch + 1, position: 0 };
      this.shuffle();
      end = this.batchSize;
    }
    const out = this.permutation.slice(this.state.position, Math.min(end, this.size));
    this.state = { ...this.state, position: Math.min(end, this.size) };
    return out;
  }

  get epoch(): number {
    return this.state.epoch;
  }

  getState(): BatchOrderState {
    return { ...this.state };
  }

  setState(state: BatchOrderState): void {
    if (!Number.isInteger(state?.epoch) || !Number.isInteger(state?.position) || state.position < 0) {
      throw new Error(`BatchOrder.setState: malformed state ${JSON.stringify(state)}.`);
    }
    this.state = { ...state };
    this.shuffle();
  }
}
