import { assertInteger } from '../config/integer_checks.js';

/**
 * Learning-rate schedules as plain functions of the 0-based step index (the value of `AdamW.step` before
 * the update), so a run resumed from a checkpoint gets the same rate from the step number alone: schedules
 * hold no state to save.
 */

/** Maps a 0-based optimizer step to the learning rate for that step. */
export type LrSchedule = (step: number) => number;

export interface WarmupCosineOptions {
  /** Rate reached at the end of warmup and the start of the cosine decay. */
  peakLr: number;
  /** Number of linear-warmup steps (0 for none). */
  warmupSteps: number;
  /** Step at which the cosine reaches `endLr`; must be ≥ `warmupSteps`. */
  totalSteps: number;
  /** Final rate, held for every step ≥ `totalSteps`; default 0. */
  endLr?: number;
}

function checkRate(fn: string, name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${fn}: ${name} must be a finite number ≥ 0, got ${value}`);
}

function checkSteps(fn: string, name: string, value: number): void {
  assertInteger(`${fn}: ${name}`, value, { min: 0 });
}

function checkStep(fn: string, step: number): void {
  assertInteger(`${fn}: step`, step, { min: 0 });
}

/**
 * Linear warmup then cosine decay, the usual ViT / LIMoE recipe:
 *
 * - `step < warmupSteps`: `peakLr · (step + 1) / warmupSteps`. Warmup starts above 0 because a step at
 *   rate 0 would be wasted, and reaches `peakLr` on its last step, `warmupSteps − 1`.
 * - `warmupSteps ≤ step < totalSteps`: with `p = (step − warmupSteps) / (totalSteps − warmupSteps)` and
 *   `w = (1 + cos(π·p)) / 2`, the rate is `w·peakLr + (1 − w)·endLr`, so step `warmupSteps` is again
 *   exactly `peakLr` and the curve falls to `endLr`.
 * - `step ≥ totalSteps`: `endLr`.
 */
export function warmupCosine(options: WarmupCosineOptions): LrSchedule {
  const fn = 'warmupCosine';
  const { peakLr, warmupSteps, totalSteps } = options;
  const endLr = options.endLr ?? 0;
  checkRate(fn, 'peakLr', peakLr);
  checkRate(fn, 'endLr', endLr);
  checkSteps(fn, 'warmupSteps', warmupSteps);
  checkSteps(fn, 'totalSteps', totalSteps);
  if (totalSteps < warmupSteps) {
    throw new Error(`${fn}: totalSteps (${totalSteps}) must be ≥ warmupSteps (${warmupSteps})`);
  }
  const decaySteps = totalSteps - warmupSteps;
  return (step: number): number => {
    checkStep(fn, step);
    if (step < warmupSteps) return (peakLr * (step + 1)) / warmupSteps;
    if (step >= totalSteps) return endLr;
    const progress = (step - warmupSteps) / decaySteps;
    const w = 0.5 * (1 + Math.cos(Math.PI * progress));
    // Weighted sum rather than endLr + (peakLr − endLr)·w, so progress 0 gives exactly peakLr.
    return w * peakLr + (1 - w) * endLr;
  };
}

/** The same rate at every step. */
export function constantLr(lr: number): LrSchedule {
  checkRate('constantLr', 'lr', lr);
  return (step: number): number => {
    checkStep('constantLr', step);
    return lr;
  };
}
