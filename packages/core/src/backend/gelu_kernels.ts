import type * as tf from '@tensorflow/tfjs';
import {
  type FusedKernel,
  type KernelArgs,
  hasKernel,
  nativeDesc,
  registerFusedKernel,
} from './fused_kernels.js';

/**
 * `MoevlBiasGelu` and `MoevlBiasGeluGrad`: GELU of `x + bias` in one pass forward, and in one pass backward
 * the input gradient together with the bias gradient (its sum over the broadcast axes). Composed from tfjs
 * ops the same work is ~12 kernels over the hidden activations (erf, exp, muls, adds, the bias' transposed
 * `Sum`), each a full pass over memory; on wasm erf alone took 17 ms for 5120×256 values.
 *
 * `x` is viewed as `[outer, reduce, inner]` and `bias` as `[outer, inner]` (outer 1 for a rank-1 bias over
 * the last axis; `[E, 1, H]` per-expert biases over `[E, C, H]`). `erf` is Abramowitz–Stegun 7.1.26 (|error|
 * < 1.5e-7), the formula tfjs' own Erf kernels use, so results match the composed op to float32 rounding.
 * Registered for wasm (on the heap; the native addon's kernels when it is built and wanted) and cpu.
 */

export const BIAS_GELU = 'MoevlBiasGelu';
export const BIAS_GELU_GRAD = 'MoevlBiasGeluGrad';

const ERF_P = 0.3275911;
const A1 = 0.254829592;
const A2 = -0.284496736;
const A3 = 1.421413741;
const A4 = -1.453152027;
const A5 = 1.061405429;
const INV_SQRT_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const TANH_C = 0.044715;

/** Where the broadcast bias sits: `x` as `[outer, reduce, inner]`, `bias` as `[outer, inner]`. */
export interface BiasLayout {
  outer: number;
  reduce: number;
  inner: number;
}

/**
 * The layout of `bias` against `xShape`, or undefined when it does not broadcast that way. A bias is its
 * padded shape equal to `xShape` except for one block of axes before the last, where it is 1.
 */
export function biasLayout(xShape: number[], biasShape: number[] | undefined): BiasLayout | undefined {
  const size = xShape.reduce((a, b) => a * b, 1);
  if (biasShape == null) return { outer: 1, reduce: 1, inner: size };
  if (biasShape.length > xShape.length || xShape.length === 0) return undefined;
  const b = [...new Array<number>(xShape.length - biasShape.length).fill(1), ...biasShape];
  const r = xShape.length;
  if (b[r - 1] !== xShape[r - 1]) return undefined;
  let first = -1;
  let last = -1;
  for (let i = 0; i < r - 1; i++) {
    if (b[i] === xShape[i]) continue;
    if (b[i] !== 1) return undefined;
    if (first < 0) first = i;
    else if (last !== i - 1) return undefined;
    last = i;
  }
  if (first < 0) return { outer: size / Math.max(1, xShape[r - 1]), reduce: 1, inner: xShape[r - 1] };
  const prod = (a: number, z: number) => xShape.slice(a, z).reduce((p, d) => p * d, 1);
  return { outer: prod(0, first), reduce: prod(first, last + 1), inner: prod(last + 1, r) };
}

function erf(x: number): number {
  const v = Math.abs(x);
  const t = 1 / (1 + ERF_P * v);
  const y = 1 - ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t * Math.exp(-v * v);
  return x < 0 ? -y : y;
}

type Floats = { [i: number]: number; length: number };

/** y = gelu(x + bias), JavaScript (wasm heap views or cpu arrays). */
export function biasGeluForward(
  x: Floats,
  bias: Floats | null,
  y: Floats,
  layout: BiasLayout,
  tanh: boolean,
): void {
  const { outer, reduce, inner } = layout;
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < reduce; r++) {
      const row = (o * reduce + r) * inner;
      for (let i = 0; i < inner; i++) {
        const u = bias == null ? x[row + i] : x[row + i] + bias[o * inner + i];
        if (tanh) {
          const t = Math.tanh(SQRT_2_OVER_PI * (u + TANH_C * u * u * u));
          y[row + i] = 0.5 * u * (1 + t);
        } else {
          y[row + i] = 0.5 * u * (1 + erf(u * INV_SQRT_2));
        }
      }
    }
  }
}

/** dx = dy · gelu'(x + bias), and dbias = Σ over the reduce axis of dx (float64 sums), JavaScript. */
export function biasGeluBackward(
  dy: Floats,
  x: Floats,
  bias: Floats | null,
  dx: Floats,
  dbias: Floats | null,
  layout: BiasLayout,
  tanh: boolean,
): void {
  const { outer, reduce, inner } = layout;
  const acc = new Float64Array(dbias == null ? 0 : inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    for (let r = 0; r < reduce; r++) {
      const row = (o * reduce + r) * inner;
      for (let i = 0; i < inner; i++) {
        const u = bias == null ? x[row + i] : x[row + i] + bias[o * inner + i];
        let g: number;
        if (tanh) {
          const u2 = u * u;
          const t = Math.tanh(SQRT_2_OVER_PI * u * (1 + TANH_C * u2));
          g = 0.5 * (1 + t) + 0.5 * u * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * TANH_C * u2);
        } else {
          // erf(u/√2) and the normal density share exp(−u²/2).
          const v = Math.abs(u) * INV_SQRT_2;
          const t = 1 / (1 + ERF_P * v);
          const e = Math.exp(-v * v);
          const erfv = 1 - ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t * e;
          g = 0.5 * (1 + (u < 0 ? -erfv : erfv)) + u * INV_SQRT_2PI * e;
        }
        const d = dy[row + i] * g;
        dx[row + i] = d;
        if (dbias != null) acc[i] += d;
      }
    }
    if (dbias != null) for (let i = 0; i < inner; i++) dbias[o * inner + i] = acc[i];
  }
}

function layoutOf(x: tf.TensorInfo, bias: tf.TensorInfo | undefined): BiasLayout {
  const layout = biasLayout(x.shape, bias?.shape);
  if (layout == null || x.dtype !== 'float32' || (bias != null && bias.dtype !== 'float32')) {
    throw new Error(`${BIAS_GELU}: bias [${bias?.shape}] does not broadcast over x [${x.shape}] (float32).`);
  }
  return layout;
}

const isTanh = (args: KernelArgs) =>
  (args.attrs as { approximate?: string } | undefined)?.approximate === 'tanh';
const info = (args: KernelArgs) =>
  args.inputs as { dy?: tf.TensorInfo; x: tf.TensorInfo; bias?: tf.TensorInfo };

const forward: FusedKernel = {
  name: BIAS_GELU,
  outputs: (inputs) => [inputs.x!.shape],
  js(v, [y], args) {
    const { x, bias } = info(args);
    biasGeluForward(v.x!, v.bias ?? null, y, layoutOf(x, bias), isTanh(args));
  },
  native(addon, heap, at, [y], args) {
    if (addon.biasGelu == null) return false;
    const { x, bias } = info(args);
    const l = layoutOf(x, bias);
    nativeDesc.set([at.x, at.bias ?? -1, y, l.outer, l.reduce, l.inner, isTanh(args) ? 1 : 0]);
    addon.biasGelu(heap, nativeDesc);
    return true;
  },
};

const backward: FusedKernel = {
  name: BIAS_GELU_GRAD,
  outputs: (inputs) => (inputs.bias == null ? [inputs.x!.shape] : [inputs.x!.shape, inputs.bias.shape]),
  js(v, [dx, db], args) {
    const { x, bias } = info(args);
    biasGeluBackward(v.dy!, v.x!, v.bias ?? null, dx, db ?? null, layoutOf(x, bias), isTanh(args));
  },
  native(addon, heap, at, [dx, db], args) {
    if (addon.biasGeluGrad == null) return false;
    const { x, bias } = info(args);
    const l = layoutOf(x, bias);
    nativeDesc.set([
      at.dy,
      at.x,
      at.bias ?? -1,
      dx,
      db ?? -1,
      l.outer,
      l.reduce,
      l.inner,
      isTanh(args) ? 1 : 0,
    ]);
    addon.biasGeluGrad(heap, nativeDesc);
    return true;
  },
};

/** Registers both kernels for wasm and cpu (once; safe before either backend is loaded). */
export function registerGeluKernels(): void {
  registerFusedKernel(forward);
  registerFusedKernel(backward);
}

/** Whether the active backend runs the fused kernels (else the op composes tfjs ops). */
export function hasGeluKernels(): boolean {
  return hasKernel(BIAS_GELU);
}
