import type * as tf from '@tensorflow/tfjs';

/** Pixel losses compare like with like: broadcasting a wrong-shaped target would hide a data bug. */
export function checkSameShape(who: string, pred: tf.Tensor, target: tf.Tensor): void {
  if (pred.rank !== target.rank || pred.shape.some((d, i) => d !== target.shape[i])) {
    throw new Error(
      `${who}: prediction [${pred.shape}] and target [${target.shape}] must have the same shape; ` +
        `dense targets are NHWC [N, H, W, C] like the dense head's output.`,
    );
  }
  if (target.dtype !== 'float32') {
    throw new Error(
      `${who}: target must be float32, got ${target.dtype}; cast it with tf.cast(target, 'float32').`,
    );
  }
}
