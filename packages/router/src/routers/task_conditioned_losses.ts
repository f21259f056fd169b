import * as tf from '@tensorflow/tfjs';
import { importanceLoss } from '../losses/importance.js';
import { loadLoss } from '../losses/load.js';
import { mutualInformationLoss } from '../losses/mutual_information.js';
import { taskGateSums } from '../losses/task_gate_sums.js';
import { zLoss } from '../losses/z_loss.js';
import type { RouterContext } from './contract.js';
import type { TaskConditionedRouterOptions } from './task_conditioned_options.js';

/**
 * Weighted auxiliary losses by name; a loss with weight 0 is skipped.
 *  - `mutualInformation` (Mod-Squad): −MI(task; expert) from the soft gate mass each task sends to each
 *    expert over the real tokens.
 *  - `importance`, `load` (V-MoE, as AdaMV uses them): computed PER TASK GATE over that task's tokens, then
 *    averaged over the tasks present in the batch. Each task has its own router (upstream AdaMV runs each
 *    task's router on its own batch), the load loss's threshold needs that task's own k_t, and balancing
 *    the pooled tokens instead would reward a task for covering the experts another task leaves idle.
 *    The mean keeps the weight's meaning (V-MoE's 5e-3) independent of T.
 *  - `z` (ST-MoE): over all real tokens, each under its own gate.
 */
export function taskAuxLosses(
  o: TaskConditionedRouterOptions,
  T: number,
  { logits, gates, noisyLogits }: { logits: tf.Tensor2D; gates: tf.Tensor2D; noisyLogits?: tf.Tensor2D },
  taskIds: Int32Array,
  real: Uint8Array | null,
  kTask: number[],
  ctx: RouterContext,
): Record<string, tf.Scalar> {
  const task = ctx.task as tf.Tensor1D;
  const tokensOf = new Array<number>(T).fill(0);
  taskIds.forEach((t, s) => (tokensOf[t] += real == null || real[s] ? 1 : 0));
  const realTokens = tokensOf.reduce((a, b) => a + b, 0);
  const present = tokensOf.flatMap((n, t) => (n > 0 ? [t] : []));
  const taskMask = (t: number): tf.Tensor1D => {
    const isT = tf.cast(tf.equal(task, t), 'float32') as tf.Tensor1D;
    return ctx.mask == null ? isT : (tf.mul(isT, tf.cast(ctx.mask, 'float32')) as tf.Tensor1D);
  };
  const meanOverTasks = (f: (t: number) => tf.Scalar): tf.Scalar =>
    present.length === 0 ? tf.scalar(0) : (tf.div(tf.addN(present.map(f)), present.length) as tf.Scalar);

  const out: Record<string, tf.Scalar> = {};
  const add = (name: string, weight: number, f: () => tf.Scalar) => {
    if (weight !== 0) out[name] = tf.tidy(() => tf.mul(f(), weight) as tf.Scalar);
  };
  add('mutualInformation', o.miWeight, () =>
    realTokens === 0
      ? tf.scalar(0)
      : mutualInformationLoss(taskGateSums(gates, task, T, ctx.mask), realTokens),
  );
  add('importance', o.importanceWeight, () =>
    meanOverTasks((t) => importanceLoss(gates, { mask: taskMask(t) })),
  );
  if (noisyLogits != null) {
    add('load', o.loadWeight, () =>
      meanOverTasks((t) =>
        loadLoss(logits, noisyLogits, { k: kTask[t], noiseStd: o.noiseStd, mask: taskMask(t) }),
      ),
    );
  }
  add('z', o.zLossWeight, () => zLoss(logits, { mask: ctx.mask }));
  return out;
}
