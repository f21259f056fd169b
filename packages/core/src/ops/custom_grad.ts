import * as tf from '@tensorflow/tfjs';

export interface CustomGradResult<T extends tf.Tensor> {
  value: T;
  /** Gradient per input. Tensors it needs must come through `save`: others are freed before it runs. */
  gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

/**
 * `tf.customGrad` with a typed signature: tfjs types the forward function as variadic over
 * `Tensor | GradSaveFunc`, which strict TypeScript cannot check against a concrete argument list.
 */
export function customGrad<T extends tf.Tensor>(
  f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => CustomGradResult<T>,
): (...inputs: tf.Tensor[]) => T {
  const wrapped = (...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return f(args.slice(0, -1) as tf.Tensor[], save);
  };
  return tf.customGrad(wrapped as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
    ...inputs: tf.Tensor[]
  ) => T;
}
