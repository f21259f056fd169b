import * as tf from '@tensorflow/tfjs';
import { segmentSum } from '@moevl/core';
import { maskTokens, tokenMask } from './token_mask.js';
import { checkMatrix, checkTokenIds } from './validate.js';

/**
 * A[t, e] = Σ_{tokens s of task t} gates[s, e]: the soft gate mass each task sends to each expert, the
 * input of Mod-Squad's mutual-information loss (`mutualInformationLoss`).
 *
 * Mod-Squad routes each task's batch with that task's own router; when one batch mixes tasks, concatenate
 * the per-task gates and pass each token's task id. Soft gates (not top-k counts) are summed, so the
 * result is differentiable in `gates` (a segment sum, whose gradient is a gather). Masked-out tokens
 * (weight 0) add nothing. `task` [S] int32 ids must lie in [0, numTasks).
 */
export function taskGateSums(
  gates: tf.Tensor2D,
  task: tf.Tensor1D,
  numTasks: number,
  mask?: tf.Tensor1D,
): tf.Tensor2D {
  return tf.tidy(() => {
    const fn = 'taskGateSums';
    checkMatrix(fn, 'gates', gates);
    checkTokenIds(fn, 'task', task, gates.shape[0], numTasks, 'numTasks');
    const m = tokenMask(fn, mask, gates.shape[0]);
    return segmentSum(maskTokens(gates, m), task, numTasks);
  });
}
