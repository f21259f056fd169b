import * as tf from '@tensorflow/tfjs';

/**
 * The gradient of `UnsortedSegmentSum` (MoE dispatch, `scatterAdd`, the gradient of every `gather`): each input
 * row gets the output gradient of its segment, and a dropped row (negative or out-of-range id) gets 0.
 * tfjs 4.22 builds the zero rows with a broadcast `logicalAnd` of `[S, 1]` against `[S, D]` and a `where`;
 * on wasm that `logicalAnd` alone took 40 ms for 5120 tokens of width 128, longer than the whole dispatch.
 * Here the rows are one `gather` from the gradient with a zero row appended, which dropped rows point at.
 */
function gatherWithZeroRow(dy: tf.Tensor, segmentIds: tf.Tensor, numSegments: number): tf.Tensor {
  return tf.tidy(() => {
    const zero = tf.zeros([1, ...dy.shape.slice(1)], dy.dtype);
    const padded = tf.concat([dy, zero], 0);
    const ids = tf.cast(segmentIds, 'int32');
    const kept = tf.logicalAnd(tf.greaterEqual(ids, 0), tf.less(ids, numSegments));
    return tf.gather(padded, tf.where(kept, ids, tf.fill(ids.shape, numSegments, 'int32')));
  });
}

/** Registers the gradient above for `UnsortedSegmentSum` on every backend (once). */
export function registerSegmentSumGradient(): void {
  const current = tf.getGradient('UnsortedSegmentSum') as (tf.GradConfig & { moevl?: boolean }) | undefined;
  if (current?.moevl) return;
  tf.registerGradient({
    kernelName: 'UnsortedSegmentSum',
    inputsToSave: ['segmentIds'],
    gradFunc: (dy, saved, attrs) => {
      const [segmentIds] = saved;
      const { numSegments } = attrs as unknown as { numSegments: number };
      return { x: () => gatherWithZeroRow(dy as tf.Tensor, segmentIds, numSegments) };
    },
    moevl: true,
  } as tf.GradConfig);
}
