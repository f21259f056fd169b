import * as tf from '@tensorflow/tfjs';
import { type GeluApproximate, biasGelu } from './bias_gelu.js';

/**
 * GELU, exact `x·Φ(x)` (`approximate: 'none'`, PyTorch's default and ViT/CLIP's) or the tanh form
 * (`'tanh'`, BERT/GPT-2 and `jax.nn.gelu`'s default). tfjs has no gelu op; this is `biasGelu` without a
 * bias: one fused kernel each way on wasm and cpu, closed-form gradients composed from tfjs ops elsewhere.
 */
function gelu_<T extends tf.Tensor>(x: T, approximate: GeluApproximate = 'none'): T {
  return biasGelu(x, undefined, approximate);
}

export const gelu = tf.op({ gelu_ });
