import * as tf from '@tensorflow/tfjs';
import { assertPositiveInteger } from '@moevl/core';

/** Interpolation kernels for resizing position-embedding grids; `bicubic` is timm's default. */
export type ResizeMethod = 'bicubic' | 'bilinear';

export const RESIZE_METHODS: readonly ResizeMethod[] = ['bicubic', 'bilinear'];

// PyTorch's cubic convolution constant (Keys' kernel with A = −0.75, as in OpenCV and torch's upsample).
const A = -0.75;

/** Keys' cubic kernel for |x| ≤ 1. */
function cubicNear(x: number): number {
  return ((A + 2) * x - (A + 3)) * x * x + 1;
}

/** Keys' cubic kernel for 1 < |x| < 2. */
function cubicFar(x: number): number {
  return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
}

/**
 * The `[outSize, inSize]` matrix M of a 1-D resize, y = M·x, with the semantics of PyTorch's
 * `F.interpolate(mode, align_corners=False, antialias=False)` — what timm's `resample_abs_pos_embed` and
 * open_clip use to move a checkpoint's position embeddings to a new resolution: sample points at pixel
 * centres (`src = (dst + ½)·in/out − ½`), bilinear clamps `src` at 0, bicubic clamps the 4 taps to the edge.
 * Rows sum to 1, and equal sizes give the identity exactly.
 */
export function resizeMatrix(
  inSize: number,
  outSize: number,
  method: ResizeMethod = 'bicubic',
): Float32Array {
  for (const [name, v] of [
    ['inSize', inSize],
    ['outSize', outSize],
  ] as const) {
    assertPositiveInteger(`resizeMatrix: ${name}`, v);
  }
  if (!RESIZE_METHODS.includes(method)) {
    throw new Error(`resizeMatrix: unknown method "${method}"; use ${RESIZE_METHODS.join(' or ')}.`);
  }
  const m = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  const clampIndex = (i: number) => Math.min(Math.max(i, 0), inSize - 1);
  for (let o = 0; o < outSize; o++) {
    const row = o * inSize;
    if (method === 'bilinear') {
      const src = Math.max(scale * (o + 0.5) - 0.5, 0);
      const i0 = Math.floor(src);
      const i1 = Math.min(i0 + 1, inSize - 1);
      const t = src - i0;
      m[row + i0] += 1 - t;
      m[row + i1] += t;
    } else {
      const src = scale * (o + 0.5) - 0.5;
      const i = Math.floor(src);
      const t = src - i;
      const weights = [cubicFar(t + 1), cubicNear(t), cubicNear(1 - t), cubicFar(2 - t)];
      for (let k = 0; k < 4; k++) m[row + clampIndex(i - 1 + k)] += weights[k];
    }
  }
  return m;
}

/**
 * Resizes a grid of vectors `[h, w, D] → [outH, outW, D]` by the separable matrices of `resizeMatrix`, as
 * two matMuls. Unlike `tf.image.resizeBilinear` it supports bicubic, matches PyTorch exactly, and its
 * gradient (a matMul) works on every backend, so a model can train at a resolution other than the one its
 * position embeddings were made for.
 */
export function resizeGrid(
  grid: tf.Tensor,
  outH: number,
  outW: number,
  method: ResizeMethod = 'bicubic',
): tf.Tensor3D {
  if (grid.rank !== 3) throw new Error(`resizeGrid: expected a grid [h, w, D], got [${grid.shape}].`);
  const [h, w, d] = grid.shape;
  return tf.tidy(() => {
    let out = grid as tf.Tensor3D;
    if (outH !== h) {
      const ry = tf.tensor2d(resizeMatrix(h, outH, method), [outH, h]);
      out = tf.reshape(tf.matMul(ry, tf.reshape(out, [h, w * d])), [outH, w, d]);
    }
    if (outW !== w) {
      // Bring the width axis first (a rank-3 transpose), resize it, and put it back.
      const rx = tf.tensor2d(resizeMatrix(w, outW, method), [outW, w]);
      const byWidth = tf.reshape(tf.transpose(out, [1, 0, 2]), [w, outH * d]);
      out = tf.transpose(tf.reshape(tf.matMul(rx, byWidth), [outW, outH, d]), [1, 0, 2]);
    }
    return out === grid ? tf.clone(out) : out;
  });
}
