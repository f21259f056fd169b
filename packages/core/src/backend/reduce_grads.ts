import * as tf from '@tensorflow/tfjs';

/**
 * Gradients of `Sum` and `Mean` as tfjs 4.22 computes them — the output gradient times ones of x's shape — but
 * with the ones made by the backend's `OnesLike` kernel: tfjs builds `ones(x.shape)` as a JavaScript array
 * filled and uploaded on every call (3.5 ms of a LIMoE step's ~70 sums). The values are the same bitwise.
 * (Broadcasting with `broadcastTo` instead was far slower with wasm's own `Tile` kernel: 40 ms per step.)
 *
 * And the gradient of `Tile` (what `broadcastTo` runs): tfjs 4.22 adds one slice of dy per repetition (256
 * kernels to broadcast a class token over a batch of 128, and only up to rank 4); here dy is viewed as
 * `[r0, x0, r1, x1, …]` and summed over the repetition axes, one `Sum` at any rank.
 */

const MARK = Symbol.for('moevl.reduceGradient');

/** dy reshaped to x's rank (1 on the reduced axes) times ones of x's shape, then divided by `scale`. */
function broadcastBack(dy: tf.Tensor, x: tf.Tensor, axis: number | number[], scale?: number): tf.Tensor {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const expanded = x.shape.slice();
  for (const a of axes) expanded[a] = 1;
  const ones = x.dtype === 'float32' ? tf.onesLike(x) : tf.ones(x.shape, 'float32');
  const d = tf.mul(tf.reshape(dy, expanded), ones);
  return scale == null ? d : tf.div(d, scale);
}

/** Σ over the repetitions of `tile(x, reps)`'s output gradient, in x's shape. */
function tileBack(dy: tf.Tensor, xShape: number[], reps: number[]): tf.Tensor {
  if (reps.every((r) => r === 1)) return tf.reshape(dy, xShape);
  const split = xShape.flatMap((d, i) => [reps[i], d]);
  const repAxes = xShape.map((_, i) => 2 * i).filter((a) => split[a] !== 1);
  return tf.reshape(tf.sum(tf.reshape(dy, split), repAxes), xShape);
}

/** Registers the gradients on every backend (once). */
export function registerReduceGradients(): void {
  const current = tf.getGradient('Sum') as (tf.GradConfig & { [MARK]?: boolean }) | undefined;
  if (current?.[MARK]) return;
  tf.registerGradient({
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => {
      const { axis } = attrs as unknown as { axis: number | number[] };
      return { x: () => broadcastBack(dy as tf.Tensor, x, axis) };
    },
    [MARK]: true,
  } as tf.GradConfig);
  tf.registerGradient({
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => {
      const { axis } = attrs as unknown as { axis: number | number[] };
      const axes = tf.util.parseAxisParam(axis, x.shape);
      const reduceSize = axes.reduce((n, a) => n * x.shape[a], 1);
      return { x: () => broadcastBack(dy as tf.Tensor, x, axis, reduceSize) };
    },
    [MARK]: true,
  } as tf.GradConfig);
  tf.registerGradient({
    kernelName: 'Tile',
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => {
      const { reps } = attrs as unknown as { reps: number[] };
      return { x: () => tileBack(dy as tf.Tensor, x.shape, reps) };
    },
    [MARK]: true,
  } as tf.GradConfig);
}
