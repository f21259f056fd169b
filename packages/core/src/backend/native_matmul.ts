import * as tf from '@tensorflow/tfjs';
import type { NativeBlasAddon } from './native_blas.js';

/**
 * `BatchMatMul` and `_FusedMatMul` on the native BLAS, run on the wasm backend's heap in place: the operands'
 * heap offsets go to `cblas_sgemm`, which writes into an output the backend allocated. Transposes are BLAS
 * flags (no transposed copy), batches are one addon call, and the batch dims broadcast as NumPy does.
 *
 * tfjs 4.22's own kernels index a broadcast batch modulo its size, which is right only when one operand's
 * batch dims are a suffix of the other's ([2,3]×[3], [3]×[1]); [2,1]×[1,3] or [3,1]×[2] come out wrong on
 * both the cpu and the wasm backend. The shape tfjs-core infers for those is the NumPy one, and this kernel
 * computes the NumPy values.
 */

interface HeapBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** One GEMM call: `C[b] = op(A[b]) · op(B[b])` over the (collapsed) output batch dims. */
export interface GemmPlan {
  m: number;
  n: number;
  k: number;
  outShape: number[];
  /** Output batch dims after dropping 1s and merging contiguous runs, with A's and B's element strides. */
  dims: number[];
  aStrides: number[];
  bStrides: number[];
}

const MAX_RANK = 8;
/** Fused activations the addon computes (codes as in `@moevl/native-blas`'s ACTIVATIONS). */
export const NATIVE_ACTIVATIONS: Record<string, number> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  leakyrelu: 3,
  elu: 4,
  sigmoid: 5,
};

function contiguousStrides(batch: number[], matrix: number): number[] {
  const s = new Array<number>(batch.length);
  let acc = matrix;
  for (let i = batch.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= batch[i];
  }
  return s;
}

/**
 * Plans `matMul(a, b, transposeA, transposeB)` for shapes of rank ≥ 2, or returns undefined for what the
 * native path leaves to the wasm kernel (rank < 2, more than 8 batch dims). Throws tfjs' own errors for
 * mismatched inner or batch dims.
 */
export function planGemm(
  aShape: number[],
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
): GemmPlan | undefined {
  const ra = aShape.length;
  const rb = bShape.length;
  if (ra < 2 || rb < 2) return undefined;
  const m = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const kA = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  const kB = transposeB ? bShape[rb - 1] : bShape[rb - 2];
  const n = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  if (kA !== kB) {
    throw new Error(
      `Error in matMul: inner shapes (${kA}) and (${kB}) of Tensors with shapes ${aShape} and ${bShape} and ` +
        `transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const batchA = aShape.slice(0, -2);
  const batchB = bShape.slice(0, -2);
  const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(batchA, batchB);
  if (outBatch.length > MAX_RANK) return undefined;
  const pad = (s: number[]) => [...new Array<number>(outBatch.length - s.length).fill(1), ...s];
  const pa = pad(batchA);
  const pb = pad(batchB);
  const ca = contiguousStrides(pa, m * kA);
  const cb = contiguousStrides(pb, kA * n);
  const dims: number[] = [];
  const aStrides: number[] = [];
  const bStrides: number[] = [];
  for (let i = 0; i < outBatch.length; i++) {
    const d = outBatch[i];
    if (d === 1) continue;
    const sa = pa[i] === 1 ? 0 : ca[i];
    const sb = pb[i] === 1 ? 0 : cb[i];
    const last = dims.length - 1;
    // Merge with the previous dim when stepping it is the same as stepping this one d times.
    if (last >= 0 && aStrides[last] === sa * d && bStrides[last] === sb * d) {
      dims[last] *= d;
      aStrides[last] = sa;
      bStrides[last] = sb;
      continue;
    }
    dims.push(d);
    aStrides.push(sa);
    bStrides.push(sb);
  }
  let rows = m;
  // A batch of untransposed A rows against one shared B is a single taller GEMM.
  if (dims.length === 1 && bStrides[0] === 0 && !transposeA && aStrides[0] === m * kA) {
    rows = m * dims[0];
    dims.length = 0;
    aStrides.length = 0;
    bStrides.length = 0;
  }
  return { m: rows, n, k: kA, outShape: [...outBatch, m, n], dims, aStrides, bStrides };
}

const desc = new Float64Array(13 + 3 * MAX_RANK);

function offsetOf(backend: HeapBackend, t: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (data == null || data.memoryOffset == null)
    throw new Error('native matMul: tensor is not on the wasm heap');
  return data.memoryOffset;
}

function runGemm(
  addon: NativeBlasAddon,
  backend: HeapBackend,
  plan: GemmPlan,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  out: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  bias: tf.TensorInfo | null,
  activation: number,
  alpha: number,
): void {
  desc[0] = offsetOf(backend, a);
  desc[1] = offsetOf(backend, b);
  desc[2] = offsetOf(backend, out);
  desc[3] = plan.m;
  desc[4] = plan.n;
  desc[5] = plan.k;
  desc[6] = transposeA ? 1 : 0;
  desc[7] = transposeB ? 1 : 0;
  desc[8] = bias == null ? -1 : offsetOf(backend, bias);
  desc[9] = bias == null ? 0 : bias.shape.reduce((x, y) => x * y, 1);
  desc[10] = activation;
  desc[11] = alpha;
  desc[12] = plan.dims.length;
  for (let i = 0; i < plan.dims.length; i++) {
    desc[13 + 3 * i] = plan.dims[i];
    desc[14 + 3 * i] = plan.aStrides[i];
    desc[15 + 3 * i] = plan.bStrides[i];
  }
  // The heap's ArrayBuffer is taken after the output was allocated: growing the heap replaces it.
  addon.gemm(backend.wasm.HEAPU8.buffer as ArrayBuffer, desc);
}

function size(shape: number[]): number {
  return shape.reduce((x, y) => x * y, 1);
}

/** `BatchMatMul` on the addon; anything it does not cover goes to `fallback`. */
export function nativeBatchMatMul(addon: NativeBlasAddon, fallback: tf.KernelConfig): tf.KernelFunc {
  return ((args: KernelArgs): tf.TensorInfo => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA = false, transposeB = false } = (args.attrs ?? {}) as {
      transposeA?: boolean;
      transposeB?: boolean;
    };
    const plan =
      a.dtype === 'float32' && b.dtype === 'float32'
        ? planGemm(a.shape, b.shape, transposeA, transposeB)
        : undefined;
    if (plan == null) return fallback.kernelFunc(args as never) as tf.TensorInfo;
    const backend = args.backend as HeapBackend;
    const out = backend.makeOutput(plan.outShape, 'float32');
    if (size(plan.outShape) > 0) runGemm(addon, backend, plan, a, b, out, transposeA, transposeB, null, 0, 0);
    return out;
  }) as unknown as tf.KernelFunc;
}

/**
 * `_FusedMatMul` (what `tf.fused.matMul` runs: a rank-3 product, then bias, then activation) on the addon:
 * the bias is added inside the GEMM and the activation in the same call. PReLU, a bias that is not rank 1 of
 * size 1 or n, and other dtypes go to `fallback`.
 */
export function nativeFusedMatMul(addon: NativeBlasAddon, fallback: tf.KernelConfig): tf.KernelFunc {
  return ((args: KernelArgs): tf.TensorInfo => {
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
    const { transposeA = false, transposeB = false, activation = 'linear' } = attrs;
    const code = NATIVE_ACTIVATIONS[activation];
    const plan =
      a.dtype === 'float32' && b.dtype === 'float32' && code != null && preluActivationWeights == null
        ? planGemm(a.shape, b.shape, transposeA, transposeB)
        : undefined;
    const biasOk =
      bias == null ||
      (bias.dtype === 'float32' &&
        bias.shape.length === 1 &&
        (bias.shape[0] === 1 || bias.shape[0] === plan?.n));
    if (plan == null || !biasOk) return fallback.kernelFunc(args as never) as tf.TensorInfo;
    const backend = args.backend as HeapBackend;
    const out = backend.makeOutput(plan.outShape, 'float32');
    if (size(plan.outShape) > 0) {
      const alpha = attrs.leakyreluAlpha ?? 0.2;
      runGemm(addon, backend, plan, a, b, out, transposeA, transposeB, bias ?? null, code, alpha);
    }
    return out;
  }) as unknown as tf.KernelFunc;
}
