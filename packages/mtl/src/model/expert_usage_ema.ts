import type { MoEBlockMetrics } from './task_moe_vit.js';

/** Mod-Squad's EMA decay of the expert usage statistics. */
const DEFAULT_DECAY = 0.95;

export interface ExpertUsageEMAOptions {
  /** u ← decay·u + (1 − decay)·count. Default 0.95 (Mod-Squad). */
  decay?: number;
  /**
   * Divide each task's counts by its number of choices in the batch before averaging (default true), so a
   * batch counts the same however many of its tokens belong to that task. Extraction only reads the
   * ratios u_t[e]/Σu_t, which this does not bias; without it, large batches of one task would outweigh
   * small ones. Set false for Mod-Squad's raw counts.
   */
  normalize?: boolean;
}

/** The usage of one MoE layer: [T][E]. */
export interface LayerUsage {
  name: string;
  usage: number[][];
}

export interface ExpertUsageEMAState {
  decay: number;
  normalize: boolean;
  layers: LayerUsage[];
}

/**
 * Per MoE layer and per task, an exponential moving average of how often each expert is chosen (Mod-Squad's
 * `u_t ← 0.95·u_t + 0.05·count_t`), fed with the `expertTaskUsage` of each forward pass. It decides which
 * experts `extractSingleTask` keeps. A task with no token in a batch is not updated by it (its average would
 * otherwise decay towards zero during batches of other tasks). Starts at zero: only ratios are read.
 */
export class ExpertUsageEMA {
  readonly decay: number;
  readonly normalize: boolean;
  private readonly layers = new Map<string, number[][]>();

  constructor(options: ExpertUsageEMAOptions = {}) {
    this.decay = options.decay ?? DEFAULT_DECAY;
    this.normalize = options.normalize ?? true;
    if (!(this.decay >= 0 && this.decay < 1)) {
      throw new Error(`ExpertUsageEMA: decay must be in [0, 1), got ${options.decay}.`);
    }
  }

  /** Adds one forward pass's counts: `metrics.blocks` of `TaskMoEViT.forward` / `forwardTasks`. */
  update(metrics: { blocks: Pick<MoEBlockMetrics, 'name' | 'expertTaskUsage'>[] }): void {
    for (const { name, expertTaskUsage: counts } of metrics.blocks) {
      let u = this.layers.get(name);
      if (u == null) {
        u = counts.map((row) => new Array<number>(row.length).fill(0));
        this.layers.set(name, u);
      }
      if (counts.length !== u.length || counts.some((row, t) => row.length !== u![t].length)) {
        throw new Error(
          `ExpertUsageEMA: layer ${name} changed shape from [${u.length}][${u[0]?.length}] to [${counts.length}][${counts[0]?.length}]; use one EMA per model.`,
        );
      }
      counts.forEach((row, t) => {
        const total = row.reduce((a, b) => a + b, 0);
        if (total === 0) return;
        const scale = this.normalize ? 1 / total : 1;
        for (let e = 0; e < row.length; e++) {
          u![t][e] = this.decay * u![t][e] + (1 - this.decay) * row[e] * scale;
        }
      });
    }
  }

  /** Current averages per layer, in the order layers were first seen; copies. */
  usage(): LayerUsage[] {
    return [...this.layers].map(([name, u]) => ({ name, usage: u.map((row) => [...row]) }));
  }

  getState(): ExpertUsageEMAState {
    return { decay: this.decay, normalize: this.normalize, layers: this.usage() };
  }

  setState(state: ExpertUsageEMAState): void {
    if (state.decay !== this.decay || state.normalize !== this.normalize) {
      throw new Error(
        `ExpertUsageEMA.setState: the state has decay ${state.decay}, normalize ${state.normalize}; this EMA has ${this.decay}, ${this.normalize}.`,
      );
    }
    this.layers.clear();
    for (const { name, usage } of state.layers)
      this.layers.set(
        name,
        usage.map((row) => [...row]),
      );
  }
}
