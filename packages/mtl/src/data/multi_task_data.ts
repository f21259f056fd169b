import type * as tf from '@tensorflow/tfjs';
import type { ResumableData } from '@moevl/core';
import type { TaskSpec } from '../heads/index.js';

/**
 * One batch for every task at once. `targets[t]` belongs to `taskSpecs[t]`: int32 `[B]` class indices for a
 * classification task, float32 `[B, H, W, C]` for a dense one.
 *
 * `images` is one `[B, H, W, C]` tensor when every task labels the same images (the usual multi-task
 * setting, and what `TaskMoEViT.forwardTasks` expects), or one tensor per task when tasks come from
 * different datasets (e.g. a Fashion-MNIST task next to an MNIST digit task).
 */
export interface MultiTaskBatch {
  images: tf.Tensor4D | tf.Tensor4D[];
  targets: tf.Tensor[];
}

/** A resumable training stream of multi-task batches (core's `ResumableData`), with its tasks. */
export interface MultiTaskData extends ResumableData<MultiTaskBatch> {
  readonly taskSpecs: readonly TaskSpec[];
}

/** A fixed evaluation split (validation or test): the same batches, in the same order, every time. */
export interface MultiTaskEvalSource {
  readonly taskSpecs: readonly TaskSpec[];
  /** Examples in the split. */
  readonly count: number;
  /** The split in order, in batches of at most `batchSize`; the caller disposes each batch. */
  batches(batchSize: number): Iterable<MultiTaskBatch>;
}
