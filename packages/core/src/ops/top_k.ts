import * as tf from '@tensorflow/tfjs';
import { takeAlongAxis } from './take_along_axis.js';
import { assertInteger } from '../config/integer_checks.js';

export interface TopKResult<T extends tf.Tensor = tf.Tensor> {
  /** The k largest values along the last axis, largest first; differentiable. */
  values: T;
  /** Their int32 positions; ties go to the lower index (as `jax.lax.top_k`). Not differentiable. */
  indices: tf.Tensor;
}

/**
 * Top-k along the last axis with a gradient for the values. tfjs' `topk` has no gradient and does not fix
 * the order of ties, and routers hit ties constantly (a zero-initialised router gives every expert the same
 * gate). The indices are chosen in JS, outside the gradient tape, with ties broken by the lower index; the
 * values are then a differentiable `takeAlongAxis`, so the gradient flows to exactly the chosen entries.
 */
function topK_<T extends tf.Tensor>(x: T, k: number): TopKResult<T> {
  if (x.rank === 0) throw new Error('topK: expected a tensor of rank ≥ 1, got a scalar.');
  const n = x.shape[x.rank - 1];
  assertInteger('topK: k', k, { min: 1, max: n, note: 'the last dimension' });
  const values = x.dataSync();
  const rows = values.length / n;
  const out = new Int32Array(rows * k);
  const chosen = new Uint8Array(n);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    chosen.fill(0);
    // k passes of a linear scan: k is small for routing (1..8), so this beats sorting each row.
    for (let j = 0; j < k; j++) {
      let best = -1;
      let bestValue = -Infinity;
      for (let i = 0; i < n; i++) {
        if (chosen[i]) continue;
        const v = values[base + i];
        // Strict '>' keeps the lowest index among ties; a NaN is taken only when nothing else is left.
        if (best === -1 || v > bestValue || (Number.isNaN(bestValue) && !Number.isNaN(v))) {
          best = i;
          bestValue = v;
        }
      }
      chosen[best] = 1;
      out[r * k + j] = best;
    }
  }
  const indices = tf.tensor(out, [...x.shape.slice(0, -1), k], 'int32');
  return { values: takeAlongAxis(x, indices, -1), indices };
}

export const topK = tf.op({ topK_ });
