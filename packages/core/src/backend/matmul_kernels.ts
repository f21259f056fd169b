import * as tf from '@tensorflow/tfjs';
import { describeNativeBlas, nativeBlas } from './native_blas.js';
import { nativeBatchMatMul, nativeFusedMatMul } from './native_matmul.js';

/**
 * Which kernels run `BatchMatMul` and `_FusedMatMul` on the wasm backend: the native BLAS when the addon
 * loaded, else the pure-wasm ones (tfjs' kernels behind our wrappers). Both stay registered-able at any time
 * (`useNativeMatMul`), so tests can check one against the other in the same process.
 */

/** On a native kernel function: the pure-wasm config it falls back to (survives two copies of core). */
const PURE = Symbol.for('moevl.wasmPureMatMulKernel');
const FUSED_FIXED = Symbol.for('moevl.wasmFusedMatMul');

type Marked = Record<symbol, unknown>;

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

interface WasmBackendLike {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: tf.DataId): boolean;
}

/** The matmul path of a backend, for reports and result files. */
export interface MatmulPath {
  /** `native` (a BLAS on the wasm heap), `wasm` (tfjs-wasm's kernels), or the backend's own (`cpu`, …). */
  kind: 'native' | 'wasm' | 'cpu' | 'tensorflow' | 'none';
  /** One line: `native OpenBLAS 0.3.21 (2 threads)`, `wasm XNNPACK`, `tfjs cpu (JavaScript)`. */
  name: string;
  /** Why this path, and for `wasm` why not the native one. */
  reason: string;
}

let pure: { matMul: tf.KernelConfig; fused?: tf.KernelConfig } | undefined;
let nativeWanted = true;

/** The registered wasm kernel with any native override taken off. */
export function pureWasmKernel(name: string): tf.KernelConfig | undefined {
  const cfg = tf.getKernel(name, 'wasm');
  if (cfg == null) return undefined;
  return ((cfg.kernelFunc as unknown as Marked)[PURE] as tf.KernelConfig | undefined) ?? cfg;
}

function replaceKernel(cfg: tf.KernelConfig): void {
  if (tf.getKernel(cfg.kernelName, 'wasm') === cfg) return;
  tf.unregisterKernel(cfg.kernelName, 'wasm');
  tf.registerKernel(cfg);
}

function withNative(
  cfg: tf.KernelConfig,
  make: (fallback: tf.KernelConfig) => tf.KernelFunc,
): tf.KernelConfig {
  const fn = make(cfg);
  (fn as unknown as Marked)[PURE] = cfg;
  return { ...cfg, kernelFunc: fn };
}

function apply(): void {
  if (pure == null) return;
  const native = nativeBlas();
  if (nativeWanted && native.ok) {
    replaceKernel(withNative(pure.matMul, (f) => nativeBatchMatMul(native.addon, f)));
    if (pure.fused) replaceKernel(withNative(pure.fused, (f) => nativeFusedMatMul(native.addon, f)));
  } else {
    replaceKernel(pure.matMul);
    if (pure.fused) replaceKernel(pure.fused);
  }
}

/**
 * Called by `registerWasmKernels` with the pure-wasm configs (already wrapped); registers the native
 * kernels over them when the addon is available and wanted.
 */
export function installMatMulKernels(matMul: tf.KernelConfig, fused: tf.KernelConfig | undefined): void {
  pure = { matMul, fused };
  apply();
}

/**
 * Turns the native matMul path on or off for the wasm backend (default on where the addon loaded). Off
 * runs tfjs-wasm's kernels; tests use it to hold both paths to the same checks. Returns the path now used.
 */
export function useNativeMatMul(enabled: boolean): MatmulPath {
  nativeWanted = enabled;
  apply();
  return matmulPath('wasm');
}

/**
 * Whether native kernels are wanted on the wasm backend (`useNativeMatMul`): the fused non-matmul kernels the
 * addon provides (bias + GELU) follow the same switch, so the pure-wasm path is one switch away.
 */
export function nativeKernelsWanted(): boolean {
  return nativeWanted;
}

function nativeActive(): boolean {
  const cfg = tf.getKernel('BatchMatMul', 'wasm');
  return cfg != null && (cfg.kernelFunc as unknown as Marked)[PURE] != null;
}

/**
 * Which kernels run matrix products on `backend` (default: the active one), and why — for the backend
 * report, and so that training and evaluation results can name it.
 */
export function matmulPath(backend: string = tf.getBackend()): MatmulPath {
  if (backend === 'wasm') {
    const native = nativeBlas();
    if (nativeActive() && native.ok) {
      return {
        kind: 'native',
        name: describeNativeBlas(native),
        reason: `BLAS sgemm on the wasm heap in place; threads from ${native.threadsFrom}`,
      };
    }
    const why = !native.ok
      ? native.reason
      : !nativeWanted
        ? 'native path turned off'
        : 'wasm kernels not loaded';
    return { kind: 'wasm', name: 'wasm XNNPACK', reason: why };
  }
  if (backend === 'cpu') return { kind: 'cpu', name: 'tfjs cpu (JavaScript)', reason: 'the cpu backend' };
  if (backend === 'tensorflow') {
    return { kind: 'tensorflow', name: 'libtensorflow (tfjs-node)', reason: 'native TensorFlow kernels' };
  }
  return { kind: 'none', name: backend || 'no backend', reason: 'no tfjs backend with a known matmul path' };
}

function applyBiasActivation(
  y: Float32Array,
  bias: Float32Array | null,
  n: number,
  activation: string,
  alpha: number,
): void {
  for (let i = 0; i < y.length; i++) {
    let v = bias == null ? y[i] : y[i] + bias[bias.length === 1 ? 0 : i % n];
    if (activation === 'relu') v = v > 0 ? v : 0;
    else if (activation === 'relu6') v = Math.min(Math.max(v, 0), 6);
    else if (activation === 'leakyrelu') v = v < 0 ? alpha * v : v;
    else if (activation === 'elu') v = v < 0 ? Math.expm1(v) : v;
    else if (activation === 'sigmoid') v = 1 / (1 + Math.exp(-v));
    y[i] = v;
  }
}

/**
 * tfjs-backend-wasm 4.22's `_FusedMatMul` adds the bias wrongly whenever it leaves XNNPACK (a transpose
 * flag or a batch > 1): its loop indexes the bias with `min(i·n + j, size − 1)`, so every row after the
 * first gets the last bias value (`tf.fused.matMul` of a [3,4]ᵀ with a bias is off by ~1); on the XNNPACK
 * path a bias of size 1 is read as a full row. In those cases
 * this runs the product through `BatchMatMul` (our wrapped, correct kernel), adds the bias and applies the
 * activation on the heap (PReLU through the Prelu kernel). The XNNPACK case stays as it was.
 */
export function fixFusedMatMul(original: tf.KernelConfig): tf.KernelConfig {
  const fixed = (args: KernelArgs): tf.TensorInfo => {
    const { a, b, bias, preluActivationWeights } = args.inputs as {
      a: tf.TensorInfo;
      b: tf.TensorInfo;
      bias?: tf.TensorInfo;
      preluActivationWeights?: tf.TensorInfo;
    };
    const attrs = (args.attrs ?? {}) as {
      transposeA?: boolean;
      transposeB?: boolean;
      activation?: string;
      leakyreluAlpha?: number;
    };
    const slowPath = attrs.transposeA || attrs.transposeB || a.shape[0] !== 1 || b.shape[0] !== 1;
    const matMul = tf.getKernel('BatchMatMul', 'wasm');
    const prelu = tf.getKernel('Prelu', 'wasm');
    const activation = attrs.activation ?? 'linear';
    // XNNPACK reads a full row of bias, so a bias of size 1 (a scalar) is wrong on its path too.
    const n = attrs.transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
    const biasIsRow = bias != null && bias.shape.reduce((x, y) => x * y, 1) === n;
    const broken = bias != null && (slowPath || !biasIsRow);
    if (!broken || matMul == null || (activation === 'prelu' && prelu == null)) {
      return original.kernelFunc(args as never) as tf.TensorInfo;
    }
    const backend = args.backend as WasmBackendLike;
    const product = matMul.kernelFunc({
      inputs: { a, b },
      backend: args.backend,
      attrs: { transposeA: attrs.transposeA ?? false, transposeB: attrs.transposeB ?? false },
    } as never) as tf.TensorInfo;
    const y = backend.typedArrayFromHeap(product) as Float32Array;
    const biasValues = backend.typedArrayFromHeap(bias!) as Float32Array;
    applyBiasActivation(
      y,
      biasValues,
      n,
      activation === 'prelu' ? 'linear' : activation,
      attrs.leakyreluAlpha ?? 0.2,
    );
    if (activation !== 'prelu' || prelu == null || preluActivationWeights == null) return product;
    const out = prelu.kernelFunc({
      inputs: { x: product, alpha: preluActivationWeights },
      backend: args.backend,
      attrs: {},
    } as never) as tf.TensorInfo;
    backend.disposeData(product.dataId);
    return out;
  };
  (fixed as unknown as Marked)[FUSED_FIXED] = true;
  return { ...original, kernelFunc: fixed as unknown as tf.KernelFunc };
}

export function isFixedFusedMatMul(cfg: tf.KernelConfig): boolean {
  return (cfg.kernelFunc as unknown as Marked)[FUSED_FIXED] === true;
}
