import type * as tf from '@tensorflow/tfjs';
import { denseLossOf, type TaskSpec } from '../heads/task_spec.js';
import { cosineLoss } from './cosine_loss.js';
import { crossEntropyLoss } from './cross_entropy_loss.js';
import { l1Loss } from './l1_loss.js';
import { mseLoss } from './mse_loss.js';

/**
 * The training loss of one task: cross-entropy against int32 labels `[N]` for classification tasks; the
 * spec's pixel loss (default L1) against an NHWC float32 target for dense tasks.
 */
export function taskLoss(spec: TaskSpec, prediction: tf.Tensor, target: tf.Tensor): tf.Scalar {
  if (spec.kind === 'classification') {
    if (target.dtype !== 'int32' || target.rank !== 1) {
      throw new Error(
        `Task "${spec.name}": classification targets must be int32 labels [N], got ${target.dtype} [${target.shape}].`,
      );
    }
    return crossEntropyLoss(prediction, target);
  }
  const loss = denseLossOf(spec);
  if (loss === 'l1') return l1Loss(prediction, target);
  if (loss === 'mse') return mseLoss(prediction, target);
  if (loss === 'cosine') return cosineLoss(prediction, target);
  throw new Error(`Task "${spec.name}": loss must be one of l1, mse, cosine, got ${JSON.stringify(loss)}.`);
}
