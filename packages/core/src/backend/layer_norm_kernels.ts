import type * as tf from '@tensorflow/tfjs';
import { type FusedKernel, hasKernel, nativeDesc, registerFusedKernel } from './fused_kernels.js';

/**
 * `MoevlLayerNorm` and `MoevlLayerNormGrad`: layer normalisation over the last axis, forward in one pass per
 * row (returning each row's mean and 1/σ for the backward pass), and backward the input, gain and bias
 * gradients in one pass. Composed from tfjs ops a LayerNorm is ~9 kernels forward and ~20 backward,
 * including broadcast multiplies of `[B, T, 1]` against `[B, T, D]` and the gain/bias gradients' `Sum` over
 * `[B, T]`; a LIMoE step has ten of them. Sums are float64 (tfjs sums in float32), so results match the
 * composed form to float32 rounding.
 */

export const LAYER_NORM = 'MoevlLayerNorm';
export const LAYER_NORM_GRAD = 'MoevlLayerNormGrad';

/** y = (x − μ)/√(σ² + ε)·γ + β per row of `d` values; writes μ and 1/√(σ² + ε) per row. */
export function layerNormForward(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  y: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  d: number,
  epsilon: number,
): void {
  const rows = mean.length;
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let s = 0;
    for (let i = 0; i < d; i++) s += x[o + i];
    const mu = s / d;
    let v = 0;
    for (let i = 0; i < d; i++) {
      const c = x[o + i] - mu;
      v += c * c;
    }
    const rs = 1 / Math.sqrt(v / d + epsilon);
    for (let i = 0; i < d; i++) y[o + i] = (x[o + i] - mu) * rs * gamma[i] + beta[i];
    mean[r] = mu;
    rstd[r] = rs;
  }
}

/** dx, dγ = Σ dy·x̂, dβ = Σ dy from the saved μ and 1/σ (x̂ = (x − μ)/σ). */
export function layerNormBackward(
  dy: Float32Array,
  x: Float32Array,
  gamma: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  dx: Float32Array,
  dgamma: Float32Array,
  dbeta: Float32Array,
  d: number,
): void {
  const rows = mean.length;
  const dg = new Float64Array(d);
  const db = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    const mu = mean[r];
    const rs = rstd[r];
    let a = 0;
    let b = 0;
    for (let i = 0; i < d; i++) {
      const xh = (x[o + i] - mu) * rs;
      const g = dy[o + i] * gamma[i];
      a += g;
      b += g * xh;
      dg[i] += dy[o + i] * xh;
      db[i] += dy[o + i];
    }
    a /= d;
    b /= d;
    for (let i = 0; i < d; i++) {
      const xh = (x[o + i] - mu) * rs;
      dx[o + i] = rs * (dy[o + i] * gamma[i] - a - xh * b);
    }
  }
  for (let i = 0; i < d; i++) {
    dgamma[i] = dg[i];
    dbeta[i] = db[i];
  }
}

const dim = (x: tf.TensorInfo) => x.shape[x.shape.length - 1];
const rowsOf = (x: tf.TensorInfo) => x.shape.slice(0, -1);
const eps = (attrs: tf.NamedAttrMap | undefined) => (attrs as { epsilon: number }).epsilon;

const forward: FusedKernel = {
  name: LAYER_NORM,
  outputs: ({ x }) => [x!.shape, rowsOf(x!), rowsOf(x!)],
  js(v, [y, mean, rstd], args) {
    const x = args.inputs.x as tf.TensorInfo;
    layerNormForward(v.x!, v.gamma!, v.beta!, y, mean, rstd, dim(x), eps(args.attrs));
  },
  native(addon, heap, at, [y, mean, rstd], args) {
    if (addon.layerNorm == null) return false;
    const x = args.inputs.x as tf.TensorInfo;
    const d = dim(x);
    const rows = d === 0 ? 0 : x.shape.reduce((p, q) => p * q, 1) / d;
    nativeDesc.set([at.x, at.gamma, at.beta, y, mean, rstd, rows, d, eps(args.attrs)]);
    addon.layerNorm(heap, nativeDesc);
    return true;
  },
};

const backward: FusedKernel = {
  name: LAYER_NORM_GRAD,
  outputs: ({ x, gamma }) => [x!.shape, gamma!.shape, gamma!.shape],
  js(v, [dx, dgamma, dbeta], args) {
    const x = args.inputs.x as tf.TensorInfo;
    layerNormBackward(v.dy!, v.x!, v.gamma!, v.mean!, v.rstd!, dx, dgamma, dbeta, dim(x));
  },
  native(addon, heap, at, [dx, dgamma, dbeta], args) {
    if (addon.layerNormGrad == null) return false;
    const x = args.inputs.x as tf.TensorInfo;
    const d = dim(x);
    const rows = d === 0 ? 0 : x.shape.reduce((p, q) => p * q, 1) / d;
    nativeDesc.set([at.dy, at.x, at.gamma, at.mean, at.rstd, dx, dgamma, dbeta, rows, d]);
    addon.layerNormGrad(heap, nativeDesc);
    return true;
  },
};

/** Registers both kernels for wasm and cpu (once). */
export function registerLayerNormKernels(): void {
  registerFusedKernel(forward);
  registerFusedKernel(backward);
}

export function hasLayerNormKernels(): boolean {
  return hasKernel(LAYER_NORM);
}
