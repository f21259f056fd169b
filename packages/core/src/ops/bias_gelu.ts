import * as tf from '@tensorflow/tfjs';
import { BIAS_GELU, BIAS_GELU_GRAD, biasLayout, hasGeluKernels } from '../backend/gelu_kernels.js';
import '../backend/wasm_kernels.js';
import { customGrad } from './custom_grad.js';

export type GeluApproximate = 'none' | 'tanh';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** gelu and its derivative from tfjs ops, for backends without the fused kernels (tfjs-node, webgl). */
function composedGelu(u: tf.Tensor, approximate: GeluApproximate): tf.Tensor {
  if (approximate === 'none') return tf.mul(u, tf.mul(tf.add(tf.erf(tf.mul(u, INV_SQRT_2)), 1), 0.5));
  const inner = tf.mul(tf.add(u, tf.mul(tf.pow(u, 3), 0.044715)), SQRT_2_OVER_PI);
  return tf.mul(tf.mul(u, 0.5), tf.add(tf.tanh(inner), 1));
}

function composedGeluGrad(u: tf.Tensor, approximate: GeluApproximate): tf.Tensor {
  if (approximate === 'none') {
    // d/du uΦ(u) = Φ(u) + u φ(u)
    const cdf = tf.mul(tf.add(tf.erf(tf.mul(u, INV_SQRT_2)), 1), 0.5);
    return tf.add(cdf, tf.mul(u, tf.mul(tf.exp(tf.mul(tf.square(u), -0.5)), INV_SQRT_2PI)));
  }
  const u2 = tf.square(u);
  const t = tf.tanh(tf.mul(tf.mul(u, tf.add(tf.mul(u2, 0.044715), 1)), SQRT_2_OVER_PI));
  const dInner = tf.mul(tf.add(tf.mul(u2, 3 * 0.044715), 1), SQRT_2_OVER_PI);
  const sech2 = tf.sub(1, tf.square(t));
  return tf.add(tf.mul(tf.add(t, 1), 0.5), tf.mul(tf.mul(tf.mul(u, 0.5), sech2), dInner));
}

function checkApproximate(op: string, approximate: unknown): asserts approximate is GeluApproximate {
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new Error(`${op}: approximate must be 'none' or 'tanh', got '${String(approximate)}'.`);
  }
}

/**
 * `gelu(x + bias)`, what a transformer MLP computes after its first matmul, as one fused kernel forward and
 * one backward that returns the input gradient and the bias gradient together (the bias gradient is the
 * sum of the input gradient over the broadcast axes). `bias` is `[D]` over the last axis of `x`, or any
 * shape equal to `x`'s with one block of axes before the last set to 1 (`[E, 1, H]` over `[E, C, H]`).
 * Exact erf form by default, tanh form with `approximate: 'tanh'`; on backends without the fused kernels
 * (tfjs-node) it is composed from tfjs ops with the same closed-form gradient.
 */
function biasGelu_<T extends tf.Tensor>(x: T, bias?: tf.Tensor, approximate: GeluApproximate = 'none'): T {
  checkApproximate('biasGelu', approximate);
  if (bias != null && biasLayout(x.shape, bias.shape) == null) {
    throw new Error(
      `biasGelu: bias [${bias.shape}] must be [${x.shape[x.rank - 1]}] or x's shape [${x.shape}] with a block of axes before the last set to 1.`,
    );
  }
  if (x.dtype !== 'float32' || (bias != null && bias.dtype !== 'float32')) {
    throw new Error(`biasGelu: x and bias must be float32, got ${x.dtype} and ${bias?.dtype}.`);
  }
  const attrs = { approximate } as unknown as tf.NamedAttrMap;
  const fused = hasGeluKernels();
  const f = customGrad(([input, b], save) => {
    save(b == null ? [input] : [input, b]);
    const value = fused
      ? (tf
          .engine()
          .runKernel(BIAS_GELU, b == null ? { x: input } : { x: input, bias: b }, attrs) as tf.Tensor)
      : composedGelu(b == null ? input : tf.add(input, b), approximate);
    return {
      value,
      gradFunc: (dy, saved) => {
        const [xs, bs] = saved;
        if (fused) {
          const inputs: tf.NamedTensorMap = bs == null ? { dy, x: xs } : { dy, x: xs, bias: bs };
          const grads = tf.engine().runKernel(BIAS_GELU_GRAD, inputs, attrs) as tf.Tensor | tf.Tensor[];
          return Array.isArray(grads) ? grads : [grads];
        }
        const dx = tf.mul(dy, composedGeluGrad(bs == null ? xs : tf.add(xs, bs), approximate));
        if (bs == null) return [dx];
        const axes = dx.shape.map((_, i) => i).filter((i) => (bs.shape[i - dx.rank + bs.rank] ?? 1) === 1);
        return [dx, tf.reshape(tf.sum(dx, axes), bs.shape)];
      },
    };
  });
  return (bias == null ? f(x) : f(x, bias)) as T;
}

export const biasGelu = tf.op({ biasGelu_ });
