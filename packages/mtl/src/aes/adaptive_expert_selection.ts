import { assertInteger } from '@moevl/core';

/**
 * Adaptive Expert Selection (AES) from AdaMV-MoE: a per-task controller of the number of experts k_t that
 * each task's router activates. It needs no model: the trainer evaluates every task's validation loss every
 * Δn steps (its own choice) and hands the losses to {@link AdaptiveExpertSelection.update}; the controller
 * answers with each task's k_t and whether it is frozen.
 *
 * Rule, per task, at every validation check (following the upstream code):
 * 1. The loss improved when it is below `best − minDelta` (the first check always improves): record the new
 *    best and the step of the improvement. If the previous check was the one that changed k_t, the change is
 *    confirmed (kept). Event `'improved'`.
 * 2. Otherwise, if the previous check changed k_t (the very next check after a change still shows no
 *    improvement), undo it: k_t −= 1 and freeze the task for good. Event `'decrease-and-freeze'`.
 * 3. Otherwise, if `step − lastImprovementStep > patience`, k_t += 1 and remember that a change just
 *    happened. Event `'increase'`; or `'at-max'` (and nothing changes) when k_t is already `maxK`.
 * 4. Otherwise nothing happens and nothing is logged.
 *
 * `patience` is counted in training steps, not in checks, exactly as upstream compares step counts: with
 * Δn = 2000 and patience = 5000, an improvement at step 0 followed by flat losses at 2000 and 4000 raises
 * k_t at the check of step 6000 (6000 − 0 > 5000).
 *
 * A frozen task never changes again; its best loss is still tracked and every check of it logs `'frozen'`.
 * Model weights are never rolled back: only k_t moves.
 *
 * Upstream quirk, deliberately not reproduced: the reference implementation keeps ONE freeze flag shared by all
 * tasks, so the first task to freeze stops every other task from adapting. Here the freeze is kept per task,
 * so tasks are fully independent (as the method is described).
 */

/** Options of {@link AdaptiveExpertSelection}. */
export interface AdaptiveExpertSelectionOptions {
  /** Task names, unique and non-empty; every update must give a loss for each of them. */
  tasks: string[];
  /** Starting k for every task (upstream: 2). Must lie in [minK, maxK]. */
  initialK?: number;
  /** Upper bound on k (upstream: 8). */
  maxK?: number;
  /** Lower bound on k, only used to validate `initialK` (a decrease never goes below the k it undoes). */
  minK?: number;
  /**
   * Patience in TRAINING STEPS (not in checks): k is raised once `step − lastImprovementStep > patience`
   * (upstream: 5000 with checks every 2000 steps).
   */
  patience: number;
  /** A loss counts as an improvement only when it is below `best − minDelta`. Default 0. */
  minDelta?: number;
}

/** What happened to one task at one check. */
export type AesEvent = 'improved' | 'increase' | 'decrease-and-freeze' | 'at-max' | 'frozen';

/** One logged decision; `k` is the task's k after the decision. */
export interface AesDecision {
  step: number;
  task: string;
  event: AesEvent;
  k: number;
}

/** Each task's k and freeze flag after an update. */
export type AesResult = Record<string, { k: number; frozen: boolean }>;

/** Per-task state (JSON-safe: `null` stands for "no check yet"). */
export interface AesTaskState {
  k: number;
  frozen: boolean;
  /** Best validation loss so far, `null` before the first check. */
  best: number | null;
  /** Step of the last improvement, `null` before the first check. */
  lastImprovementStep: number | null;
  /** True when the previous check changed k (the next check confirms or undoes it). */
  justChanged: boolean;
}

/** Full controller state, plain JSON, for exact resume from a checkpoint. */
export interface AesState {
  version: 1;
  config: {
    tasks: string[];
    initialK: number;
    maxK: number;
    minK: number;
    patience: number;
    minDelta: number;
  };
  /** Step of the last update, `null` before the first. */
  lastStep: number | null;
  tasks: Record<string, AesTaskState>;
  history: AesDecision[];
}

function isInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Adaptive Expert Selection controller (see the module comment for the exact rule). */
export class AdaptiveExpertSelection {
  readonly tasks: readonly string[];
  readonly initialK: number;
  readonly maxK: number;
  readonly minK: number;
  readonly patience: number;
  readonly minDelta: number;

  private state: Map<string, AesTaskState>;
  private lastStep: number | null = null;
  private log: AesDecision[] = [];

  constructor(options: AdaptiveExpertSelectionOptions) {
    if (!isRecord(options)) throw new TypeError('AdaptiveExpertSelection: options must be an object');
    const { tasks, initialK = 2, maxK = 8, minK = 1, patience, minDelta = 0 } = options;
    if (!Array.isArray(tasks) || tasks.length === 0) {
      throw new Error('AdaptiveExpertSelection: tasks must be a non-empty array of task names');
    }
    const seen = new Set<string>();
    for (const t of tasks) {
      if (typeof t !== 'string' || t.length === 0) {
        throw new Error(
          `AdaptiveExpertSelection: task names must be non-empty strings, got ${JSON.stringify(t)}`,
        );
      }
      if (seen.has(t)) throw new Error(`AdaptiveExpertSelection: duplicate task name "${t}"`);
      seen.add(t);
    }
    assertInteger('AdaptiveExpertSelection: minK', minK, { min: 1 });
    assertInteger('AdaptiveExpertSelection: maxK', maxK, { min: minK, note: 'minK' });
    assertInteger('AdaptiveExpertSelection: initialK', initialK, {
      min: minK,
      max: maxK,
      note: 'minK, maxK',
    });
    if (typeof patience !== 'number' || !Number.isFinite(patience) || patience < 0) {
      throw new Error(
        `AdaptiveExpertSelection: patience (in steps) must be a finite number >= 0, got ${patience}`,
      );
    }
    if (typeof minDelta !== 'number' || !Number.isFinite(minDelta) || minDelta < 0) {
      throw new Error(`AdaptiveExpertSelection: minDelta must be a finite number >= 0, got ${minDelta}`);
    }
    this.tasks = Object.freeze([...tasks]);
    this.initialK = initialK;
    this.maxK = maxK;
    this.minK = minK;
    this.patience = patience;
    this.minDelta = minDelta;
    this.state = new Map(
      tasks.map((t) => [
        t,
        { k: initialK, frozen: false, best: null, lastImprovementStep: null, justChanged: false },
      ]),
    );
  }

  /** Current k of a task. */
  k(task: string): number {
    return this.task(task).k;
  }

  /** Whether a task's k is frozen. */
  isFrozen(task: string): boolean {
    return this.task(task).frozen;
  }

  /** Every task's current k and freeze flag. */
  current(): AesResult {
    const out: AesResult = {};
    for (const t of this.tasks) {
      const s = this.task(t);
      out[t] = { k: s.k, frozen: s.frozen };
    }
    return out;
  }

  /** All decisions so far, in order (a copy). */
  get history(): AesDecision[] {
    return this.log.map((d) => ({ ...d }));
  }

  /**
   * One validation check at training step `step` (strictly increasing across calls) with the validation loss
   * of every task. Inputs are fully validated before any state changes, so a throwing call leaves the
   * controller untouched.
   */
  update(step: number, validationLoss: Record<string, number>): AesResult {
    if (typeof step !== 'number' || !Number.isFinite(step) || step < 0) {
      throw new Error(`AdaptiveExpertSelection.update: step must be a finite number >= 0, got ${step}`);
    }
    if (this.lastStep !== null && step <= this.lastStep) {
      throw new Error(
        `AdaptiveExpertSelection.update: steps must be strictly increasing, got ${step} after ${this.lastStep}`,
      );
    }
    if (!isRecord(validationLoss)) {
      throw new TypeError('AdaptiveExpertSelection.update: validationLoss must be an object { task: loss }');
    }
    for (const name of Object.keys(validationLoss)) {
      if (!this.state.has(name)) {
        throw new Error(
          `AdaptiveExpertSelection.update: unknown task "${name}" in validationLoss (known: ${this.tasks.join(', ')})`,
        );
      }
    }
    for (const t of this.tasks) {
      if (!Object.prototype.hasOwnProperty.call(validationLoss, t)) {
        throw new Error(
          `AdaptiveExpertSelection.update: missing validation loss for task "${t}" at step ${step}`,
        );
      }
      const loss = validationLoss[t];
      if (typeof loss !== 'number' || !Number.isFinite(loss)) {
        throw new Error(
          `AdaptiveExpertSelection.update: validation loss of task "${t}" at step ${step} must be a finite number, got ${String(loss)}`,
        );
      }
    }

    this.lastStep = step;
    for (const t of this.tasks) {
      const s = this.task(t);
      const loss = validationLoss[t];
      const improved = s.best === null || loss < s.best - this.minDelta;
      if (improved) {
        s.best = loss;
        s.lastImprovementStep = step;
      }
      let event: AesEvent | null = null;
      if (s.frozen) {
        event = 'frozen';
      } else if (improved) {
        s.justChanged = false; // a change made at the previous check, if any, is confirmed
        event = 'improved';
      } else if (s.justChanged) {
        s.k -= 1;
        s.frozen = true;
        s.justChanged = false;
        event = 'decrease-and-freeze';
      } else if (step - (s.lastImprovementStep as number) > this.patience) {
        if (s.k < this.maxK) {
          s.k += 1;
          s.justChanged = true;
          event = 'increase';
        } else {
          event = 'at-max';
        }
      }
      if (event !== null) this.log.push({ step, task: t, event, k: s.k });
    }
    return this.current();
  }

  /** Plain-JSON snapshot of everything needed to resume exactly. */
  getState(): AesState {
    const tasks: Record<string, AesTaskState> = {};
    for (const t of this.tasks) tasks[t] = { ...this.task(t) };
    return {
      version: 1,
      config: {
        tasks: [...this.tasks],
        initialK: this.initialK,
        maxK: this.maxK,
        minK: this.minK,
        patience: this.patience,
        minDelta: this.minDelta,
      },
      lastStep: this.lastStep,
      tasks,
      history: this.history,
    };
  }

  /**
   * Restore a snapshot from {@link getState} (e.g. after `JSON.parse`). The snapshot's config must match this
   * controller's; the state is validated before anything is replaced.
   */
  setState(state: AesState): void {
    const err = (msg: string): Error => new Error(`AdaptiveExpertSelection.setState: ${msg}`);
    if (!isRecord(state)) throw err('state must be an object');
    if (state.version !== 1) throw err(`unsupported version ${String(state.version)}`);
    const c = state.config;
    if (!isRecord(c)) throw err('missing config');
    const mine = this.getState().config;
    if (JSON.stringify(c.tasks) !== JSON.stringify(mine.tasks)) {
      throw err(
        `tasks ${JSON.stringify(c.tasks)} do not match this controller's ${JSON.stringify(mine.tasks)}`,
      );
    }
    for (const key of ['initialK', 'maxK', 'minK', 'patience', 'minDelta'] as const) {
      if (c[key] !== mine[key])
        throw err(`config.${key} is ${String(c[key])} but this controller has ${mine[key]}`);
    }
    if (state.lastStep !== null && (typeof state.lastStep !== 'number' || !Number.isFinite(state.lastStep))) {
      throw err(`lastStep must be null or a finite number, got ${String(state.lastStep)}`);
    }
    if (!isRecord(state.tasks)) throw err('missing tasks');
    const next = new Map<string, AesTaskState>();
    for (const t of this.tasks) {
      const s = state.tasks[t];
      if (!isRecord(s)) throw err(`missing state of task "${t}"`);
      if (!isInt(s.k) || s.k < this.minK || s.k > this.maxK) {
        throw err(`k of task "${t}" must be an integer in [${this.minK}, ${this.maxK}], got ${String(s.k)}`);
      }
      if (typeof s.frozen !== 'boolean' || typeof s.justChanged !== 'boolean') {
        throw err(`frozen/justChanged of task "${t}" must be booleans`);
      }
      const numOrNull = (x: unknown): boolean => x === null || (typeof x === 'number' && Number.isFinite(x));
      if (!numOrNull(s.best) || !numOrNull(s.lastImprovementStep)) {
        throw err(`best/lastImprovementStep of task "${t}" must be null or finite numbers`);
      }
      next.set(t, {
        k: s.k,
        frozen: s.frozen,
        best: s.best,
        lastImprovementStep: s.lastImprovementStep,
        justChanged: s.justChanged,
      });
    }
    if (Object.keys(state.tasks).length !== this.tasks.length)
      throw err('state has tasks this controller lacks');
    if (!Array.isArray(state.history)) throw err('history must be an array');
    const events = new Set<string>(['improved', 'increase', 'decrease-and-freeze', 'at-max', 'frozen']);
    const history: AesDecision[] = state.history.map((d, i) => {
      if (
        !isRecord(d) ||
        typeof d.step !== 'number' ||
        typeof d.task !== 'string' ||
        !events.has(String(d.event)) ||
        !isInt(d.k)
      ) {
        throw err(`history[${i}] is not a valid decision`);
      }
      return { step: d.step, task: d.task, event: d.event as AesEvent, k: d.k };
    });
    this.state = next;
    this.lastStep = state.lastStep;
    this.log = history;
  }

  private task(name: string): AesTaskState {
    const s = this.state.get(name);
    if (s === undefined) {
      throw new Error(`AdaptiveExpertSelection: unknown task "${name}" (known: ${this.tasks.join(', ')})`);
    }
    return s;
  }
}
