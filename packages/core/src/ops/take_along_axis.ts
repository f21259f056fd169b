import * as tf from '@tensorflow/tfjs';
import '../backend/wasm_kernels.js';

function normaliseAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`${op}: axis ${axis} is out of range for a rank-${rank} tensor.`);
  return a;
}

/**
 * `numpy.take_along_axis`: out[..., j, ...] = x[..., indices[..., j, ...], ...] along `axis`. Every other
 * dimension of `indices` must match `x`. Differentiable in `x`: it is one `gather` on the flattened tensor,
 * whose gradient (`UnsortedSegmentSum`) we register for wasm, so it works on every backend.
 */
function takeAlongAxis_<T extends tf.Tensor>(x: T, indices: tf.Tensor, axis = -1): T {
  if (indices.dtype !== 'int32')
    throw new Error(`takeAlongAxis: indices must be int32, got ${indices.dtype}.`);
  if (indices.rank !== x.rank) {
    throw new Error(`takeAlongAxis: indices rank ${indices.rank} must equal x rank ${x.rank}.`);
  }
  const a = normaliseAxis(axis, x.rank, 'takeAlongAxis');
  for (let d = 0; d < x.rank; d++) {
    if (d !== a && indices.shape[d] !== x.shape[d]) {
      throw new Error(
        `takeAlongAxis: indices shape [${indices.shape}] must match x shape [${x.shape}] except on axis ${a}.`,
      );
    }
  }
  // Move the axis last, then address x as a flat vector: flat = row * n + index.
  const perm = x.shape.map((_, d) => d).filter((d) => d !== a);
  perm.push(a);
  const identity = perm.every((p, i) => p === i);
  const xt = identity ? x : tf.transpose(x, perm);
  const it = identity ? indices : tf.transpose(indices, perm);
  const n = x.shape[a];
  const k = indices.shape[a];
  const rows = it.size / Math.max(k, 1);
  const rowOffsets = tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(n, 'int32'));
  const flatIdx = tf.add(tf.reshape(it, [rows, k]), tf.reshape(rowOffsets, [rows, 1]));
  const gathered = tf.gather(tf.reshape(xt, [-1]), tf.reshape(flatIdx, [-1]));
  const out = tf.reshape(gathered, it.shape);
  if (identity) return out as T;
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return tf.transpose(out, inverse) as T;
}

export const takeAlongAxis = tf.op({ takeAlongAxis_ });
