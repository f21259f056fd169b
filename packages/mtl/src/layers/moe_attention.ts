import * as tf from '@tensorflow/tfjs';
import { assertPositiveInteger, Layer, type LayerArgs, oneHot, topK } from '@moevl/core';
import { TaskGate, mutualInformationLoss, taskGateSums } from '@moevl/router';

/** Large but finite: a fully masked row softmaxes to uniform instead of NaN. */
const MASKED = -1e9;

export type MoEAttentionGate = 'mod-squad';

export interface MoEAttentionArgs extends LayerArgs {
  /** Model width D. */
  dim: number;
  /** Number E of query experts (each a projection D → headDim with its own output projection). */
  numExperts: number;
  /** Experts chosen per token, in [1, numExperts]. */
  k: number;
  /** Size of the one shared attention head (queries, keys and values). */
  headDim: number;
  /** Number of tasks; each has its own gate `gate/task<t>/kernel [D, E]`. */
  numTasks: number;
  /** Gate form. `'mod-squad'` (the only one): zero-initialised kernel, p = softmax(x·W_t) + 1e-4. */
  gate?: MoEAttentionGate;
  /** Weight of the mutual-information loss returned in `auxLosses` (Mod-Squad: 0.005). 0 skips it. */
  miWeight?: number;
  /**
   * One gate `gate/shared/kernel` for every task (the shared-router ablation); usage and the MI loss stay
   * per task. Default false.
   */
  sharedGate?: boolean;
  /** Columns of each gate kernel; default `numExperts`. Larger only in an extracted model (`keptExperts`). */
  gateExperts?: number;
  /**
   * After Mod-Squad's single-task extraction: the original expert id (gate column) of each of the
   * `numExperts` experts kept, strictly increasing in [0, gateExperts). The gate still scores all original
   * experts (softmax + 1e-4 over them, not renormalised), so kept experts' probabilities are unchanged; top-k
   * chooses among the kept ones. Default: none (expert i is gate column i).
   */
  keptExperts?: number[] | null;
}

export interface MoEAttentionContext {
  /** Accepted for symmetry with other layers; the layer has no noise or dropout, so it changes nothing. */
  training: boolean;
  /** The task of every example: one id for the whole batch, or an int32 [B] tensor. */
  task: number | tf.Tensor;
  /** [B, T], 1 for real tokens, 0 for padding: padded keys are never attended to, and padded tokens
   * count neither in the mutual-information loss nor in the usage metrics. */
  tokenMask?: tf.Tensor;
}

export interface MoEAttentionResult {
  /** [B, T, D]. */
  y: tf.Tensor;
  /** Weighted aux losses; `mutualInformation` unless `miWeight` is 0. */
  auxLosses: { mutualInformation?: tf.Scalar };
  metrics: {
    /** [numTasks][numExperts]: how many real tokens of each task chose each expert in this call. */
    expertTaskUsage: number[][];
  };
}

/**
 * Mod-Squad's mixture of attention heads (MoA, after Zhang et al. 2022): every query projection is an
 * expert. For a token x of task t the gate p = softmax(x·W_t) + 1e-4 picks the top-k experts (ties go to
 * the lower index); each chosen expert e projects q_e = x·Wq_e [headDim], attends over the keys and values
 * of the sequence, which all experts share (one projection D → 2·headDim), and maps the result back with
 * its own Wo_e [headDim, D]. The output is y = Σ_{chosen e} p_e · Wo_e(attn_e) + b_out: the weights are
 * not renormalised, and the output bias is shared and added once.
 *
 * Trade-off: all E experts are computed densely for every token (one matmul for the E queries, attention
 * batched over E, one matmul for the output projections of the gate-weighted attention outputs), and the
 * top-k choice is applied as a dense [B, T, E] weight that is p_e on the chosen experts and 0 elsewhere.
 * This wastes (E − k)/E of the query/attention/output compute, but it is exact, needs no gather/scatter of
 * tokens, and is fast at the small E of MoA (the key/value projection, shared, is computed once).
 *
 * Weights: `gate/task<t>/kernel [D, E]` (or one `gate/shared/kernel`), `query/kernel [D, E·headDim]`, `kv/kernel [D, 2·headDim]`,
 * `kv/bias [2·headDim]`, `out/kernel [E, headDim, D]`, `out/bias [D]`.
 */
export class MoEAttention extends Layer {
  static className = 'MoevlMoEAttention';
  readonly dim: number;
  readonly numExperts: number;
  readonly k: number;
  readonly headDim: number;
  readonly numTasks: number;
  readonly gate: MoEAttentionGate;
  readonly miWeight: number;
  readonly sharedGate: boolean;
  readonly gateExperts: number;
  readonly keptExperts: number[] | null;
  /** The per-task (or shared) gate kernels, kept experts and Mod-Squad's 1e-4 (the router's `TaskGate`). */
  readonly taskGate: TaskGate;
  queryKernel!: tf.Variable;
  kvKernel!: tf.Variable;
  kvBias!: tf.Variable;
  outKernel!: tf.Variable;
  outBias!: tf.Variable;

  constructor(args: MoEAttentionArgs) {
    super(args);
    for (const key of ['dim', 'numExperts', 'k', 'headDim', 'numTasks'] as const) {
      assertPositiveInteger(`MoEAttention ${this.name}: ${key}`, args[key]);
    }
    if (args.k > args.numExperts) {
      throw new Error(
        `MoEAttention ${this.name}: k must be in [1, numExperts = ${args.numExperts}], got ${args.k}.`,
      );
    }
    const gate = args.gate ?? 'mod-squad';
    if (gate !== 'mod-squad') {
      throw new Error(`MoEAttention ${this.name}: gate must be 'mod-squad', got ${String(gate)}.`);
    }
    const miWeight = args.miWeight ?? 0.005;
    if (!Number.isFinite(miWeight) || miWeight < 0) {
      throw new Error(`MoEAttention ${this.name}: miWeight must be finite and ≥ 0, got ${miWeight}.`);
    }
    this.dim = args.dim;
    this.numExperts = args.numExperts;
    this.k = args.k;
    this.headDim = args.headDim;
    this.numTasks = args.numTasks;
    this.gate = gate;
    this.miWeight = miWeight;
    // Child `gate`: its kernels are `gate/task<t>/kernel` (or `gate/shared/kernel`), zero-initialised.
    this.taskGate = this.addChild(
      'gate',
      new TaskGate({
        owner: `MoEAttention ${this.name}`,
        inputDim: args.dim,
        numExperts: args.numExperts,
        numTasks: args.numTasks,
        gate: 'mod-squad',
        sharedGate: args.sharedGate ?? false,
        gateExperts: args.gateExperts,
        keptExperts: args.keptExperts,
        seed: this.childSeed('gate'),
      }),
    );
    this.sharedGate = this.taskGate.sharedGate;
    this.gateExperts = this.taskGate.gateExperts;
    this.keptExperts = this.taskGate.keptExperts;
  }

  /** The gate kernels, one per task or one shared (`taskGate.kernels`). */
  get gateKernels(): tf.Variable[] {
    this.ensureBuilt();
    return this.taskGate.kernels;
  }

  protected override build(): void {
    const [D, E, H] = [this.dim, this.numExperts, this.headDim];
    this.queryKernel = this.addWeight('query/kernel', [D, E * H], 'xavierUniform');
    this.kvKernel = this.addWeight('kv/kernel', [D, 2 * H], 'xavierUniform');
    this.kvBias = this.addWeight('kv/bias', [2 * H], 'zeros');
    // Each expert's [H, D] block initialised as its own Dense would be (fans H and D).
    this.outKernel = this.addWeight('out/kernel', [E, H, D], 'zeros');
    const limit = Math.sqrt(6 / (H + D));
    const init = tf.randomUniform([E, H, D], -limit, limit, 'float32', this.childSeed('out/kernel'));
    this.outKernel.assign(init);
    init.dispose();
    this.outBias = this.addWeight('out/bias', [D], 'zeros');
  }

  /**
   * @param x [B, T, D]
   * @param ctx task of every example, optional [B, T] key-padding / token mask.
   */
  forward(x: tf.Tensor, ctx: MoEAttentionContext): MoEAttentionResult {
    this.ensureBuilt();
    if (x.rank !== 3 || x.shape[2] !== this.dim) {
      throw new Error(`MoEAttention ${this.name}: expected x [B, T, ${this.dim}], got [${x.shape}].`);
    }
    const [B, T] = x.shape;
    const S = B * T;
    const [D, E, H, K, NT] = [this.dim, this.numExperts, this.headDim, this.k, this.numTasks];
    const taskIds = this.readTasks(ctx.task, B, T);
    const mask = ctx.tokenMask;
    if (mask != null && (mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== T)) {
      throw new Error(`MoEAttention ${this.name}: tokenMask must be [${B}, ${T}], got [${mask.shape}].`);
    }
    let real: Float32Array | null = null;
    if (mask != null) {
      const m = tf.cast(mask, 'float32');
      real = m.dataSync() as Float32Array;
      m.dispose();
    }
    const usage = Array.from({ length: NT }, () => new Array<number>(E).fill(0));
    let realTokens = 0;
    for (let s = 0; s < S; s++) if (real == null || real[s] > 0) realTokens++;

    const { y, mi } = tf.tidy(() => {
      const x2d = tf.reshape(x, [S, D]) as tf.Tensor2D;
      const task = tf.tensor1d(taskIds, 'int32');

      // Gate: each token's own task's kernel, softmax + 1e-4 over all gate columns, then the kept experts'.
      const p = this.taskGate.keep(this.taskGate.probabilities(this.taskGate.logits(x2d, task)));

      // Top-k (indices only; the weights are p itself) → dense [S, E] combine weights.
      const top = topK(p, K);
      const index = top.indices.dataSync() as Int32Array;
      for (let s = 0; s < S; s++) {
        if (real != null && !(real[s] > 0)) continue;
        for (let j = 0; j < K; j++) usage[taskIds[s]][index[s * K + j]]++;
      }
      const chosen = tf.sum(oneHot(top.indices, E), 1); // [S, E], 0/1 (top-k indices are distinct)
      const combine = tf.mul(p, chosen); // [S, E]

      // Queries of all E experts: [S, E·H] → [B, E·T, H] (expert-major within each example).
      const q = tf.reshape(
        tf.transpose(tf.reshape(tf.matMul(x2d, this.queryKernel as tf.Tensor2D), [B, T, E, H]), [0, 2, 1, 3]),
        [B, E * T, H],
      ) as tf.Tensor3D;
      // Shared keys and values, one head: column blocks of the kv kernel (cheaper than slicing activations).
      const project = (i: number) =>
        tf.reshape(
          tf.add(
            tf.matMul(x2d, tf.slice(this.kvKernel, [0, i * H], [D, H]) as tf.Tensor2D),
            tf.slice(this.kvBias, [i * H], [H]),
          ),
          [B, T, H],
        ) as tf.Tensor3D;
      const [keys, values] = [project(0), project(1)];

      // Attention of every expert's queries over the shared keys: batched over B, E·T query rows each.
      let scores: tf.Tensor = tf.mul(tf.matMul(q, keys, false, true), 1 / Math.sqrt(H)); // [B, E·T, T]
      if (mask != null) {
        const keep = tf.reshape(tf.cast(mask, 'float32'), [B, 1, T]);
        scores = tf.add(scores, tf.mul(tf.sub(1, keep), MASKED));
      }
      const attn = tf.matMul(tf.softmax(scores) as tf.Tensor3D, values); // [B, E·T, H]

      // Σ_e p_e·(o_e·Wo_e) = [p_1·o_1, …, p_E·o_E] · [Wo_1; …; Wo_E]: one matmul for all output projections.
      const o = tf.transpose(tf.reshape(attn, [B, E, T, H]), [0, 2, 1, 3]); // [B, T, E, H]
      const weighted = tf.mul(o, tf.reshape(combine, [B, T, E, 1]));
      const out = tf.matMul(
        tf.reshape(weighted, [S, E * H]) as tf.Tensor2D,
        tf.reshape(this.outKernel, [E * H, D]) as tf.Tensor2D,
      );
      const y = tf.reshape(tf.add(out, this.outBias), [B, T, D]);

      let mi: tf.Scalar | undefined;
      if (this.miWeight !== 0) {
        const tokenMask =
          mask == null ? undefined : (tf.reshape(tf.cast(mask, 'float32'), [S]) as tf.Tensor1D);
        mi =
          realTokens === 0
            ? tf.scalar(0)
            : (tf.mul(
                mutualInformationLoss(taskGateSums(p, task, NT, tokenMask), realTokens),
                this.miWeight,
              ) as tf.Scalar);
      }
      return { y, mi };
    });
    return {
      y,
      auxLosses: mi == null ? {} : { mutualInformation: mi },
      metrics: { expertTaskUsage: usage },
    };
  }

  /** Per-token task ids [B·T] from a single id or an int32 [B] tensor, validated. */
  private readTasks(task: number | tf.Tensor, B: number, T: number): Int32Array {
    const NT = this.numTasks;
    let perExample: ArrayLike<number>;
    if (typeof task === 'number') {
      perExample = new Array<number>(B).fill(task);
    } else {
      if (task.dtype !== 'int32' || task.rank !== 1 || task.shape[0] !== B) {
        throw new Error(
          `MoEAttention ${this.name}: ctx.task must be a number or an int32 [${B}] tensor, got ${task.dtype} [${task.shape}].`,
        );
      }
      perExample = task.dataSync();
    }
    const ids = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const t = perExample[b];
      if (!Number.isInteger(t) || t < 0 || t >= NT) {
        throw new Error(`MoEAttention ${this.name}: task ${t} (example ${b}) is outside [0, ${NT}).`);
      }
      ids.fill(t, b * T, (b + 1) * T);
    }
    return ids;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      dim: this.dim,
      numExperts: this.numExperts,
      k: this.k,
      headDim: this.headDim,
      numTasks: this.numTasks,
      gate: this.gate,
      miWeight: this.miWeight,
      sharedGate: this.sharedGate,
      gateExperts: this.gateExperts,
      keptExperts: this.keptExperts == null ? null : [...this.keptExperts],
    };
  }
}
tf.serialization.registerClass(MoEAttention);
