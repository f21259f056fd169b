import * as tf from '@tensorflow/tfjs';
import { customGrad } from './custom_grad.js';

export interface CumsumOptions {
  /** out[i] = Σ_{j<i} x[j] instead of Σ_{j≤i}. MoE buffer positions use the exclusive form. */
  exclusive?: boolean;
  /** Accumulate from the end. */
  reverse?: boolean;
}

/**
 * Cumulative sum with a correct gradient on every axis. tfjs 4.22's own `cumsum` gradient transposes its
 * result once too often, which gives a silently wrong gradient on axis 0 of a square matrix and a shape
 * error otherwise (docs/reference.md §0). The gradient of a cumsum is the cumsum of `dy` in the other
 * direction with the same exclusivity.
 */
function cumsum_<T extends tf.Tensor>(x: T, axis = 0, options: CumsumOptions = {}): T {
  const rank = x.rank;
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`cumsum: axis ${axis} is out of range for a rank-${rank} tensor.`);
  const exclusive = options.exclusive ?? false;
  const reverse = options.reverse ?? false;
  if (x.dtype !== 'float32') return tf.cumsum(x, a, exclusive, reverse) as T;
  const f = customGrad(([input]) => ({
    value: tf.cumsum(input, a, exclusive, reverse),
    gradFunc: (dy: tf.Tensor) => tf.cumsum(dy, a, exclusive, !reverse),
  }));
  return f(x) as T;
}

export const cumsum = tf.op({ cumsum_ });
