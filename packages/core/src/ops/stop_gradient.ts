import * as tf from '@tensorflow/tfjs';
import { customGrad } from './custom_grad.js';

/**
 * Identity in the forward pass, zero gradient in the backward pass (`jax.lax.stop_gradient`,
 * `tensor.detach()`); tfjs has no such op. Routers use it for the quantities the papers treat as
 * constants, e.g. the priority used to sort tokens in Batch Priority Routing.
 */
function stopGradient_<T extends tf.Tensor>(x: T): T {
  const f = customGrad(([input]) => ({
    value: tf.clone(input),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  }));
  return f(x) as T;
}

export const stopGradient = tf.op({ stopGradient_ });
