import * as tf from '@tensorflow/tfjs';
import { type ResizeMethod, resizeGrid } from './resize_matrix.js';

/** A patch grid as `[rows, cols]`, or one number for a square grid. */
export type GridSize = number | [number, number];

export interface InterpolatePositionEmbeddingsOptions {
  /** The first token is a class token, whose embedding is kept as it is. */
  hasClassToken: boolean;
  /** Default `bicubic` (timm's `resample_abs_pos_embed`, open_clip). */
  method?: ResizeMethod;
  /** For a weight record: the key of the position embeddings. Default `pos_embed`. */
  key?: string;
}

/** `[rows, cols]` of a grid given as a number or a pair, checked to be positive integers. */
export function gridPair(grid: GridSize, what = 'grid'): [number, number] {
  const pair: [number, number] = typeof grid === 'number' ? [grid, grid] : [grid[0], grid[1]];
  if (!pair.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new Error(`${what} must be a positive integer or a pair of them, got ${JSON.stringify(grid)}.`);
  }
  return pair;
}

function resizePosEmbed(
  posEmbed: tf.Tensor,
  from: [number, number],
  to: [number, number],
  options: InterpolatePositionEmbeddingsOptions,
): tf.Tensor3D {
  const prefix = options.hasClassToken ? 1 : 0;
  const expected = from[0] * from[1] + prefix;
  if (posEmbed.rank !== 3 || posEmbed.shape[0] !== 1 || posEmbed.shape[1] !== expected) {
    throw new Error(
      `interpolatePositionEmbeddings: expected [1, ${expected}, D] for a ${from[0]}×${from[1]} grid` +
        `${prefix ? ' plus a class token' : ''}, got [${posEmbed.shape}]. Check fromGrid and hasClassToken.`,
    );
  }
  const d = posEmbed.shape[2] as number;
  return tf.tidy(() => {
    const grid = tf.reshape(tf.slice(posEmbed, [0, prefix, 0], [1, from[0] * from[1], d]), [
      from[0],
      from[1],
      d,
    ]);
    const resized = tf.reshape(resizeGrid(grid, to[0], to[1], options.method), [1, to[0] * to[1], d]);
    if (prefix === 0) return resized as tf.Tensor3D;
    return tf.concat([tf.slice(posEmbed, [0, 0, 0], [1, 1, d]), resized], 1) as tf.Tensor3D;
  });
}

/**
 * Moves learned position embeddings `[1, N(+1), D]` from one patch grid to another, as timm's
 * `resample_abs_pos_embed` does when a ViT is fine-tuned or evaluated at a new resolution (a B/16 trained
 * at 224 px has a 14×14 grid; at 384 px it needs 24×24). The patch part is resized as an image with one
 * channel per embedding dimension; the class token's embedding is not spatial and is kept.
 *
 * Takes the tensor, or a whole weight record from a checkpoint (then `options.key`, default `pos_embed`, is
 * replaced in a shallow copy: dispose both records when done; disposing a tensor twice is harmless). The
 * result is new and belongs to the caller; equal grids give an exact copy. Differentiable.
 */
export function interpolatePositionEmbeddings(
  posEmbed: tf.Tensor,
  fromGrid: GridSize,
  toGrid: GridSize,
  options: InterpolatePositionEmbeddingsOptions,
): tf.Tensor3D;
export function interpolatePositionEmbeddings(
  weights: Record<string, tf.Tensor>,
  fromGrid: GridSize,
  toGrid: GridSize,
  options: InterpolatePositionEmbeddingsOptions,
): Record<string, tf.Tensor>;
export function interpolatePositionEmbeddings(
  weights: tf.Tensor | Record<string, tf.Tensor>,
  fromGrid: GridSize,
  toGrid: GridSize,
  options: InterpolatePositionEmbeddingsOptions,
): tf.Tensor3D | Record<string, tf.Tensor> {
  const from = gridPair(fromGrid, 'interpolatePositionEmbeddings: fromGrid');
  const to = gridPair(toGrid, 'interpolatePositionEmbeddings: toGrid');
  if (weights instanceof tf.Tensor) return resizePosEmbed(weights, from, to, options);
  const key = options.key ?? 'pos_embed';
  const posEmbed = weights[key];
  if (posEmbed == null) {
    const keys = Object.keys(weights).slice(0, 8).join(', ');
    throw new Error(
      `interpolatePositionEmbeddings: no "${key}" among the weights (${keys}, ...); pass options.key.`,
    );
  }
  return { ...weights, [key]: resizePosEmbed(posEmbed, from, to, options) };
}
