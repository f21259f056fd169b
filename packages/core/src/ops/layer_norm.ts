import * as tf from '@tensorflow/tfjs';
import '../backend/wasm_kernels.js';
import { LAYER_NORM, LAYER_NORM_GRAD, hasLayerNormKernels } from '../backend/layer_norm_kernels.js';
import { customGrad } from './custom_grad.js';

function composed(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), -1, true);
  const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, epsilon)));
  return tf.add(tf.mul(normed, gamma), beta);
}

/**
 * Layer normalisation over the last axis: `(x − mean)/√(var + ε)·gamma + beta` with the biased variance
 * (as `torch.nn.LayerNorm` and flax). On wasm and cpu one fused kernel forward and one backward, which
 * returns the gradients of `x`, `gamma` and `beta` together; elsewhere composed from tfjs ops.
 */
function layerNorm_<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor, epsilon = 1e-6): T {
  const d = x.shape[x.rank - 1];
  if (x.rank < 1 || gamma.rank !== 1 || beta.rank !== 1 || gamma.shape[0] !== d || beta.shape[0] !== d) {
    throw new Error(
      `layerNorm: gamma [${gamma.shape}] and beta [${beta.shape}] must be [${d}], the last axis of x [${x.shape}].`,
    );
  }
  if (x.dtype !== 'float32' || gamma.dtype !== 'float32' || beta.dtype !== 'float32') {
    throw new Error('layerNorm: x, gamma and beta must be float32.');
  }
  if (!(epsilon >= 0)) throw new Error(`layerNorm: epsilon must be ≥ 0, got ${epsilon}.`);
  if (!hasLayerNormKernels()) return composed(x, gamma, beta, epsilon) as T;
  const attrs = { epsilon } as unknown as tf.NamedAttrMap;
  const f = customGrad(([input, g, b], save) => {
    const [y, mean, rstd] = tf
      .engine()
      .runKernel(LAYER_NORM, { x: input, gamma: g, beta: b }, attrs) as tf.Tensor[];
    save([input, g, mean, rstd]);
    return {
      value: y,
      gradFunc: (dy, [xs, gs, ms, rs]) =>
        tf.engine().runKernel(LAYER_NORM_GRAD, { dy, x: xs, gamma: gs, mean: ms, rstd: rs }) as tf.Tensor[],
    };
  });
  return f(x, gamma, beta) as T;
}

export const layerNorm = tf.op({ layerNorm_ });
