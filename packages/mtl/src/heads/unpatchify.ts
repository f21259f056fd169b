import * as tf from '@tensorflow/tfjs';

/**
 * The inverse of `extractPatches` (`@moevl/vision`), but to NHWC: per-token patch vectors
 * `[N, gh·gw, C·p·p]` (tokens in row-major grid order, each vector ordered (channel, row, column) like
 * PyTorch's conv weight) → images `[N, gh·p, gw·p, C]`. Dense heads predict NHWC because per-pixel targets
 * and losses read channels last. Only rank ≤ 4 transposes: the wasm Transpose kernel is ~100× slower at
 * rank 5 and 6.
 */
export function unpatchify(
  patches: tf.Tensor,
  grid: readonly [number, number],
  patchSize: number,
  channels: number,
): tf.Tensor4D {
  const [gh, gw] = grid;
  const p = patchSize;
  const n = patches.shape[0];
  if (patches.rank !== 3 || patches.shape[1] !== gh * gw || patches.shape[2] !== channels * p * p) {
    throw new Error(
      `unpatchify: expected patches [N, ${gh * gw}, ${channels * p * p}] for a ${gh}×${gw} grid of ` +
        `${p}×${p} patches with ${channels} channel(s), got [${patches.shape}].`,
    );
  }
  return tf.tidy(() => {
    // (N, gh, gw, C, row·col) → (N, gh, gw, row·col, C): channels last inside every patch.
    const channelsLast = tf.transpose(tf.reshape(patches, [n * gh * gw, channels, p * p]), [0, 2, 1]);
    // (N·gh, gw, row, col·C) → (N·gh, row, gw, col·C): interleave patch rows with grid columns.
    const rows = tf.transpose(tf.reshape(channelsLast, [n * gh, gw, p, p * channels]), [0, 2, 1, 3]);
    return tf.reshape(rows, [n, gh * p, gw * p, channels]) as tf.Tensor4D;
  });
}
