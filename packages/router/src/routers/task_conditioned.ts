import * as tf from '@tensorflow/tfjs';
import { Rng, assertIndex, assertInteger, deriveSeed } from '@moevl/core';
import { assignTopK } from '../assignment/assign_top_k.js';
import { computeCapacity } from '../assignment/capacity.js';
import { readMask } from '../assignment/gates_input.js';
import { TaskGate } from '../gating/task_gate.js';
import type { Router, RouterContext, RouterStrategy, SparseRoutingResult } from './contract.js';
import { sparseResult } from './sparse_result.js';
import { taskAuxLosses } from './task_conditioned_losses.js';
import {
  TASK_CONDITIONED_ROUTER_NAME,
  type TaskConditionedRouterOptions,
  isValidTaskK,
  validateTaskConditionedOptions,
} from './task_conditioned_options.js';

export * from './task_conditioned_options.js';

/**
 * Task-conditioned token-choice router (Mod-Squad, AdaMV-MoE): the experts are shared by all tasks, but
 * every task t has its own gate `gate/task<t>/kernel [D, E]` (a `TaskGate`) and its own number of experts
 * per token k_t. A token is scored only by its own task's gate and keeps its own k_t choices.
 *
 * The assignment is `assignTopK` with K = max_t k_t and each token's own k_t (`kPerToken`): choices j ≥ k_t
 * of a token are padding, reported as dropped (position −1, weight 0, expert index = the next-best expert).
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
  /** The per-task (or shared) gate kernels, the kept experts and Mod-Squad's 1e-4. */
  private readonly gate: TaskGate;
  /** Current k_t per task; mutable through `setTaskK` (AdaMV's adaptive expert selection). */
  private readonly k: number[];
  /** Fallback noise source when the caller passes no RNG (reproducible, not resumable). */
  private readonly rng: Rng;

  constructor(options: TaskConditionedRouterOptions) {
    this.numExperts = options.numExperts;
    this.inputDim = options.inputDim;
    this.numTasks = options.numTasks;
    this.k = [...options.k];
    this.options = { ...options, k: [...options.k] };
    if (this.k.length !== this.numTasks || !this.k.every((k) => isValidTaskK(k, this.kLimit()))) {
      throw this.error(`options.k must hold numTasks = ${this.numTasks} integers in [1, ${this.kLimit()}]`);
    }
    const seed = options.seed ?? 0;
    // Options built by hand (not through validateOptions) may lack the newer fields.
    this.gate = new TaskGate({
      name: 'gate',
      owner: `router "${this.strategy}"`,
      inputDim: this.inputDim,
      numExperts: this.numExperts,
      numTasks: this.numTasks,
      gate: options.gate,
      sharedGate: options.sharedGate ?? false,
      gateExperts: options.gateExperts ?? this.numExperts,
      keptExperts: options.keptExperts ?? null,
      seed,
      // The kernels' seeds from before the gate was a layer of its own, so a seed builds the same router.
      kernelSeed: (kernel) => deriveSeed(seed, `gate/${kernel}`),
    });
    // Built now, not on first use: the weights exist (and can be checkpointed) before the first batch.
    this.gate.ensureBuilt();
    this.gateExperts = this.gate.gateExperts;
    this.options = {
      ...this.options,
      sharedGate: this.gate.sharedGate,
      gateExperts: this.gateExperts,
      keptExperts: this.gate.keptExperts,
    };
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
    assertInteger('setTaskK: k', k, { min: 1, max: this.kLimit(), note: 'min(kMax, numExperts)' }, (m) =>
      this.error(m.replace(/\.$/, '')),
    );
    this.k[task] = k;
  }

  route(x: tf.Tensor2D, ctx: RouterContext): SparseRoutingResult {
    if (x.rank !== 2 || x.shape[1] !== this.inputDim) {
      throw this.error(`expected tokens [S, ${this.inputDim}], got [${x.shape}]`);
    }
    const o = this.options;
    const [S, E, T, G] = [x.shape[0], this.numExperts, this.numTasks, this.gateExperts];
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
    const gate = this.gate;
    const { logits, gates, noisyLogits, routeGates } = tf.tidy(() => {
      const full = gate.logits(x, task);
      const l = gate.keep(full);
      const g = gate.keep(gate.probabilities(full));
      if (!noisy) return { logits: l, gates: g, noisyLogits: undefined, routeGates: g };
      const nl = tf.add(full, (ctx.rng ?? this.rng).normalTensor([S, G], 0, o.noiseStd / G)) as tf.Tensor2D;
      return {
        logits: l,
        gates: g,
        noisyLogits: gate.keep(nl),
        routeGates: gate.keep(gate.probabilities(nl)),
      };
    });
    const kPerToken = Int32Array.from(taskIds, (t) => kTask[t]);
    const assignment = assignTopK(routeGates, {
      k: K,
      kPerToken,
      capacity,
      capacityMultipleOf: o.capacityMultipleOf,
      batchPriority: o.batchPriority,
      mask: ctx.mask,
    });
    const auxLosses = taskAuxLosses(o, T, { logits, gates, noisyLogits }, taskIds, real, kTask, ctx);
    tf.dispose([logits, noisyLogits, routeGates === gates ? undefined : routeGates].filter((t) => t != null));
    return sparseResult({
      numExperts: E,
      assignment,
      gates,
      auxLosses,
      // Metrics per task (not per modality), each token counted with its own k_t choices.
      ctx: { mask: ctx.mask, task, numTasks: T },
      kPerToken,
      extraMetrics: { kPerTask: kTask },
    });
  }

  namedWeights(): Record<string, tf.Variable> {
    return Object.fromEntries(Object.entries(this.gate.namedWeights()).map(([k, v]) => [`gate/${k}`, v]));
  }

  getOptions(): TaskConditionedRouterOptions {
    const kept = this.options.keptExperts;
    return { ...this.options, k: [...this.k], keptExperts: kept == null ? null : [...kept] };
  }

  dispose(): void {
    this.gate.dispose();
  }

  private kLimit(): number {
    return Math.min(this.options.kMax, this.numExperts);
  }

  private error(message: string): Error {
    return new Error(`router "${this.strategy}": ${message}.`);
  }

  private checkTask(task: number): void {
    assertIndex('task', task, this.numTasks, 'numTasks', (m) => this.error(m.replace(/\.$/, '')));
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
