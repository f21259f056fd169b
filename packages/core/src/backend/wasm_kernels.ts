import * as tf from '@tensorflow/tfjs';
import { planGemm } from './native_matmul.js';
import {
  fixFusedMatMul,
  installMatMulKernels,
  isFixedFusedMatMul,
  pureWasmKernel,
} from './matmul_kernels.js';
import { registerDispatchKernels } from './dispatch_kernels.js';
import { registerGeluKernels } from './gelu_kernels.js';
import { registerHeadsKernels } from './heads_kernels.js';
import { registerLayerNormKernels } from './layer_norm_kernels.js';
import { registerMemoryKernels } from './memory_kernels.js';
import { registerOptimizerKernels } from './optimizer_kernels.js';
import { registerReduceGradients } from './reduce_grads.js';
import { patchSavedTensors } from './saved_tensors.js';
import { registerSegmentSumGradient } from './segment_sum_grad.js';
import { registerSoftmaxKernels } from './softmax_kernels.js';

/**
 * Kernels that sparse MoE needs and the tfjs wasm backend does not ship (REFERENCE.md §0).
 *
 * `UnsortedSegmentSum` is what `gather`'s gradient calls, so without it every embedding lookup and every
 * token gather fails to differentiate on wasm. The kernel runs in JS on the wasm heap: it is memory-bound
 * (one add per element), so JS speed is close to what a C++ kernel would reach.
 */

interface WasmBackendLike {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

interface CpuBackendLike {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.backend_util.BackendValues): tf.TensorInfo;
}

interface SegmentSumArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** Output shape and row width of `UnsortedSegmentSum(x, segmentIds, numSegments)`. */
function segmentSumLayout(args: SegmentSumArgs) {
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (args.attrs as { numSegments: number }).numSegments;
  const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
  const xSize = x.shape.reduce((a, b) => a * b, 1);
  const inner = rows === 0 ? 0 : xSize / rows;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  return { x, segmentIds, numSegments, rows, inner, outShape };
}

function unsortedSegmentSumWasm(args: SegmentSumArgs): tf.TensorInfo {
  const { x, segmentIds, numSegments, rows, inner, outShape } = segmentSumLayout(args);
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput(outShape, x.dtype);
  // Heap views, not readSync (which copies): the views are taken after the output's allocation.
  const outValues = backend.typedArrayFromHeap(out);
  outValues.fill(0);
  const xValues = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const ids = backend.typedArrayFromHeap(segmentIds) as Int32Array;
  addSegments(outValues, xValues, ids, rows, inner, numSegments);
  return out;
}

/**
 * The cpu backend's own `UnsortedSegmentSum` compares every row with every segment (O(rows · segments ·
 * width)): dispatching MoE tokens into E·C buffer slots took 10.8 s for a 32-image batch of a tiny V-MoE.
 * One pass over the rows is enough.
 */
function unsortedSegmentSumCpu(args: SegmentSumArgs): tf.TensorInfo {
  const { x, segmentIds, numSegments, rows, inner, outShape } = segmentSumLayout(args);
  const backend = args.backend as CpuBackendLike;
  const size = outShape.reduce((a, b) => a * b, 1);
  const outValues = x.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  const xValues = backend.readSync(x.dataId) as Float32Array | Int32Array;
  const ids = backend.readSync(segmentIds.dataId) as Int32Array;
  addSegments(outValues, xValues, ids, rows, inner, numSegments);
  return backend.makeTensorInfo(outShape, x.dtype, outValues);
}

function addSegments(
  outValues: Float32Array | Int32Array | Uint8Array,
  xValues: Float32Array | Int32Array,
  ids: ArrayLike<number>,
  rows: number,
  inner: number,
  numSegments: number,
): void {
  // A segment's first row is copied (memcpy) and only later rows are added: MoE dispatch sends at most one
  // row to each buffer slot, so it is all copies. `outValues` starts zeroed and has the dtype of x.
  const out = outValues as Float32Array | Int32Array;
  const filled = new Uint8Array(numSegments);
  for (let r = 0; r < rows; r++) {
    const s = ids[r];
    // TensorFlow drops rows whose segment id is negative or out of range; match it.
    if (s < 0 || s >= numSegments) continue;
    const src = r * inner;
    const dst = s * inner;
    if (filled[s] === 0) {
      filled[s] = 1;
      out.set(xValues.subarray(src, src + inner), dst);
    } else {
      for (let j = 0; j < inner; j++) out[dst + j] += xValues[src + j];
    }
  }
}

const WRAPPED = Symbol.for('moevl.wasmBatchMatMul');

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

interface WasmKernels {
  matMul: tf.KernelConfig;
  transpose: tf.KernelConfig;
}

// Below this many FLOPs per batch entry the per-call overhead of splitting outweighs XNNPACK's speed-up
// (e.g. the [S,1,K]×[S,K,D] combine of MoE), and above this many entries the kernel-call count dominates.
const SPLIT_MIN_FLOPS = 100_000;
const SPLIT_MAX_BATCH = 4096;

/**
 * tfjs-backend-wasm 4.22 runs `BatchMatMul` through XNNPACK only for a single, untransposed matrix
 * product; transposed operands and batches > 1 fall back to a loop that is 10–25× slower. Measured here:
 * [1576,384]ᵀ × [1576,1536] takes 1144 ms with the flag vs 45 ms after an explicit transpose, and attention's
 * [48,197,197] × [48,197,64] 77 ms as one batched call vs 48 × 0.16 ms as single products. Every matMul
 * gradient uses the transpose flags and attention is batched, so training spent most of its time there.
 * The wrapper materialises transposes (memory-bound, a few ms) and runs large batches as single products,
 * copying operands with plain heap copies (tfjs' Slice kernel costs milliseconds per call).
 */
function wrapBatchMatMul(k: WasmKernels): tf.KernelFunc {
  const wrapped = (args: KernelArgs): tf.TensorInfo => {
    const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const backend = args.backend as WasmBackendLike & { disposeData(id: tf.DataId): boolean };
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const run = (cfg: tf.KernelConfig, inputs: object, kernelAttrs: object) =>
      cfg.kernelFunc({ inputs, backend: args.backend, attrs: kernelAttrs } as never) as tf.TensorInfo;
    const swapLast = (x: tf.TensorInfo): tf.TensorInfo => {
      const r = x.shape.length;
      const perm = [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2];
      return run(k.transpose, { x }, { perm });
    };
    const flat = { ...args.attrs, transposeA: false, transposeB: false };

    // tfjs-wasm divides by zero on an empty batch with a transpose flag; empty products need no kernel.
    const plan =
      a.dtype === 'float32' && b.dtype === 'float32'
        ? planGemm(a.shape, b.shape, attrs.transposeA ?? false, attrs.transposeB ?? false)
        : undefined;
    if (plan != null && (plan.k === 0 || plan.outShape.includes(0))) {
      const out = backend.makeOutput(plan.outShape, 'float32');
      backend.typedArrayFromHeap(out).fill(0);
      return out;
    }

    if (attrs.transposeA || attrs.transposeB) {
      // Transposes cost ~10 ns per element on wasm. Aᵀ·B, A·Bᵀ and Aᵀ·Bᵀ are also the transposes of
      // Bᵀ·A, B·Aᵀ and B·A; take whichever moves fewer elements (MoE's A·Wᵀ with a small buffer A and a
      // large expert matrix W is 2–3× cheaper the second way).
      const size = (x: tf.TensorInfo) => x.shape.reduce((p, d) => p * d, 1);
      const m = attrs.transposeA ? a.shape[a.shape.length - 1] : a.shape[a.shape.length - 2];
      const n = attrs.transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
      const outSize = (size(a) / (a.shape[a.shape.length - 1] * a.shape[a.shape.length - 2])) * m * n;
      const direct = (attrs.transposeA ? size(a) : 0) + (attrs.transposeB ? size(b) : 0);
      const swapped = (attrs.transposeA ? 0 : size(a)) + (attrs.transposeB ? 0 : size(b)) + outSize;
      const temps: tf.TensorInfo[] = [];
      const keep = (t: tf.TensorInfo) => (temps.push(t), t);
      try {
        if (swapped < direct) {
          const left = attrs.transposeB ? b : keep(swapLast(b));
          const right = attrs.transposeA ? a : keep(swapLast(a));
          const product = keep(
            wrapped({ inputs: { a: left, b: right }, backend: args.backend, attrs: flat }),
          );
          return swapLast(product);
        }
        const a2 = attrs.transposeA ? keep(swapLast(a)) : a;
        const b2 = attrs.transposeB ? keep(swapLast(b)) : b;
        return wrapped({ inputs: { a: a2, b: b2 }, backend: args.backend, attrs: flat });
      } finally {
        for (const t of temps) backend.disposeData(t.dataId);
      }
    }

    const batchA = a.shape.slice(0, -2);
    const batchB = b.shape.slice(0, -2);
    const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(batchA, batchB);
    if (!moduloBroadcastIsRight(batchA, outBatch) || !moduloBroadcastIsRight(batchB, outBatch)) {
      const a2 = expandBatch(backend, a, outBatch);
      const b2 = expandBatch(backend, b, outBatch);
      try {
        return wrapped({ inputs: { a: a2, b: b2 }, backend: args.backend, attrs: flat });
      } finally {
        for (const t of [a2, b2]) if (t !== a && t !== b) backend.disposeData(t.dataId);
      }
    }
    const batch = batchA.reduce((x, y) => x * y, 1);
    const sameBatch = batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i]);
    const [m, kDim, n] = [
      a.shape[a.shape.length - 2],
      a.shape[a.shape.length - 1],
      b.shape[b.shape.length - 1],
    ];
    const split =
      sameBatch &&
      a.dtype === 'float32' &&
      b.dtype === 'float32' &&
      batch > 1 &&
      batch <= SPLIT_MAX_BATCH &&
      2 * m * kDim * n >= SPLIT_MIN_FLOPS;
    if (!split) return run(k.matMul, { a, b }, flat);
    const out = backend.makeOutput([...batchA, m, n], 'float32');
    const [sa, sb, so] = [m * kDim, kDim * n, m * n];
    for (let i = 0; i < batch; i++) {
      // Fresh operands every time: the wasm backend caches XNNPACK operators (with packed weights) by the
      // id of the right operand, so refilling one buffer would silently reuse the first entry's weights.
      const ai = backend.makeOutput([1, m, kDim], 'float32');
      const bi = backend.makeOutput([1, kDim, n], 'float32');
      // Views are re-taken after every allocation: growing the wasm heap detaches old ones.
      backend.typedArrayFromHeap(ai).set(backend.typedArrayFromHeap(a).subarray(i * sa, (i + 1) * sa));
      backend.typedArrayFromHeap(bi).set(backend.typedArrayFromHeap(b).subarray(i * sb, (i + 1) * sb));
      const part = run(k.matMul, { a: ai, b: bi }, flat);
      backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(part).subarray(0, so), i * so);
      for (const t of [part, ai, bi]) backend.disposeData(t.dataId);
    }
    return out;
  };
  (wrapped as unknown as Record<symbol, boolean>)[WRAPPED] = true;
  return wrapped as unknown as tf.KernelFunc;
}

/**
 * tfjs' matMul kernels (cpu and wasm) find an operand's batch entry as `i mod batchSize`, which matches NumPy
 * broadcasting only when the operand's batch dims are all 1 or a suffix of the output's ([3] against [2,3]);
 * [2,1]×[1,3] or [3,1]×[2] come out wrong. True when the modulo rule is right for this operand.
 */
function moduloBroadcastIsRight(batch: number[], outBatch: number[]): boolean {
  const padded = [...new Array<number>(outBatch.length - batch.length).fill(1), ...batch];
  const first = padded.findIndex((d) => d !== 1);
  return first < 0 || padded.every((d, i) => i < first || d === outBatch[i]);
}

/** `x` with its batch dims broadcast to `outBatch` (copies of whole matrices), or `x` itself if already so. */
function expandBatch(backend: WasmBackendLike, x: tf.TensorInfo, outBatch: number[]): tf.TensorInfo {
  const batch = x.shape.slice(0, -2);
  const padded = [...new Array<number>(outBatch.length - batch.length).fill(1), ...batch];
  if (padded.every((d, i) => d === outBatch[i])) return x;
  const matrix = x.shape.slice(-2);
  const inner = matrix[0] * matrix[1];
  const out = backend.makeOutput([...outBatch, ...matrix], x.dtype);
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const strides = new Array<number>(padded.length);
  for (let i = padded.length - 1, acc = inner; i >= 0; i--) {
    strides[i] = padded[i] === 1 ? 0 : acc;
    acc *= padded[i];
  }
  const total = outBatch.reduce((p, d) => p * d, 1);
  for (let e = 0; e < total; e++) {
    let rest = e;
    let from = 0;
    for (let i = outBatch.length - 1; i >= 0; i--) {
      from += (rest % outBatch[i]) * strides[i];
      rest = Math.floor(rest / outBatch[i]);
    }
    dst.set(src.subarray(from, from + inner), e * inner);
  }
  return out;
}

const WRAPPED_GATHER = Symbol.for('moevl.wasmGatherV2');

/**
 * tfjs-backend-wasm's `GatherV2` moves ~8 ns per element (35 ms to gather 4096 rows of 256 floats), as slow
 * as a matmul of the same rows; MoE dispatch/combine and embeddings are row gathers. For the common case
 * (axis 0, no batch dims) this copies whole rows with `TypedArray.set`, a memcpy. Out-of-range indices are
 * an error, as on the cpu backend. Other cases go to the original kernel.
 */
function wrapGather(original: tf.KernelConfig): tf.KernelFunc {
  const wrapped = (args: KernelArgs): tf.TensorInfo => {
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = (args.attrs ?? {}) as { axis?: number; batchDims?: number };
    const normAxis = axis == null ? 0 : axis < 0 ? axis + x.shape.length : axis;
    if (normAxis !== 0 || (batchDims ?? 0) !== 0 || x.dtype === 'string' || x.dtype === 'complex64') {
      return original.kernelFunc(args as never) as tf.TensorInfo;
    }
    const backend = args.backend as WasmBackendLike;
    const rows = x.shape[0];
    const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    const ids = backend.typedArrayFromHeap(indices);
    const src = backend.typedArrayFromHeap(x);
    const dst = backend.typedArrayFromHeap(out);
    for (let i = 0; i < ids.length; i++) {
      const r = ids[i];
      if (r < 0 || r >= rows) throw new Error(`GatherV2: index ${r} is not in [0, ${rows - 1}]`);
      // Short rows (top-k gates, 1-D gathers) by element: a subarray per row costs more than the copy.
      if (inner < 16) for (let j = 0; j < inner; j++) dst[i * inner + j] = src[r * inner + j];
      else dst.set(src.subarray(r * inner, (r + 1) * inner), i * inner);
    }
    return out;
  };
  (wrapped as unknown as Record<symbol, boolean>)[WRAPPED_GATHER] = true;
  return wrapped as unknown as tf.KernelFunc;
}

/**
 * Registers the kernels the wasm backend lacks and wraps the slow ones (and replaces the cpu backend's
 * quadratic `UnsortedSegmentSum`; `memory_kernels.ts`: copies, transposes and transposed reductions; `segment_sum_grad.ts`:
 * the dispatch gradient); puts `BatchMatMul` and `_FusedMatMul` on the native BLAS where the
 * addon is built (`matmul_kernels.ts`), the wrapped wasm kernels staying their fallback. Idempotent, and safe
 * to call before `@tensorflow/tfjs-backend-wasm` is loaded (`initBackend` calls it again after loading it).
 * Leaves alone any kernel that a later tfjs version ships.
 */
export function registerWasmKernels(): void {
  const cpuSegmentSum = tf.getKernel('UnsortedSegmentSum', 'cpu');
  if (cpuSegmentSum != null && cpuSegmentSum.kernelFunc !== (unsortedSegmentSumCpu as unknown)) {
    tf.unregisterKernel('UnsortedSegmentSum', 'cpu');
    tf.registerKernel({ ...cpuSegmentSum, kernelFunc: unsortedSegmentSumCpu as unknown as tf.KernelFunc });
  }
  if (tf.getKernel('UnsortedSegmentSum', 'wasm') == null) {
    tf.registerKernel({
      kernelName: 'UnsortedSegmentSum',
      backendName: 'wasm',
      kernelFunc: unsortedSegmentSumWasm as unknown as tf.KernelFunc,
    });
  }
  const get = (name: string) => tf.getKernel(name, 'wasm');
  // The registered matMul kernels may be the native ones: wrap (once) what they fall back to.
  const kernels = {
    matMul: pureWasmKernel('BatchMatMul'),
    transpose: get('Transpose'),
  };
  if (kernels.matMul != null && kernels.transpose != null) {
    const matMul = (kernels.matMul.kernelFunc as unknown as Record<symbol, boolean>)[WRAPPED]
      ? kernels.matMul
      : { ...kernels.matMul, kernelFunc: wrapBatchMatMul(kernels as WasmKernels) };
    const fused = pureWasmKernel('_FusedMatMul');
    installMatMulKernels(matMul, fused == null || isFixedFusedMatMul(fused) ? fused : fixFusedMatMul(fused));
  }
  const gather = get('GatherV2');
  if (gather != null && !(gather.kernelFunc as unknown as Record<symbol, boolean>)[WRAPPED_GATHER]) {
    tf.unregisterKernel('GatherV2', 'wasm');
    tf.registerKernel({ ...gather, kernelFunc: wrapGather(gather) });
  }
  registerMemoryKernels();
  registerSegmentSumGradient();
  registerGeluKernels();
  registerLayerNormKernels();
  registerSoftmaxKernels();
  registerHeadsKernels();
  registerDispatchKernels();
  registerOptimizerKernels();
  patchSavedTensors();
  registerReduceGradients();
}

registerWasmKernels();
