import * as tf from '@tensorflow/tfjs';
import { gelu } from '../ops/gelu.js';

/**
 * Activations by config name. `gelu` is the exact erf form (ViT, PyTorch default), `geluTanh` the tanh
 * approximation (jax default), `quickGelu` x·σ(1.702x) is what OpenAI's CLIP checkpoints were trained with.
 */
export const ACTIVATIONS = ['gelu', 'geluTanh', 'quickGelu', 'relu', 'linear'] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

export function activation(name: ActivationName, x: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'gelu':
      return gelu(x, 'none');
    case 'geluTanh':
      return gelu(x, 'tanh');
    case 'quickGelu':
      return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
    case 'relu':
      return tf.relu(x);
    case 'linear':
      return x;
    default:
      throw new Error(`Unknown activation "${String(name)}"; use one of ${ACTIVATIONS.join(', ')}.`);
  }
}

export function checkActivation(name: string, owner: string): ActivationName {
  if ((ACTIVATIONS as readonly string[]).includes(name)) return name as ActivationName;
  throw new Error(`${owner}: unknown activation "${name}"; use one of ${ACTIVATIONS.join(', ')}.`);
}
