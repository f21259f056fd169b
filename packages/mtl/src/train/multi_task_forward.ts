import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@moevl/core';
import type { MultiTaskBatch } from '../data/index.js';
import type { TaskMoEViT } from '../model/index.js';

export interface MultiTaskForwardResult {
  /** One output per task, in the model's task order. */
  outputs: tf.Tensor[];
  auxLosses: Record<string, tf.Scalar>;
  metrics: ReturnType<TaskMoEViT['forward']>['metrics'];
}

/**
 * One pass of a multi-task batch. Shared images go through `forwardTasks` (each image once per task, in one
 * pass, so the mutual-information loss sees the joint task×expert distribution). Per-task images (tasks
 * from different datasets) are concatenated, tagged with their task id, sent through `forward` in one pass
 * for the same reason, and each task's slice of the tokens goes to its head.
 *
 * Intermediates are not disposed here (the gradient tape may still need them): call it inside `tf.tidy`
 * or a train step.
 */
export function multiTaskForward(
  model: TaskMoEViT,
  batch: MultiTaskBatch,
  options: { training: boolean; rng?: Rng },
): MultiTaskForwardResult {
  if (!Array.isArray(batch.images)) return model.forwardTasks(batch.images, options);
  const perTask = batch.images;
  const taskIds = tf.tensor1d(
    perTask.flatMap((x, t) => new Array<number>(x.shape[0]).fill(t)),
    'int32',
  );
  const images = tf.concat(perTask, 0);
  const out = model.forward(images, { task: taskIds, training: options.training, rng: options.rng });
  const sizes = perTask.map((x) => x.shape[0]);
  const slices = tf.split(out.tokens, sizes, 0);
  const outputs = slices.map((tokens, t) => model.head(t, tokens));
  return { outputs, auxLosses: out.auxLosses, metrics: out.metrics };
}
