import type * as tf from '@tensorflow/tfjs';
import type { TaskSpec } from '../heads/index.js';
import { taskLoss } from '../losses/index.js';

/**
 * Every task's loss on its outputs, as scalars in task order. `outputs[t]` and `targets[t]` belong to
 * `specs[t]`. Separated from the trainer so the validation pass (AES, model selection) scores tasks with
 * exactly the loss they are trained with.
 */
export function perTaskLosses(
  specs: readonly TaskSpec[],
  outputs: readonly tf.Tensor[],
  targets: readonly tf.Tensor[],
): tf.Scalar[] {
  if (outputs.length !== specs.length || targets.length !== specs.length) {
    throw new Error(
      `perTaskLosses: ${specs.length} tasks but ${outputs.length} outputs and ${targets.length} targets; the data and the model must list the same tasks.`,
    );
  }
  return specs.map((spec, t) => taskLoss(spec, outputs[t], targets[t]));
}
