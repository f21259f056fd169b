import * as tf from '@tensorflow/tfjs';

/** Σ_i w_i·L_i with fixed weights: the baseline that uncertainty weighting is compared against. */
export function weightedSum(losses: readonly tf.Scalar[], weights: readonly number[]): tf.Scalar {
  if (losses.length === 0 || losses.length !== weights.length) {
    throw new Error(
      `weightedSum: give one weight per loss, got ${losses.length} loss(es) and ${weights.length} weight(s).`,
    );
  }
  if (!weights.every(Number.isFinite)) {
    throw new Error(`weightedSum: weights must be finite numbers, got [${weights.join(', ')}].`);
  }
  return tf.tidy(() => tf.addN(losses.map((l, i) => tf.mul(l, weights[i]))) as tf.Scalar);
}
