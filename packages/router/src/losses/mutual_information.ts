import * as tf from '@tensorflow/tfjs';
import { checkMatrix } from './validate.js';

/** Mod-Squad's smoothing constant, used in all four places of the formula. */
const MOD_SQUAD_EPS = 1e-4;

/**
 * Mod-Squad mutual-information loss (Chen et al. 2023, "Mod-Squad: Designing Mixtures of Experts as
 * Modular Multi-Task Learners"; UMass-Foundation-Model/Mod-Squad), L = −MI(T; E).
 *
 * With A[t, e] the gate mass task t sends to expert e (see `taskGateSums`) and N the number of tokens,
 * P = A / (N + 1e-4) is the joint distribution of (task, expert), PT = rowsum(P) + 1e-4 and
 * PE = colsum(P) + 1e-4 its marginals, and L = −Σ P · ln(P / PT / PE + 1e-4). Minimising it maximises the
 * mutual information between tasks and experts: each expert specialises in few tasks (low H(E|T)) while
 * all experts stay in use (high H(E)), which is what lets single-task sub-networks be extracted later.
 * L ≈ 0 for routing that ignores the task and ≈ −ln T when the T tasks use disjoint experts. The 1e-4
 * constants follow the upstream code (they keep the log finite for unused experts). Paper weight 0.005,
 * summed over MoE layers.
 *
 * `taskGateSums` [T, E] must be non-negative; `totalTokens` is N, the number of tokens summed into it
 * (Σ of the mask when one was used).
 */
export function mutualInformationLoss(taskGateSums: tf.Tensor2D, totalTokens: number): tf.Scalar {
  return tf.tidy(() => {
    const fn = 'mutualInformationLoss';
    checkMatrix(fn, 'taskGateSums', taskGateSums, '[tasks, experts]');
    if (typeof totalTokens !== 'number' || !Number.isFinite(totalTokens) || totalTokens <= 0) {
      throw new Error(`${fn}: totalTokens must be a finite number > 0, got ${totalTokens}.`);
    }
    if (tf.min(taskGateSums).dataSync()[0] < 0) {
      throw new Error(`${fn}: taskGateSums must be non-negative (sums of softmax gates).`);
    }
    const p = tf.div(taskGateSums, totalTokens + MOD_SQUAD_EPS);
    const pTask = tf.add(tf.sum(p, 1, true), MOD_SQUAD_EPS);
    const pExpert = tf.add(tf.sum(p, 0, true), MOD_SQUAD_EPS);
    const ratio = tf.add(tf.div(tf.div(p, pTask), pExpert), MOD_SQUAD_EPS);
    return tf.neg(tf.sum(tf.mul(p, tf.log(ratio)))) as tf.Scalar;
  });
}
