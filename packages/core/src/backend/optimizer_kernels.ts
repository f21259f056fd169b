import * as tf from '@tensorflow/tfjs';
import { type FusedKernel, fusedKernelsWanted, nativeDesc, registerFusedKernel } from './fused_kernels.js';

/**
 * `MoevlAdamWUpdate` and `MoevlSumOfSquares`: the optimizer's per-variable arithmetic in one pass each.
 * Composed from tfjs ops, one AdamW update is ~14 kernels per variable (decay, two moment averages, the
 * square, root, bias corrections, the step) plus a square, a sum and a multiply for global-norm clipping; a
 * LIMoE step has ~60 variables, so ~1000 small kernels whose launch cost exceeds their arithmetic.
 *
 * The update is computed with the composed form's float32 roundings, operation by operation (every
 * intermediate `Math.fround`ed: +, −, ×, ÷ and √ of float32 values rounded once more to float32 equal the
 * float32 operation), so it is bitwise the update tfjs' kernels compute, on every backend. On wasm the
 * native addon runs both (vectorised, the update threaded over large variables); its JavaScript bodies run on
 * cpu, where tfjs' own kernels are JavaScript too. On wasm without the addon the optimizer keeps composing
 * XNNPACK's kernels, which beat a scalar JavaScript loop (`Math.fround` after every operation) there.
 */

export const ADAMW_UPDATE = 'MoevlAdamWUpdate';
export const SUM_OF_SQUARES = 'MoevlSumOfSquares';

/** Scalars of one AdamW update; see `train/adamw.ts` for the rule. */
export interface AdamWUpdateAttrs {
  /** The clip coefficient the gradient is multiplied by first (1: not clipped, no multiply). */
  gradScale: number;
  /** 1 − lr·wd, the decoupled decay factor (1: no decay, no multiply). */
  decay: number;
  beta1: number;
  beta2: number;
  /** lr / (1 − β1^t). */
  stepSize: number;
  /** √(1 − β2^t). */
  bc2Sqrt: number;
  eps: number;
}

const f = Math.fround;

/** p, m, v ← one AdamW update from gradient g, written to the out arrays (which may alias the inputs). */
export function adamWUpdate(
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  pOut: Float32Array,
  mOut: Float32Array,
  vOut: Float32Array,
  a: AdamWUpdateAttrs,
): void {
  // The scalars as tfjs makes them: float32 tensors.
  const scale = f(a.gradScale);
  const decay = f(a.decay);
  const b1 = f(a.beta1);
  const c1 = f(1 - a.beta1);
  const b2 = f(a.beta2);
  const c2 = f(1 - a.beta2);
  const stepSize = f(a.stepSize);
  const bc2 = f(a.bc2Sqrt);
  const eps = f(a.eps);
  const scaled = a.gradScale !== 1;
  const decayed = a.decay !== 1;
  for (let i = 0; i < p.length; i++) {
    const gi = scaled ? f(g[i] * scale) : g[i];
    const pi = decayed ? f(p[i] * decay) : p[i];
    const mi = f(f(m[i] * b1) + f(gi * c1));
    const vi = f(f(v[i] * b2) + f(f(gi * gi) * c2));
    const denom = f(f(f(Math.sqrt(vi)) / bc2) + eps);
    mOut[i] = mi;
    vOut[i] = vi;
    pOut[i] = f(pi - f(f(mi / denom) * stepSize));
  }
}

const attrsOf = (args: { attrs?: tf.NamedAttrMap }) => args.attrs as unknown as AdamWUpdateAttrs;

const update: FusedKernel = {
  name: ADAMW_UPDATE,
  outputs: ({ param }) => [param!.shape, param!.shape, param!.shape],
  js(t, [p, m, v], args) {
    adamWUpdate(t.param!, t.m!, t.v!, t.grad!, p, m, v, attrsOf(args));
  },
  native(addon, heap, at, [p, m, v], args) {
    if (addon.adamWUpdate == null) return false;
    const a = attrsOf(args);
    const n = (args.inputs.param as tf.TensorInfo).shape.reduce((x, y) => x * y, 1);
    nativeDesc.set([at.param, at.m, at.v, at.grad, p, m, v, n, a.gradScale, a.decay, a.beta1, a.beta2]);
    nativeDesc.set([a.stepSize, a.bc2Sqrt, a.eps], 12);
    addon.adamWUpdate(heap, nativeDesc);
    return true;
  },
};

/** Σ over every input of Σ x², accumulated in float64; one float32 output. */
const sumOfSquares: FusedKernel = {
  name: SUM_OF_SQUARES,
  outputs: () => [[]],
  js(t, [out]) {
    let s = 0;
    for (const x of Object.values(t)) {
      if (x == null) continue;
      for (let i = 0; i < x.length; i++) s += x[i] * x[i];
    }
    out[0] = s;
  },
  native(addon, heap, at, [out], args) {
    if (addon.sumOfSquares == null) return false;
    const names = Object.keys(args.inputs);
    const desc = new Float64Array(2 + 2 * names.length);
    desc[0] = out;
    desc[1] = names.length;
    names.forEach((name, i) => {
      desc[2 + 2 * i] = at[name];
      desc[3 + 2 * i] = (args.inputs[name] as tf.TensorInfo).shape.reduce((x, y) => x * y, 1);
    });
    addon.sumOfSquares(heap, desc);
    return true;
  },
};

export function registerOptimizerKernels(): void {
  registerFusedKernel(update);
  registerFusedKernel(sumOfSquares);
}

/**
 * Whether the optimizer should use the fused kernels on the active backend: on cpu, and on wasm when the
 * native addon runs them (else it composes tfjs ops; see the file comment).
 */
export function hasOptimizerKernels(): boolean {
  return fusedKernelsWanted([ADAMW_UPDATE, SUM_OF_SQUARES], ['adamWUpdate', 'sumOfSquares']);
}

/** New p, m, v tensors after one fused AdamW update (inputs are not disposed). */
export function fusedAdamWUpdate(
  param: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  grad: tf.Tensor,
  attrs: AdamWUpdateAttrs,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel(ADAMW_UPDATE, { param, m, v, grad }, attrs as unknown as tf.NamedAttrMap) as [
    tf.Tensor,
    tf.Tensor,
    tf.Tensor,
  ];
}

/** Σ ‖x‖² over all of `xs` (float32 tensors) as a float32 value, with one kernel and one read-back. */
export function fusedSumOfSquares(xs: tf.Tensor[]): number {
  const inputs: Record<string, tf.Tensor> = {};
  xs.forEach((x, i) => (inputs[`x${i}`] = x));
  const out = tf.engine().runKernel(SUM_OF_SQUARES, inputs) as tf.Tensor;
  const value = out.dataSync()[0];
  out.dispose();
  return value;
}
