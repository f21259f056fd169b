import * as tf from '@tensorflow/tfjs';
import { Layer, type LayerArgs, oneHot } from '@moevl/core';

/** Mod-Squad adds this to every softmax probability (upstream code), so no gate is exactly 0. */
export const MOD_SQUAD_GATE_EPS = 1e-4;

/**
 * Which paper's gate a task gets:
 *  - `mod-squad` (Chen et al. 2023): zero-initialised kernel, so routing starts uniform; p = softmax(x·W_t) + 1e-4;
 *  - `vmoe` (AdaMV-MoE on V-MoE's router): LeCun-normal kernel, p = softmax(x·W_t).
 */
export type TaskGateKind = 'mod-squad' | 'vmoe';

export interface TaskGateArgs extends LayerArgs {
  /** Token width D. */
  inputDim: number;
  /** Experts the host dispatches to (the kept ones in an extracted model). */
  numExperts: number;
  /** T: one kernel per task unless `sharedGate`. */
  numTasks: number;
  gate: TaskGateKind;
  /** One kernel `shared/kernel` for every task (the shared-router ablation). Default false. */
  sharedGate?: boolean;
  /** Columns of each kernel; default `numExperts`. Larger only in an extracted model (`keptExperts`). */
  gateExperts?: number;
  /** The gate column (original expert id) of each of the `numExperts` experts, strictly increasing. */
  keptExperts?: number[] | null;
  /**
   * Seed of a kernel (`task<t>` or `shared`), for hosts whose kernels were seeded before the gate was its own
   * layer (the task-conditioned router: `deriveSeed(seed, 'gate/task<t>')`). Default: the layer's child seed.
   */
  kernelSeed?: (kernel: string) => number;
  /** Who the gate belongs to, in error messages (`MoEAttention attn_3`). Default the layer name. */
  owner?: string;
}

/** Whether `kept` lists `numExperts` strictly increasing gate columns in [0, gateExperts). */
export function isKeptExpertList(kept: unknown, numExperts: number, gateExperts: number): kept is number[] {
  return (
    Array.isArray(kept) &&
    kept.length === numExperts &&
    kept.every(
      (e, i) =>
        Number.isInteger(e) &&
        (e as number) >= 0 &&
        e < gateExperts &&
        (i === 0 || e > (kept[i - 1] as number)),
    )
  );
}

/**
 * The task-conditioned gate of Mod-Squad and AdaMV-MoE, shared by the task-conditioned router (MoE MLPs) and
 * `MoEAttention` (Mod-Squad's mixture of attention heads): one kernel `task<t>/kernel [D, gateExperts]` per task
 * (or one `shared/kernel`), each token scored by its own task's kernel, softmax (+ Mod-Squad's 1e-4).
 *
 * All tasks' kernels are applied to every token in one matmul with the kernels side by side, and each token's
 * row is then picked with a one-hot task mask (a multiply, so the gradient reaches exactly its task's kernel
 * and works on every backend; the extra T−1 products cost D·E each, tiny next to the experts).
 *
 * `keptExperts` serves a model extracted from a larger one: the kernels keep all `gateExperts` columns
 * (softmax, noise and the 1e-4 over all of them, exactly as in the full model) and `keep` then selects the
 * kept experts' columns, so top-k chooses among the kept experts with unchanged probabilities.
 */
export class TaskGate extends Layer {
  static className = 'MoevlTaskGate';
  readonly inputDim: number;
  readonly numExperts: number;
  readonly numTasks: number;
  readonly gate: TaskGateKind;
  readonly sharedGate: boolean;
  readonly gateExperts: number;
  readonly keptExperts: number[] | null;
  /** One kernel per task, or one for all tasks with `sharedGate` (created when the layer is built). */
  kernels: tf.Variable[] = [];
  /** `[gateExperts, numExperts]` one-hot columns picking the kept experts; null when all are kept. */
  private selection: tf.Tensor2D | null = null;
  private readonly kernelSeed?: (kernel: string) => number;

  constructor(args: TaskGateArgs) {
    super(args);
    const owner = args.owner ?? `TaskGate ${this.name}`;
    this.inputDim = args.inputDim;
    this.numExperts = args.numExperts;
    this.numTasks = args.numTasks;
    this.gate = args.gate;
    this.sharedGate = args.sharedGate ?? false;
    this.gateExperts = args.gateExperts ?? args.numExperts;
    this.kernelSeed = args.kernelSeed;
    if (!Number.isInteger(this.gateExperts) || this.gateExperts < args.numExperts) {
      throw new Error(
        `${owner}: gateExperts must be an integer ≥ numExperts = ${args.numExperts}, got ${args.gateExperts}.`,
      );
    }
    const kept = args.keptExperts ?? null;
    const keptOk =
      kept == null
        ? this.gateExperts === args.numExperts
        : isKeptExpertList(kept, args.numExperts, this.gateExperts);
    if (!keptOk) {
      throw new Error(
        `${owner}: keptExperts must list numExperts = ${args.numExperts} strictly increasing gate columns in ` +
          `[0, gateExperts = ${this.gateExperts}) (required when gateExperts > numExperts), got ${JSON.stringify(kept)}.`,
      );
    }
    this.keptExperts = kept == null ? null : [...kept];
  }

  protected override build(): void {
    // Mod-Squad zero-initialises its routers, so every task starts with uniform routing.
    const init = this.gate === 'mod-squad' ? 'zeros' : 'lecunNormal';
    const shape = [this.inputDim, this.gateExperts];
    const names = this.sharedGate ? ['shared'] : Array.from({ length: this.numTasks }, (_, t) => `task${t}`);
    this.kernels = names.map((name) => this.addWeight(`${name}/kernel`, shape, init));
    if (this.keptExperts != null) {
      const [G, E] = [this.gateExperts, this.numExperts];
      const data = new Float32Array(G * E);
      this.keptExperts.forEach((e, i) => (data[e * E + i] = 1));
      // tf.keep: the gate may be built inside a caller's tidy; the selection lives as long as the gate.
      this.selection = tf.keep(tf.tensor2d(data, [G, E]));
    }
  }

  protected override childSeed(name: string): number {
    const kernel = /^(.+)\/kernel$/.exec(name)?.[1];
    return this.kernelSeed != null && kernel != null ? this.kernelSeed(kernel) : super.childSeed(name);
  }

  /** Each token's logits under its own task's kernel: x `[S, D]`, task `[S]` int32 → `[S, gateExperts]`. */
  logits(x: tf.Tensor2D, task: tf.Tensor1D): tf.Tensor2D {
    this.ensureBuilt();
    return tf.tidy(() => {
      const [S, G, T] = [x.shape[0], this.gateExperts, this.kernels.length];
      const all = tf.matMul(x, T === 1 ? this.kernels[0] : tf.concat(this.kernels, 1)) as tf.Tensor2D;
      if (T === 1) return all;
      const select = tf.reshape(oneHot(task, T), [S, T, 1]);
      return tf.sum(tf.mul(tf.reshape(all, [S, T, G]), select), 1) as tf.Tensor2D;
    });
  }

  /** Gate probabilities from `[S, gateExperts]` logits: softmax, plus Mod-Squad's 1e-4 for its gate. */
  probabilities(logits: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const p = tf.softmax(logits) as tf.Tensor2D;
      return this.gate === 'mod-squad' ? (tf.add(p, MOD_SQUAD_GATE_EPS) as tf.Tensor2D) : p;
    });
  }

  /**
   * The kept experts' columns of `[S, gateExperts]` scores, `[S, numExperts]`, as a matmul with a one-hot
   * selection (a gather's gradient needs a kernel the wasm backend lacks). Identity when every expert is kept.
   */
  keep(scores: tf.Tensor2D): tf.Tensor2D {
    this.ensureBuilt();
    return this.selection == null ? scores : tf.matMul(scores, this.selection);
  }

  override dispose(): void {
    this.selection?.dispose();
    this.selection = null;
    super.dispose();
  }
}
