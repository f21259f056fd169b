import * as tf from '@tensorflow/tfjs';
import { Rng, deriveSeed, initialize, oneHot, topK } from '@moevl/core';
import { bufferPositions, droplessCapacity } from '../assignment/buffer_positions.js';
import { computeCapacity } from '../assignment/capacity.js';
import { readGates, readMask } from '../assignment/gates_input.js';
import { routingMetrics } from '../metrics/routing_metrics.js';
import type { Router, RouterContext, RouterStrategy, SparseRoutingResult } from './contract.js';
import { taskAuxLosses } from './task_conditioned_losses.js';
import { keptSelection, ownKSuccessRates } from './task_conditioned_metrics.js';
import {
  TASK_CONDITIONED_ROUTER_NAME,
  type TaskConditionedRouterOptions,
  isValidTaskK,
  validateTaskConditionedOptions,
} from './task_conditioned_options.js';

export * from './task_conditioned_options.js';

/** Mod-Squad adds this to every softmax probability (upstream code), so no gate is exactly 0. */
const MOD_SQUAD_GATE_EPS = 1e-4;

/** What the integer bookkeeping of one routing step produced, as tensors and as the JS data behind them. */
interface TaskAssignment {
  expertIndex: tf.Tensor2D;
  position: tf.Tensor2D;
  combineWeights: tf.Tensor2D;
  positionData: Int32Array;
  capacity: number;
}

/**
 * Task-conditioned token-choice router (Mod-Squad, AdaMV-MoE): the experts are shared by all tasks, but
 * every task t has its own gate `gate/task<t>/kernel [D, E]` and its own number of experts per token k_t.
 * A token is scored only by its own task's gate and keeps its own k_t choices.
 *
 * All tasks' gates are applied to every token in one matmul with the kernels side by side, and each
 * token's row is then picked with a one-hot task mask (a multiply, so the gradient reaches exactly its
 * task's kernel and works on every backend; the extra T−1 gate products cost D·E each, tiny next to the
 * experts). The result has K = max_t k_t choices per token; choices j ≥ k_t of a token are padding,
 * reported as dropped (position −1, weight 0, expert index = the next-best expert, a valid index).
 * Buffer positions are assigned over all tasks together (the experts, and so their capacity, are shared),
 * K-major and optionally in Batch Priority order.
 *
 * `sharedGate` gives every task the same kernel (the shared-router ablation). `keptExperts` serves a model
 * extracted from a larger one: the gate keeps all `gateExperts` columns (softmax, noise and Mod-Squad's
 * 1e-4 over all of them, exactly as in the full model) and the kept experts' columns are then selected, so
 * top-k chooses among the kept experts with unchanged probabilities.
 */
export class TaskConditionedRouter implements Router {
  readonly strategy = TASK_CONDITIONED_ROUTER_NAME;
  readonly batchIndependent = true;
  readonly numExperts: number;
  readonly inputDim: number;
  readonly numTasks: number;
  private options: TaskConditionedRouterOptions;
  /** Columns of each gate kernel: `numExperts`, or the original expert count of an extracted model. */
  readonly gateExperts: number;
  /** One kernel per task, or one for all tasks with `sharedGate`. */
  private readonly kernels: tf.Variable[];
  /** `[gateExperts, numExperts]` one-hot columns picking the kept experts' gates; null when all are kept. */
  private readonly keptSelection: tf.Tensor2D | null;
  /** Current k_t per task; mutable through `setTaskK` (AdaMV's adaptive expert selection). */
  private readonly k: number[];
  /** Fallback noise source when the caller passes no RNG (reproducible, not resumable). */
  private readonly rng: Rng;

  constructor(options: TaskConditionedRouterOptions) {
    this.options = { ...options, k: [...options.k] };
    this.numExperts = options.numExperts;
    this.inputDim = options.inputDim;
    this.numTasks = options.numTasks;
    this.k = [...options.k];
    if (this.k.length !== this.numTasks || !this.k.every((k) => isValidTaskK(k, this.kLimit()))) {
      throw this.error(`options.k must hold numTasks = ${this.numTasks} integers in [1, ${this.kLimit()}]`);
    }
    const seed = options.seed ?? 0;
    // Options built by hand (not through validateOptions) may lack the newer fields.
    this.gateExperts = options.gateExperts ?? this.numExperts;
    const kept = options.keptExperts ?? null;
    if (
      kept != null &&
      (kept.length !== this.numExperts ||
        kept.some((e, i) => !(e >= 0 && e < this.gateExperts) || (i > 0 && e <= kept[i - 1])))
    ) {
      throw this.error(
        `options.keptExperts must hold numExperts = ${this.numExperts} strictly increasing ids in [0, ${this.gateExperts})`,
      );
    }
    if (kept == null && this.gateExperts !== this.numExperts) {
      throw this.error(`options.keptExperts is required when gateExperts (${this.gateExperts}) > numExperts`);
    }
    this.options = {
      ...this.options,
      sharedGate: options.sharedGate ?? false,
      gateExperts: this.gateExperts,
      keptExperts: kept,
    };
    // tf.keep: a router may be built inside a caller's tidy; the selection lives as long as the router.
    this.keptSelection = kept == null ? null : tf.keep(keptSelection(kept, this.gateExperts));
    // Mod-Squad zero-initialises its routers, so every task starts with uniform routing.
    const init = options.gate === 'mod-squad' ? 'zeros' : 'lecunNormal';
    const kernel = (path: string) => {
      const value = initialize(init, [this.inputDim, this.gateExperts], deriveSeed(seed, path));
      const variable = tf.variable(value, true);
      value.dispose();
      return variable;
    };
    this.kernels = this.options.sharedGate
      ? [kernel('gate/shared')]
      : Array.from({ length: this.numTasks }, (_, t) => kernel(`gate/task${t}`));
    this.rng = new Rng(deriveSeed(seed, 'noise'));
  }

  /** k_t of task t. */
  getTaskK(task: number): number {
    this.checkTask(task);
    return this.k[task];
  }

  /**
   * Sets k_t, e.g. when AdaMV's adaptive expert selection adds or removes an expert for a task. Takes
   * effect from the next `route`; `getOptions()` reports it, so a checkpoint keeps it.
   */
  setTaskK(task: number, k: number): void {
    this.checkTask(task);
    if (!isValidTaskK(k, this.kLimit())) {
      throw this.error(
        `setTaskK: k must be an integer in [1, ${this.kLimit()}] (min(kMax, numExperts)), got ${k}`,
      );
    }
    this.k[task] = k;
  }

  route(x: tf.Tensor2D, ctx: RouterContext): SparseRoutingResult {
    if (x.rank !== 2 || x.shape[1] !== this.inputDim) {
      throw this.error(`expected tokens [S, ${this.inputDim}], got [${x.shape}]`);
    }
    const o = this.options;
    const [S, E, T] = [x.shape[0], this.numExperts, this.numTasks];
    const task = ctx.task as tf.Tensor1D;
    const taskIds = this.readTasks(ctx, S);
    const real = readMask(`router "${this.strategy}"`, ctx.mask, S);
    const kTask = [...this.k];
    const K = Math.max(...kTask);
    const capacity =
      ctx.dropless && !ctx.training
        ? 'dropless'
        : computeCapacity({
            tokens: S,
            experts: E,
            k: K,
            capacityFactor: ctx.training ? o.capacityFactor : (ctx.capacityFactor ?? o.evalCapacityFactor),
            multipleOf: o.capacityMultipleOf,
          });
    const noisy = ctx.training && o.noiseStd > 0;
    const G = this.gateExperts;
    const { logits, gates, noisyLogits, routeGates } = tf.tidy(() => {
      const full = this.taskLogits(x, task);
      const l = this.keep(full);
      const g = this.keep(this.gate(full));
      if (!noisy) return { logits: l, gates: g, noisyLogits: undefined, routeGates: g };
      const nl = tf.add(full, (ctx.rng ?? this.rng).normalTensor([S, G], 0, o.noiseStd / G)) as tf.Tensor2D;
      return { logits: l, gates: g, noisyLogits: this.keep(nl), routeGates: this.keep(this.gate(nl)) };
    });
    const {
      positionData,
      capacity: c,
      ...assignment
    } = this.assign(routeGates, taskIds, real, kTask, capacity);
    const auxLosses = taskAuxLosses(
      this.options,
      this.numTasks,
      { logits, gates, noisyLogits },
      taskIds,
      real,
      kTask,
      ctx,
    );
    const metrics = routingMetrics({
      expertIndex: assignment.expertIndex,
      position: assignment.position,
      gates,
      numExperts: E,
      capacity: c,
      mask: ctx.mask,
      task,
      numTasks: T,
    });
    const ownK = ownKSuccessRates(positionData, taskIds, real, kTask, K, T);
    tf.dispose([logits, noisyLogits, routeGates === gates ? undefined : routeGates].filter((t) => t != null));
    return {
      kind: 'sparse',
      numExperts: E,
      capacity: c,
      gates,
      auxLosses,
      metrics: { ...metrics, ...ownK, kPerTask: kTask },
      ...assignment,
    };
  }

  namedWeights(): Record<string, tf.Variable> {
    if (this.options.sharedGate) return { 'gate/shared/kernel': this.kernels[0] };
    return Object.fromEntries(this.kernels.map((kernel, t) => [`gate/task${t}/kernel`, kernel]));
  }

  getOptions(): TaskConditionedRouterOptions {
    const kept = this.options.keptExperts;
    return { ...this.options, k: [...this.k], keptExperts: kept == null ? null : [...kept] };
  }

  dispose(): void {
    for (const kernel of this.kernels) kernel.dispose();
    this.keptSelection?.dispose();
  }

  private kLimit(): number {
    return Math.min(this.options.kMax, this.numExperts);
  }

  private error(message: string): Error {
    return new Error(`router "${this.strategy}": ${message}.`);
  }

  private checkTask(task: number): void {
    if (!Number.isInteger(task) || task < 0 || task >= this.numTasks) {
      throw this.error(`task must be an integer in [0, ${this.numTasks}) (numTasks), got ${task}`);
    }
  }

  /** Validates `ctx.task` / `ctx.numTasks` and reads the task ids. */
  private readTasks(ctx: RouterContext, S: number): Int32Array {
    const T = this.numTasks;
    if (ctx.numTasks != null && ctx.numTasks !== T) {
      throw this.error(
        `ctx.numTasks = ${ctx.numTasks} differs from option numTasks = ${T} (one gate per task)`,
      );
    }
    const task = ctx.task;
    if (task == null)
      throw this.error(`needs ctx.task, the [S] int32 task id of every token (numTasks = ${T})`);
    if (task.dtype !== 'int32' || task.rank !== 1 || task.shape[0] !== S) {
      throw this.error(`ctx.task must be int32 [${S}] (one id per token), got ${task.dtype} [${task.shape}]`);
    }
    const ids = task.dataSync() as Int32Array;
    for (let s = 0; s < S; s++) {
      if (!(ids[s] >= 0 && ids[s] < T)) throw this.error(`ctx.task[${s}] = ${ids[s]} is outside [0, ${T})`);
    }
    return ids;
  }

  /** Each token's logits under its own task's gate (or the shared gate): x·W_task(s), [S, gateExperts]. */
  private taskLogits(x: tf.Tensor2D, task: tf.Tensor1D): tf.Tensor2D {
    const [S, E, T] = [x.shape[0], this.gateExperts, this.kernels.length];
    const all = tf.matMul(x, T === 1 ? this.kernels[0] : tf.concat(this.kernels, 1)) as tf.Tensor2D;
    if (T === 1) return all;
    const select = tf.reshape(oneHot(task, T), [S, T, 1]);
    return tf.sum(tf.mul(tf.reshape(all, [S, T, E]), select), 1) as tf.Tensor2D;
  }

  /**
   * The kept experts' columns of `[S, gateExperts]` scores, as a matmul with a one-hot selection (a
   * gather's gradient needs a kernel the wasm backend lacks). Identity when every expert is kept.
   */
  private keep(scores: tf.Tensor2D): tf.Tensor2D {
    return this.keptSelection == null ? scores : tf.matMul(scores, this.keptSelection);
  }

  /** Gate probabilities from logits: softmax, plus Mod-Squad's 1e-4 for its gate. */
  private gate(logits: tf.Tensor2D): tf.Tensor2D {
    const p = tf.softmax(logits) as tf.Tensor2D;
    return this.options.gate === 'mod-squad' ? (tf.add(p, MOD_SQUAD_GATE_EPS) as tf.Tensor2D) : p;
  }

  /**
   * Top-K per token (K = max k_t), then buffer positions. `bufferPositions` (V-MoE's K-major running
   * count) is reused unchanged by pointing a token's padding choices (j ≥ k_t) at a sentinel expert E
   * that no real choice uses: they then claim no slot of a real expert, and are reported as dropped.
   */
  private assign(
    routeGates: tf.Tensor2D,
    taskIds: Int32Array,
    real: Uint8Array | null,
    kTask: number[],
    capacity: number | 'dropless',
  ): TaskAssignment {
    const { tokens: S, experts: E } = readGates(`router "${this.strategy}"`, routeGates);
    const K = Math.max(...kTask);
    return tf.tidy(() => {
      const top = topK(routeGates, K);
      const index = top.indices.dataSync() as Int32Array;
      const claimed = Int32Array.from(index);
      for (let s = 0; s < S; s++) for (let j = kTask[taskIds[s]]; j < K; j++) claimed[s * K + j] = E;
      const order: number[] = [];
      for (let s = 0; s < S; s++) if (real == null || real[s]) order.push(s);
      if (this.options.batchPriority) {
        // Batch Priority Routing: descending top-1 gate; Array sort is stable, so ties keep token order.
        const top1 = top.values.dataSync();
        order.sort((a, b) => top1[b * K] - top1[a * K]);
      }
      // Dropless: the largest load of a real expert (the sentinel E is not counted).
      const c =
        capacity === 'dropless'
          ? droplessCapacity(
              { expertIndex: claimed, tokens: S, k: K, numExperts: E, order },
              this.options.capacityMultipleOf,
            )
          : capacity;
      const positionData = bufferPositions({
        expertIndex: claimed,
        tokens: S,
        k: K,
        numExperts: E + 1,
        capacity: c,
        order,
      });
      const keptData = new Uint8Array(S * K);
      for (let i = 0; i < positionData.length; i++) {
        if (claimed[i] === E) positionData[i] = -1;
        keptData[i] = positionData[i] >= 0 ? 1 : 0;
      }
      // `where`, not a multiply: a dropped weight is exactly 0 and gets exactly 0 gradient.
      const kept = tf.tensor2d(keptData, [S, K], 'bool');
      const combineWeights = tf.where(kept, top.values, tf.zerosLike(top.values)) as tf.Tensor2D;
      const position = tf.tensor2d(positionData, [S, K], 'int32');
      return {
        expertIndex: top.indices as tf.Tensor2D,
        position,
        combineWeights,
        positionData,
        capacity: c,
      };
    });
  }
}

/** True when `router` is a task-conditioned router (for trainers that adapt k_t through a `Router`). */
export function isTaskConditionedRouter(router: Router): router is TaskConditionedRouter {
  return router instanceof TaskConditionedRouter;
}

/** The strategy, typed so that `create` returns the router with `getTaskK` / `setTaskK`. */
export interface TaskConditionedRouterStrategy extends RouterStrategy<TaskConditionedRouterOptions> {
  create(options: TaskConditionedRouterOptions): TaskConditionedRouter;
}

export const taskConditionedRouter: TaskConditionedRouterStrategy = {
  specificationVersion: 'v1',
  name: TASK_CONDITIONED_ROUTER_NAME,
  version: '1.0.0',
  description: 'Task-conditioned top-k routing with one gate and one k per task (Mod-Squad, AdaMV-MoE)',
  validateOptions: validateTaskConditionedOptions,
  create: (options) => new TaskConditionedRouter(options),
};
