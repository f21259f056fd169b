import * as tf from '@tensorflow/tfjs';

/**
 * Gradients of `Sum` and `Mean` as tfjs 4.22 computes them — the output gradient times ones of x's shape — but
 * with the ones made by the backend's `OnesLike` kernel: tfjs builds `ones(x.shape)` as a JavaScript array
 * filled and uploaded on every call (3.5 ms of a LIMoE step's ~70 sums). The values are the same bitwise.
 * (Broadcasting with `broadcastTo` instead was far slower: wasm's `Tile` kernel took 40 ms per step.)
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

/** Registers both gradients on every backend (once). */
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
}
