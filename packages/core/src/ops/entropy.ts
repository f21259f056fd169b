import * as tf from '@tensorflow/tfjs';
import { logsumexp } from './logsumexp.js';

/**
 * Shannon entropy −Σ p ln p (nats) of probability vectors along `axis`, with 0·ln 0 = 0. The log argument
 * is floored at 1e-30 so the gradient at p = 0 stays finite (−ln 1e-30 − 1 ≈ 68) instead of +∞; LIMoE's
 * entropy losses see exact zeros whenever an expert is never chosen.
 */
function entropy_<T extends tf.Tensor>(p: T, axis = -1): T {
  const logp = tf.log(tf.maximum(p, tf.scalar(1e-30)));
  return tf.neg(tf.sum(tf.mul(p, logp), axis)) as T;
}

export const entropy = tf.op({ entropy_ });

/**
 * Entropy of softmax(logits) along `axis`, computed from the logits: H = lse(z) − Σ softmax(z)·z. Exact
 * where the probability form would underflow.
 */
function entropyFromLogits_<T extends tf.Tensor>(logits: T, axis = -1): T {
  const lse = logsumexp(logits, axis, true);
  const p = tf.exp(tf.sub(logits, lse));
  return tf.sub(
    tf.squeeze(lse, [axis < 0 ? axis + logits.rank : axis]),
    tf.sum(tf.mul(p, logits), axis),
  ) as T;
}

export const entropyFromLogits = tf.op({ entropyFromLogits_ });
