import type * as tf from '@tensorflow/tfjs';
import { type FusedKernel, fusedKernelsWanted, nativeDesc, registerFusedKernel } from './fused_kernels.js';

/**
 * `MoevlAttentionSoftmax` and `MoevlAttentionSoftmaxGrad`: attention weights `softmax(scale·scores + bias)`
 * over the last axis of `[B, H, T, S]` scores, with an additive mask `bias` `[B or 1, 1, T or 1, S]` shared by
 * the heads, in one pass; backward `scale·y·(dy − Σ dy·y)` in one pass. Composed, the same is a scale, one or two
 * broadcast mask adds, the softmax, and four kernels for its gradient, each over all B·H·T·S weights.
 */

export const ATTENTION_SOFTMAX = 'MoevlAttentionSoftmax';
export const ATTENTION_SOFTMAX_GRAD = 'MoevlAttentionSoftmaxGrad';

/**
 * y[row] = softmax(scale·x[row] + bias[its row]) for x `[b, h, t, s]`, bias `[biasB, 1, biasT, s]` (biasB 1 or
 * b, biasT 1 or t).
 */
export function attentionSoftmaxForward(
  x: Float32Array,
  bias: Float32Array | null,
  y: Float32Array,
  [b, h, t, s]: number[],
  [biasB, , biasT]: number[],
  scale: number,
): void {
  for (let row = 0; row < b * h * t; row++) {
    const o = row * s;
    const bb = biasB === 1 ? 0 : Math.floor(row / (h * t));
    const bo = bias == null ? 0 : (bb * biasT + (biasT === 1 ? 0 : row % t)) * s;
    let m = -Infinity;
    for (let i = 0; i < s; i++) {
      const v = x[o + i] * scale + (bias == null ? 0 : bias[bo + i]);
      y[o + i] = v;
      if (v > m) m = v;
    }
    let sum = 0;
    for (let i = 0; i < s; i++) {
      const e = Math.exp(y[o + i] - m);
      y[o + i] = e;
      sum += e;
    }
    for (let i = 0; i < s; i++) y[o + i] /= sum;
  }
}

/** dx = scale·y·(dy − Σ dy·y) per row of `s` values. */
export function attentionSoftmaxBackward(
  dy: Float32Array,
  y: Float32Array,
  dx: Float32Array,
  s: number,
  scale: number,
): void {
  for (let o = 0; o < y.length; o += s) {
    let dot = 0;
    for (let i = 0; i < s; i++) dot += dy[o + i] * y[o + i];
    for (let i = 0; i < s; i++) dx[o + i] = scale * y[o + i] * (dy[o + i] - dot);
  }
}

const scaleOf = (attrs: tf.NamedAttrMap | undefined) => (attrs as { scale: number }).scale;

const forward: FusedKernel = {
  name: ATTENTION_SOFTMAX,
  outputs: ({ x }) => [x!.shape],
  js(v, [y], args) {
    const { x, bias } = args.inputs as { x: tf.TensorInfo; bias?: tf.TensorInfo };
    attentionSoftmaxForward(v.x!, v.bias ?? null, y, x.shape, bias?.shape ?? [1, 1, 1], scaleOf(args.attrs));
  },
  native(addon, heap, at, [y], args) {
    if (addon.attentionSoftmax == null) return false;
    const { x, bias } = args.inputs as { x: tf.TensorInfo; bias?: tf.TensorInfo };
    const [b, h, t, s] = x.shape;
    const [bb, , bt] = bias?.shape ?? [1, 1, 1];
    nativeDesc.set([at.x, at.bias ?? -1, y, b, h, t, s, bb, bt, scaleOf(args.attrs)]);
    addon.attentionSoftmax(heap, nativeDesc);
    return true;
  },
};

const backward: FusedKernel = {
  name: ATTENTION_SOFTMAX_GRAD,
  outputs: ({ y }) => [y!.shape],
  js(v, [dx], args) {
    const y = args.inputs.y as tf.TensorInfo;
    attentionSoftmaxBackward(v.dy!, v.y!, dx, y.shape[3], scaleOf(args.attrs));
  },
  native(addon, heap, at, [dx], args) {
    if (addon.attentionSoftmaxGrad == null) return false;
    const [b, h, t, s] = (args.inputs.y as tf.TensorInfo).shape;
    nativeDesc.set([at.dy, at.y, dx, b * h * t, s, scaleOf(args.attrs)]);
    addon.attentionSoftmaxGrad(heap, nativeDesc);
    return true;
  },
};

export function registerSoftmaxKernels(): void {
  registerFusedKernel(forward);
  registerFusedKernel(backward);
}

/**
 * Whether the fused kernels should run: on cpu, and on wasm with the native addon. Without the addon wasm's
 * own Softmax (C++) beats a JavaScript exp loop, so the op composes tfjs' kernels there.
 */
export function hasSoftmaxKernels(): boolean {
  return fusedKernelsWanted([ATTENTION_SOFTMAX]);
}
