import type { InitializerSpec } from '@moevl/core';
import { ClassificationHead } from './classification_head.js';
import { DenseHead } from './dense_head.js';
import { type TaskSpec, validateTaskSpecs } from './task_spec.js';

export interface CreateHeadOptions {
  /** Token width D of the backbone. */
  dim: number;
  /** Patch side p of the backbone (used by dense heads). */
  patchSize: number;
  /** Patch grid [gh, gw] of the backbone (used by dense heads). */
  grid: [number, number];
  /** Used as the head's seed as given: pass a different one per task (e.g. the model's `childSeed`). */
  seed: number;
  /** Default: the task's name. */
  name?: string;
  kernelInitializer?: InitializerSpec;
}

export type TaskHead = ClassificationHead | DenseHead;

/** The head a task spec asks for: `ClassificationHead` for `'classification'`, `DenseHead` for `'dense'`. */
export function createHead(spec: TaskSpec, options: CreateHeadOptions): TaskHead {
  validateTaskSpecs([spec]);
  const name = options.name ?? spec.name;
  const common = { dim: options.dim, seed: options.seed, name, kernelInitializer: options.kernelInitializer };
  if (spec.kind === 'classification')
    return new ClassificationHead({ ...common, numClasses: spec.numClasses });
  return new DenseHead({
    ...common,
    patchSize: options.patchSize,
    grid: options.grid,
    outChannels: spec.outChannels,
  });
}
