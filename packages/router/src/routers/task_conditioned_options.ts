import { isIntegerIn } from '@moevl/core';
import { isKeptExpertList } from '../gating/task_gate.js';
import type { RouterOptions } from './contract.js';
import { OptionReader } from './option_checks.js';

/** Registry key of the task-conditioned router. */
export const TASK_CONDITIONED_ROUTER_NAME = 'task-conditioned';

/**
 * Which paper's gate each task gets:
 *  - `mod-squad` (Chen et al. 2023): zero-initialised kernel, so routing starts uniform;
 *    p = softmax(x·W_t) + 1e-4; no noise; the combine weights are the chosen p, not renormalised;
 *  - `vmoe` (AdaMV-MoE, Chen et al. 2023, on V-MoE's router): LeCun-normal kernel, training noise
 *    N(0, (noiseStd/E)²) on the logits, softmax before top-k, raw top-k gates as combine weights.
 */
export type TaskConditionedGate = 'mod-squad' | 'vmoe';

export interface TaskConditionedRouterOptions extends RouterOptions {
  seed: number;
  /** Gate flavour; default `vmoe`. */
  gate: TaskConditionedGate;
  /**
   * T, the number of tasks: one gate kernel per task is created up front so the weights exist (and can be
   * checkpointed) before the first batch. Defaults to the length of `k` when `k` is an array.
   */
  numTasks: number;
  /**
   * k_t, experts per token of each task ([T]). `validateOptions` also takes one number for every task;
   * default min(2, kMax, E) (AdaMV's k₀ = 2). Changed by `setTaskK` during AdaMV's adaptive expert
   * selection, and `getOptions()` returns the current values so a checkpoint keeps the chosen k_t.
   */
  k: number[];
  /** Upper bound of every k_t (AdaMV's k_max, default 8); the effective bound is min(kMax, E). */
  kMax: number;
  /** Capacity factor in training; default 1.25. Capacity uses K = max_t k_t. */
  capacityFactor: number;
  /** Capacity factor at evaluation; default 4 (V-MoE), so almost nothing is dropped. */
  evalCapacityFactor: number;
  /**
   * Noise std before division by E; default 1 for `vmoe`, 0 for `mod-squad` (Mod-Squad's gate has no
   * noise; a positive value adds V-MoE's noise to it too, which also enables the load loss).
   */
  noiseStd: number;
  /** Batch Priority Routing over all tasks' tokens together; default false. */
  batchPriority: boolean;
  /** Capacity is rounded up to a multiple of this (vmoe: 4). */
  capacityMultipleOf: number;
  /** Mod-Squad mutual-information loss weight; default 0.005 for `mod-squad`, 0 for `vmoe`. */
  miWeight: number;
  /** V-MoE importance loss weight, per task gate; default 5e-3 for `vmoe` (AdaMV), 0 for `mod-squad`. */
  importanceWeight: number;
  /** V-MoE load loss weight, per task gate, training with noise only; default 5e-3 for `vmoe`, else 0. */
  loadWeight: number;
  /** ST-MoE z-loss weight over all tokens; default 0. */
  zLossWeight: number;
  /**
   * One gate kernel `gate/shared/kernel` used by every task (the shared-router ablation of Mod-Squad and
   * AdaMV) instead of one per task. Only the scoring is shared: each task keeps its own k_t, its own share
   * of the MI loss and its own metrics. Default false.
   */
  sharedGate: boolean;
  /**
   * Columns of each gate kernel, i.e. the number of experts the gate scores; default `numExperts`. Larger
   * only for a model extracted from a bigger one (Mod-Squad's single-task extraction, see `keptExperts`).
   */
  gateExperts: number;
  /**
   * For an extracted model: the gate column (original expert id) of each of the `numExperts` experts this
   * router dispatches to, strictly increasing in [0, gateExperts). Mod-Squad's gate is softmax over ALL
   * original experts + 1e-4, not renormalised, so the gate keeps its full kernel [D, gateExperts]: every
   * kept expert's probability is exactly what it was in the full model, and top-k chooses among the kept
   * experts only. Default null: expert i is gate column i.
   */
  keptExperts: number[] | null;
}

const OPTION_KEYS = [
  'gate',
  'numTasks',
  'k',
  'kMax',
  'capacityFactor',
  'evalCapacityFactor',
  'noiseStd',
  'batchPriority',
  'capacityMultipleOf',
  'miWeight',
  'importanceWeight',
  'loadWeight',
  'zLossWeight',
  'sharedGate',
  'gateExperts',
  'keptExperts',
] as const;

/** AdaMV-MoE's k₀: every task starts with two experts per token. */
const DEFAULT_K = 2;
/** AdaMV-MoE's k_max. */
const DEFAULT_K_MAX = 8;

/** Whether `k` is a valid number of experts for one task, given min(kMax, E). */
export function isValidTaskK(k: unknown, kLimit: number): k is number {
  return isIntegerIn(k, { min: 1, max: kLimit });
}

/** Reads `k` as one integer (same for every task) or one integer per task. */
function readK(r: OptionReader, raw: unknown, numTasks: number, kLimit: number): number[] {
  if (raw == null) return new Array<number>(numTasks).fill(Math.min(DEFAULT_K, kLimit));
  const rule = `an integer in [1, ${kLimit}] (min(kMax, numExperts)) or an array of numTasks = ${numTasks} of them`;
  if (isValidTaskK(raw, kLimit)) return new Array<number>(numTasks).fill(raw);
  if (!Array.isArray(raw) || raw.length !== numTasks || !raw.every((k) => isValidTaskK(k, kLimit))) {
    r.fail('k', rule);
  }
  return [...(raw as number[])];
}

/**
 * Reads `gateExperts` and `keptExperts` together: without `keptExperts` the gate scores exactly the
 * `numExperts` experts; with it, it lists one distinct gate column per expert, in increasing order.
 */
function readKeptExperts(r: OptionReader, raw: Record<string, unknown>, numExperts: number) {
  const gateExperts = r.int('gateExperts', numExperts, numExperts);
  const kept = raw.keptExperts;
  if (kept == null) {
    if (gateExperts !== numExperts) {
      r.fail(
        'keptExperts',
        `given when gateExperts (${gateExperts}) > numExperts (${numExperts}): list the gate column of each expert`,
      );
    }
    return { gateExperts, keptExperts: null };
  }
  if (!isKeptExpertList(kept, numExperts, gateExperts)) {
    r.fail(
      'keptExperts',
      `null or numExperts = ${numExperts} strictly increasing integers in [0, gateExperts = ${gateExperts})`,
    );
  }
  return { gateExperts, keptExperts: [...kept] };
}

/**
 * Checks raw options and fills in the defaults, which depend on `gate`: Mod-Squad's defaults are the MI
 * loss and no noise; AdaMV's (vmoe) are V-MoE's noise and importance + load losses.
 */
export function validateTaskConditionedOptions(raw: Record<string, unknown>): TaskConditionedRouterOptions {
  const r = new OptionReader(TASK_CONDITIONED_ROUTER_NAME, raw, OPTION_KEYS);
  const common = r.common();
  const gate = r.oneOf<TaskConditionedGate>('gate', 'vmoe', ['mod-squad', 'vmoe']);
  const kMax = r.int('kMax', DEFAULT_K_MAX, 1);
  const kLimit = Math.min(kMax, common.numExperts);
  const numTasks = r.int('numTasks', Array.isArray(raw.k) ? raw.k.length : undefined, 1);
  const k = readK(r, raw.k, numTasks, kLimit);
  const vmoe = gate === 'vmoe';
  return {
    ...common,
    gate,
    numTasks,
    k,
    kMax,
    capacityFactor: r.number('capacityFactor', 1.25, { exclusiveMin: 0 }),
    evalCapacityFactor: r.number('evalCapacityFactor', 4, { exclusiveMin: 0 }),
    noiseStd: r.number('noiseStd', vmoe ? 1 : 0, { min: 0 }),
    batchPriority: r.bool('batchPriority', false),
    capacityMultipleOf: r.int('capacityMultipleOf', 4, 1),
    miWeight: r.number('miWeight', vmoe ? 0 : 0.005, { min: 0 }),
    importanceWeight: r.number('importanceWeight', vmoe ? 5e-3 : 0, { min: 0 }),
    loadWeight: r.number('loadWeight', vmoe ? 5e-3 : 0, { min: 0 }),
    zLossWeight: r.number('zLossWeight', 0, { min: 0 }),
    sharedGate: r.bool('sharedGate', false),
    ...readKeptExperts(r, raw, common.numExperts),
  };
}
