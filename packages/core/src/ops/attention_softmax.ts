import * as tf from '@tensorflow/tfjs';
import '../backend/wasm_kernels.js';
import { ATTENTION_SOFTMAX, ATTENTION_SOFTMAX_GRAD, hasSoftmaxKernels } from '../backend/softmax_kernels.js';
import { customGrad } from './custom_grad.js';

/**
 * Attention weights `softmax(scale·scores + bias)` over the last axis. `scores` is `[B, H, T, S]`; `bias`
 * (optional, not differentiated: a mask) is additive, `[B or 1, 1, T or 1, S]` (a key-padding mask is
 * `[B, 1, 1, S]`), shared by the heads — large negative where a query may not attend. One fused kernel each way on wasm and cpu; composed from tfjs ops elsewhere.
 */
function attentionSoftmax_(scores: tf.Tensor4D, bias: tf.Tensor4D | undefined, scale: number): tf.Tensor4D {
  const [b, , t, s] = scores.shape;
  if (scores.rank !== 4)
    throw new Error(`attentionSoftmax: scores must be [B, H, T, S], got [${scores.shape}].`);
  if (
    bias != null &&
    (bias.rank !== 4 ||
      (bias.shape[0] !== 1 && bias.shape[0] !== b) ||
      bias.shape[1] !== 1 ||
      (bias.shape[2] !== t && bias.shape[2] !== 1) ||
      bias.shape[3] !== s)
  ) {
    throw new Error(`attentionSoftmax: bias must be [${b} or 1, 1, ${t} or 1, ${s}], got [${bias.shape}].`);
  }
  if (scores.dtype !== 'float32' || (bias != null && bias.dtype !== 'float32')) {
    throw new Error('attentionSoftmax: scores and bias must be float32.');
  }
  if (!hasSoftmaxKernels()) {
    const scaled = tf.mul(scores, scale);
    return tf.softmax(bias == null ? scaled : tf.add(scaled, bias)) as tf.Tensor4D;
  }
  const attrs = { scale } as unknown as tf.NamedAttrMap;
  // The mask is closed over, not an input: customGrad records nothing inside its forward, so it gets no gradient.
  const mask = bias;
  const f = customGrad(([x], save) => {
    const y = tf
      .engine()
      .runKernel(ATTENTION_SOFTMAX, mask == null ? { x } : { x, bias: mask }, attrs) as tf.Tensor;
    save([y]);
    return {
      value: y,
      gradFunc: (dy, [ys]) => [
        tf.engine().runKernel(ATTENTION_SOFTMAX_GRAD, { dy, y: ys }, attrs) as tf.Tensor,
      ],
    };
  });
  return f(scores) as tf.Tensor4D;
}

export const attentionSoftmax = tf.op({ attentionSoftmax_ });
