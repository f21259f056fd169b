import * as tf from '@tensorflow/tfjs';
import { customGrad } from './custom_grad.js';

/**
 * log Σ exp(x) along `axis`, shifted by the row max so it never overflows. The gradient is
 * softmax(x)·dy, written directly; a row that is all −∞ gives −∞ and a zero gradient (not NaN), which
 * matters for masked attention rows and for the ST-MoE z-loss.
 */
function logsumexp_<T extends tf.Tensor>(x: T, axis = -1, keepDims = false): T {
  const a = axis < 0 ? axis + x.rank : axis;
  if (a < 0 || a >= x.rank) throw new Error(`logsumexp: axis ${axis} is out of range for rank ${x.rank}.`);
  const f = customGrad(([input], save) => {
    const rawMax = tf.max(input, a, true);
    // An all −∞ row has max −∞; shift by 0 instead so exp gives 0, not NaN.
    const shift = tf.where(tf.isFinite(rawMax), rawMax, tf.zerosLike(rawMax));
    const lseKeep = tf.add(tf.log(tf.sum(tf.exp(tf.sub(input, shift)), a, true)), shift);
    save([input, lseKeep]);
    const value = keepDims ? lseKeep : tf.squeeze(lseKeep, [a]);
    return {
      value,
      gradFunc: (dy, saved) => {
        const [xs, lse] = saved;
        const dyKeep = keepDims ? dy : tf.expandDims(dy, a);
        const p = tf.where(tf.isFinite(lse), tf.exp(tf.sub(xs, lse)), tf.zerosLike(xs));
        return tf.mul(p, dyKeep);
      },
    };
  });
  return f(x) as T;
}

export const logsumexp = tf.op({ logsumexp_ });
