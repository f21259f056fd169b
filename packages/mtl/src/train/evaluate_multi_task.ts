import * as tf from '@tensorflow/tfjs';
import type { MultiTaskEvalSource } from '../data/index.js';
import {
  type AccuracyCounts,
  type ErrorSums,
  accuracy,
  addAccuracyCounts,
  addErrorSums,
  errorSums,
  meanAbsoluteErrorOf,
  psnrOf,
} from '../losses/index.js';
import type { TaskMoEViT } from '../model/index.js';
import { type MultiTaskForwardResult, multiTaskForward } from './multi_task_forward.js';
import { perTaskLosses } from './task_losses.js';

/** One task's scores on a split: its training loss, plus accuracy (classification) or MAE and PSNR (dense). */
export interface TaskMetrics {
  /** Mean of the task's training loss over the examples. */
  loss: number;
  accuracy?: number;
  /** Mean absolute error per pixel, in target units. */
  mae?: number;
  /** PSNR of the pooled MSE in dB, peak 1 (targets live in [0, 1]-ish units). */
  psnr?: number;
  count: number;
  /**
   * With `perExample`: one value per example in the split's order — 1/0 for a correct/wrong top-1 class
   * (classification), the mean absolute error over the example's pixels (dense) — for paired statistics.
   */
  perExample?: number[];
}

export interface EvaluateMultiTaskOptions {
  /** Default 256. */
  batchSize?: number;
  /** Progress: examples done of the split's total. */
  onBatch?: (done: number, total: number) => void;
  /** Sees each batch's routing metrics (e.g. to sum task×expert usage on the test split). */
  onMetrics?: (metrics: MultiTaskForwardResult['metrics']) => void;
  /** Also return each example's score (`TaskMetrics.perExample`). Default false. */
  perExample?: boolean;
}

/** Per example: 1/0 for a correct argmax (classification), else the mean absolute error of its pixels. */
function exampleScores(kind: 'classification' | 'dense', output: tf.Tensor, target: tf.Tensor): number[] {
  return tf.tidy(() => {
    if (kind === 'classification') {
      return Array.from(tf.equal(tf.argMax(output, 1), tf.cast(target, 'int32')).dataSync(), Number);
    }
    const n = output.shape[0];
    return Array.from(tf.mean(tf.abs(tf.reshape(tf.sub(output, target), [n, -1])), 1).dataSync());
  });
}

/**
 * Scores every task of `model` on a fixed split, in batches, with routing in eval mode (no noise,
 * dropless: no example's result depends on the others in its batch). Sums and counts are accumulated per batch, so the result does not depend on the
 * batch size, and each batch's tensors are freed before the next.
 */
export function evaluateMultiTask(
  model: TaskMoEViT,
  source: MultiTaskEvalSource,
  options: EvaluateMultiTaskOptions = {},
): Record<string, TaskMetrics> {
  const specs = model.config.tasks;
  const loss = specs.map(() => ({ sum: 0, count: 0 }));
  const counts: AccuracyCounts[][] = specs.map(() => []);
  const errors: ErrorSums[][] = specs.map(() => []);
  const perExample: number[][] = specs.map(() => []);
  for (const batch of source.batches(options.batchSize ?? 256)) {
    try {
      tf.tidy(() => {
        const out = multiTaskForward(model, batch, { training: false });
        options.onMetrics?.(out.metrics);
        const losses = perTaskLosses(specs, out.outputs, batch.targets);
        specs.forEach((spec, t) => {
          const n = batch.targets[t].shape[0];
          loss[t].sum += losses[t].dataSync()[0] * n;
          loss[t].count += n;
          if (spec.kind === 'classification') counts[t].push(accuracy(out.outputs[t], batch.targets[t]));
          else errors[t].push(errorSums(out.outputs[t], batch.targets[t]));
          if (options.perExample) {
            perExample[t].push(...exampleScores(spec.kind, out.outputs[t], batch.targets[t]));
          }
        });
      });
    } finally {
      tf.dispose(batch as unknown as tf.TensorContainer);
    }
    options.onBatch?.(loss[0]?.count ?? 0, source.count);
  }
  return Object.fromEntries(
    specs.map((spec, t) => {
      const m: TaskMetrics = { loss: loss[t].sum / Math.max(1, loss[t].count), count: loss[t].count };
      if (spec.kind === 'classification') m.accuracy = addAccuracyCounts(...counts[t]).accuracy;
      else {
        const sums = addErrorSums(...errors[t]);
        m.mae = meanAbsoluteErrorOf(sums);
        m.psnr = psnrOf(sums);
      }
      if (options.perExample) m.perExample = perExample[t];
      return [spec.name, m];
    }),
  );
}

/** Each task's mean training loss on a held-out split: what AES and model selection compare. */
export function validationLosses(
  model: TaskMoEViT,
  source: MultiTaskEvalSource,
  batchSize = 256,
): Record<string, number> {
  const metrics = evaluateMultiTask(model, source, { batchSize });
  return Object.fromEntries(Object.entries(metrics).map(([name, m]) => [name, m.loss]));
}
