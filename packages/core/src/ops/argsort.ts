import * as tf from '@tensorflow/tfjs';

export interface ArgsortOptions {
  /** Largest first. Ties still keep their original order (stable). */
  descending?: boolean;
}

/**
 * Stable argsort along the last axis, returned as int32 indices. Batch Priority Routing sorts tokens by
 * their top-1 gate and relies on ties keeping token order, exactly as `jnp.argsort(..., stable=True)`;
 * tfjs' `topk` does not promise an order for ties, so the sort runs in JS over the row values. NaNs sort
 * last in either direction. Indices are not differentiable.
 */
function argsort_(x: tf.Tensor, options: ArgsortOptions = {}): tf.Tensor {
  if (x.rank === 0) throw new Error('argsort: expected a tensor of rank ≥ 1, got a scalar.');
  const n = x.shape[x.rank - 1];
  const values = x.dataSync();
  const rows = n === 0 ? 0 : values.length / n;
  const out = new Int32Array(values.length);
  const sign = options.descending ? -1 : 1;
  const order = new Array<number>(n);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    for (let i = 0; i < n; i++) order[i] = i;
    // Array.prototype.sort is stable (ES2019); NaN compares as "after everything".
    order.sort((i, j) => {
      const a = values[base + i];
      const b = values[base + j];
      const an = Number.isNaN(a);
      const bn = Number.isNaN(b);
      if (an || bn) return an === bn ? 0 : an ? 1 : -1;
      return a === b ? 0 : (a < b ? -1 : 1) * sign;
    });
    for (let i = 0; i < n; i++) out[base + i] = order[i];
  }
  return tf.tensor(out, x.shape, 'int32');
}

export const argsort = tf.op({ argsort_ });
