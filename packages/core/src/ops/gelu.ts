import * as tf from '@tensorflow/tfjs';
import { customGrad } from './custom_grad.js';

export type GeluApproximate = 'none' | 'tanh';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * GELU, exact `x·Φ(x)` (`approximate: 'none'`, PyTorch's default and ViT/CLIP's) or the tanh form
 * (`'tanh'`, BERT/GPT-2 and `jax.nn.gelu`'s default). tfjs has no gelu op; both forms get a closed-form
 * gradient instead of differentiating through erf/tanh compositions.
 */
function gelu_<T extends tf.Tensor>(x: T, approximate: GeluApproximate = 'none'): T {
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new Error(`gelu: approximate must be 'none' or 'tanh', got '${String(approximate)}'.`);
  }
  const f = customGrad(([input], save) => {
    let value: tf.Tensor;
    if (approximate === 'none') {
      // Φ(x) is saved for the backward pass: erf is the most expensive kernel here on wasm.
      const cdf = tf.mul(tf.add(tf.erf(tf.mul(input, INV_SQRT_2)), 1), 0.5);
      save([input, cdf]);
      value = tf.mul(input, cdf);
    } else {
      save([input]);
      const inner = tf.mul(tf.add(input, tf.mul(tf.pow(input, 3), 0.044715)), SQRT_2_OVER_PI);
      value = tf.mul(tf.mul(input, 0.5), tf.add(tf.tanh(inner), 1));
    }
    return {
      value,
      gradFunc: (dy, saved) => {
        const [xs, cdf] = saved;
        if (approximate === 'none') {
          // d/dx xΦ(x) = Φ(x) + x φ(x)
          const pdf = tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), INV_SQRT_2PI);
          return tf.mul(dy, tf.add(cdf, tf.mul(xs, pdf)));
        }
        const x2 = tf.square(xs);
        const inner = tf.mul(tf.mul(xs, tf.add(tf.mul(x2, 0.044715), 1)), SQRT_2_OVER_PI);
        const t = tf.tanh(inner);
        const dInner = tf.mul(tf.add(tf.mul(x2, 3 * 0.044715), 1), SQRT_2_OVER_PI);
        const sech2 = tf.sub(1, tf.square(t));
        const grad = tf.add(tf.mul(tf.add(t, 1), 0.5), tf.mul(tf.mul(tf.mul(xs, 0.5), sech2), dInner));
        return tf.mul(dy, grad);
      },
    };
  });
  return f(x) as T;
}

export const gelu = tf.op({ gelu_ });
