import * as tf from '@tensorflow/tfjs';
import { nativeKernelsWanted } from './matmul_kernels.js';
import { nativeBlas } from './native_blas.js';

/**
 * Memory kernels of tfjs-backend-wasm 4.22 that cost a training step far more than their work:
 *
 * - `Identity` copies its input, and tfjs clones (runs `Identity` on) every tensor a gradient saves for the
 *   backward pass: ~900 copies, 700 MB, per step of the shipped LIMoE model. The cpu backend shares the data
 *   (a reference count), which is what this does: tensor data is never written in place.
 * - `Cast` to the dtype a tensor already has copies it too; it shares the data instead.
 * - `Sum` and `Mean` over axes that are not the innermost ones transpose the input first (bias gradients
 *   `[B·T, D] → [D]`, LayerNorm gains `[B, T, D] → [D]`, per-expert biases `[E, C, H] → [E, 1, H]`): 3.5 ms
 *   for a `[128, 40, 128]` gain gradient against 0.3 ms for the same data reduced over its last axis. Here a
 *   reduced block of contiguous axes `[O, R, I] → [O, I]` is summed row by row (in float64) on the heap, by
 *   the native addon where it is built and wanted, else in JavaScript.
 * - `Slice` reads its whole input out of the heap (a copy to JavaScript) before slicing it: 4 ms for LIMoE's
 *   image/text split of a `[128, 40, 128]` tower; `SplitV` (the gradient of `concat`) does so once per piece.
 *   Here outputs are copied from the heap in place, in runs as long as the slice's trailing whole axes allow.
 * - `Tile` (also what `broadcastTo` runs) moves one element at a time: ~1 ms to broadcast a `[1, 1, 128]` token
 *   to `[128, 1, 128]`. Here the input's innermost runs are copied once and each tiled block is then doubled in
 *   place (`copyWithin`).
 * - Binary kernels outside XNNPACK (comparisons, logical ops, maximum/minimum, squared difference, int32
 *   arithmetic) broadcast through a generic index loop: 2.4 ms for that `[128, 1] == [1, 128]` mask against
 *   0.2 ms for the same comparison of two `[128, 128]` tensors. Here broadcast inputs are tiled to the output
 *   shape first (the `Tile` above), then the kernel runs without broadcasting.
 * - `Transpose` of 4-byte elements runs on the native addon where it is built (a memcpy per run when the last
 *   axis stays last, as in attention's head moves: wasm's kernel moves one element at a time); else wasm's.
 */

interface WasmHeapBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  incRef(dataId: tf.DataId): void;
  disposeData(dataId: tf.DataId): boolean;
}

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

const MARK = Symbol.for('moevl.wasmReduceKernel');
const desc = new Float64Array(6);

function shared(backend: WasmHeapBackend, x: tf.TensorInfo, dtype = x.dtype): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype };
}

function identity(original: tf.KernelConfig) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return original.kernelFunc(args as never) as tf.TensorInfo;
    return shared(args.backend as WasmHeapBackend, x);
  };
}

function cast(original: tf.KernelConfig) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { dtype } = (args.attrs ?? {}) as { dtype: tf.DataType };
    if (dtype !== x.dtype || x.dtype === 'string' || x.dtype === 'complex64') {
      return original.kernelFunc(args as never) as tf.TensorInfo;
    }
    return shared(args.backend as WasmHeapBackend, x);
  };
}

/**
 * `[outer, reduce, inner]` when the reduced axes of `shape` are one contiguous block followed by at least one
 * kept axis (the case tfjs-wasm transposes for); undefined otherwise (innermost axes run wasm's own kernel).
 */
export function reduceLayout(
  shape: number[],
  axis: number | number[] | undefined,
): { outer: number; reduce: number; inner: number; axes: number[] } | undefined {
  const axes = [...new Set(tf.util.parseAxisParam(axis ?? (null as unknown as number), shape))].sort(
    (a, b) => a - b,
  );
  if (axes.length === 0) return undefined;
  const first = axes[0];
  const last = axes[axes.length - 1];
  if (last - first + 1 !== axes.length || last === shape.length - 1) return undefined;
  const prod = (a: number, b: number) => shape.slice(a, b).reduce((x, y) => x * y, 1);
  return { outer: prod(0, first), reduce: prod(first, last + 1), inner: prod(last + 1, shape.length), axes };
}

/** out[o, i] = scale · Σ_r x[o, r, i], four rows per pass (half the accumulator traffic). */
export function sumMiddle(
  x: ArrayLike<number>,
  out: { [i: number]: number; length: number },
  outer: number,
  reduce: number,
  inner: number,
  scale: number,
): void {
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    const base = o * reduce * inner;
    let r = 0;
    for (; r + 4 <= reduce; r += 4) {
      const a = base + r * inner;
      const b = a + inner;
      const c = b + inner;
      const d = c + inner;
      for (let i = 0; i < inner; i++) acc[i] += x[a + i] + x[b + i] + x[c + i] + x[d + i];
    }
    for (; r < reduce; r++) {
      const a = base + r * inner;
      for (let i = 0; i < inner; i++) acc[i] += x[a + i];
    }
    const dst = o * inner;
    for (let i = 0; i < inner; i++) out[dst + i] = acc[i] * scale;
  }
}

function reduction(original: tf.KernelConfig, mean: boolean) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = (args.attrs ?? {}) as { axis: number | number[]; keepDims: boolean };
    const layout =
      x.dtype === 'float32' || (x.dtype === 'int32' && !mean) ? reduceLayout(x.shape, axis) : undefined;
    if (layout == null || layout.reduce === 0) return original.kernelFunc(args as never) as tf.TensorInfo;
    const backend = args.backend as WasmHeapBackend;
    const outShape = keepDims
      ? x.shape.map((d, i) => (layout.axes.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !layout.axes.includes(i));
    const out = backend.makeOutput(outShape, x.dtype);
    const scale = mean ? 1 / layout.reduce : 1;
    const native = x.dtype === 'float32' && nativeKernelsWanted() ? nativeBlas() : undefined;
    if (native?.ok && native.addon.sumMiddle != null) {
      const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
      desc.set([at(x), at(out), layout.outer, layout.reduce, layout.inner, scale]);
      native.addon.sumMiddle(backend.wasm.HEAPU8.buffer as ArrayBuffer, desc);
      return out;
    }
    // Views taken after the allocation: growing the heap detaches older ones.
    const src = backend.typedArrayFromHeap(x);
    const dst = backend.typedArrayFromHeap(out);
    sumMiddle(src, dst, layout.outer, layout.reduce, layout.inner, scale);
    return out;
  };
}

const transposeDesc = new Float64Array(3 + 16);

function transpose(original: tf.KernelConfig) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { perm } = (args.attrs ?? {}) as { perm: number[] };
    const native = nativeKernelsWanted() ? nativeBlas() : undefined;
    const fourBytes = x.dtype === 'float32' || x.dtype === 'int32';
    if (!native?.ok || native.addon.transpose == null || !fourBytes || x.shape.length > 8) {
      return original.kernelFunc(args as never) as tf.TensorInfo;
    }
    const backend = args.backend as WasmHeapBackend;
    const out = backend.makeOutput(
      perm.map((p) => x.shape[p]),
      x.dtype,
    );
    const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    const r = x.shape.length;
    transposeDesc.set([at(x), at(out), r, ...x.shape, ...perm]);
    native.addon.transpose(backend.wasm.HEAPU8.buffer as ArrayBuffer, transposeDesc);
    return out;
  };
}

/** x[begin : begin + size] copied on the heap, in runs as long as the trailing whole axes allow. */
function sliceOnHeap(
  backend: WasmHeapBackend,
  x: tf.TensorInfo,
  begin: number[],
  size: number[],
): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const n = size.reduce((a, b) => a * b, 1);
  if (n === 0) return out;
  // Views taken after the allocation: growing the heap detaches older ones.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length; // ≥ 1: tf.slice refuses scalars
  const strides = [...tf.util.computeStrides(x.shape), 1];
  // One contiguous run covers axis `lead` and every later axis, which the slice takes whole.
  let lead = rank - 1;
  let run = size[lead];
  while (lead > 0 && size[lead] === x.shape[lead]) run *= size[--lead];
  let from = begin.reduce((acc, b, a) => acc + b * strides[a], 0);
  const index = new Array<number>(lead).fill(0);
  for (let at = 0; at < n; at += run) {
    if (run < 16) for (let j = 0; j < run; j++) dst[at + j] = src[from + j];
    else dst.set(src.subarray(from, from + run), at);
    for (let a = lead - 1; a >= 0; a--) {
      if (++index[a] < size[a]) {
        from += strides[a];
        break;
      }
      index[a] = 0;
      from -= (size[a] - 1) * strides[a];
    }
  }
  return out;
}

const onHeap = (x: tf.TensorInfo) => x.dtype !== 'string' && x.dtype !== 'complex64';

/** Output blocks: `dst` holds `times` copies of its first `len` elements from `at` on (doubling copies). */
function repeatBlock(
  dst: Float32Array | Int32Array | Uint8Array,
  at: number,
  len: number,
  times: number,
): void {
  for (let have = 1; have < times;) {
    const n = Math.min(have, times - have);
    dst.copyWithin(at + have * len, at, at + n * len);
    have += n;
  }
}

/** `tile(x, reps)` on the heap: out[i] = x[i mod shape] along every axis. */
function tileOnHeap(backend: WasmHeapBackend, x: tf.TensorInfo, reps: number[]): tf.TensorInfo {
  const shape = x.shape;
  const outShape = shape.map((d, i) => d * reps[i]);
  const out = backend.makeOutput(outShape, x.dtype);
  if (outShape.some((d) => d === 0)) return out;
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = shape.length;
  const outStrides = [...tf.util.computeStrides(outShape), 1];
  const inStrides = [...tf.util.computeStrides(shape), 1];
  const fill = (axis: number, from: number, at: number): void => {
    if (axis === rank - 1) {
      const n = shape[axis];
      if (n < 16) for (let j = 0; j < n; j++) dst[at + j] = src[from + j];
      else dst.set(src.subarray(from, from + n), at);
    } else {
      for (let i = 0; i < shape[axis]; i++)
        fill(axis + 1, from + i * inStrides[axis], at + i * outStrides[axis]);
    }
    repeatBlock(dst, at, shape[axis] * outStrides[axis], reps[axis]);
  };
  if (rank === 0) dst[0] = src[0];
  else fill(0, 0, 0);
  return out;
}

/** A binary kernel whose broadcast inputs are tiled to the output shape first (same values, no index loop). */
function broadcastByTile(original: tf.KernelConfig, floatsToo: boolean) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const same = tf.util.arraysEqual(a.shape, b.shape);
    if (same || !onHeap(a) || !onHeap(b) || (!floatsToo && a.dtype === 'float32')) {
      return original.kernelFunc(args as never) as tf.TensorInfo;
    }
    const backend = args.backend as WasmHeapBackend;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const temps: tf.TensorInfo[] = [];
    const full = (x: tf.TensorInfo): tf.TensorInfo => {
      if (tf.util.arraysEqual(x.shape, outShape)) return x;
      const padded = [...new Array<number>(outShape.length - x.shape.length).fill(1), ...x.shape];
      const t = tileOnHeap(
        backend,
        { ...x, shape: padded },
        outShape.map((d, i) => d / padded[i]),
      );
      temps.push(t);
      return t;
    };
    const inputs = { a: full(a), b: full(b) };
    try {
      return original.kernelFunc({ ...args, inputs } as never) as tf.TensorInfo;
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
}

const BROADCAST_BY_TILE: Record<string, boolean> = {
  Equal: true,
  NotEqual: true,
  Greater: true,
  GreaterEqual: true,
  Less: true,
  LessEqual: true,
  LogicalAnd: true,
  LogicalOr: true,
  Maximum: true,
  Minimum: true,
  SquaredDifference: true,
  // Float32 sums, differences and products broadcast in XNNPACK, which is fast; int32 ones do not.
  Add: false,
  Sub: false,
  Multiply: false,
};

function tile(original: tf.KernelConfig) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { reps } = (args.attrs ?? {}) as unknown as { reps: number[] };
    if (!onHeap(x) || reps.length !== x.shape.length)
      return original.kernelFunc(args as never) as tf.TensorInfo;
    return tileOnHeap(args.backend as WasmHeapBackend, x, reps);
  };
}

function slice(original: tf.KernelConfig) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (!onHeap(x)) return original.kernelFunc(args as never) as tf.TensorInfo;
    const attrs = (args.attrs ?? {}) as unknown as { begin: number | number[]; size?: number | number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
    return sliceOnHeap(args.backend as WasmHeapBackend, x, begin, size);
  };
}

/** `SplitV` (the gradient of every `concat`): wasm's runs its internal `Slice` per piece, copying x each time. */
function splitV(original: tf.KernelConfig) {
  return (args: KernelArgs): tf.TensorInfo[] => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (!onHeap(x)) return original.kernelFunc(args as never) as unknown as tf.TensorInfo[];
    const attrs = (args.attrs ?? {}) as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits, axis);
    const begin = x.shape.map(() => 0);
    return sizes.map((s) => {
      const size = x.shape.slice();
      size[axis] = s;
      const out = sliceOnHeap(args.backend as WasmHeapBackend, x, begin.slice(), size);
      begin[axis] += s;
      return out;
    });
  };
}

const WRAPPERS: Record<
  string,
  (original: tf.KernelConfig) => (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]
> = {
  Identity: identity,
  Cast: cast,
  Sum: (o) => reduction(o, false),
  Mean: (o) => reduction(o, true),
  Transpose: transpose,
  Slice: slice,
  SplitV: splitV,
  Tile: tile,
  ...Object.fromEntries(
    Object.entries(BROADCAST_BY_TILE).map(([name, floatsToo]) => [
      name,
      (o: tf.KernelConfig) => broadcastByTile(o, floatsToo),
    ]),
  ),
};

/** Wraps the wasm kernels above (once; a later call is a no-op). */
export function registerMemoryKernels(): void {
  for (const [name, wrap] of Object.entries(WRAPPERS)) {
    const cfg = tf.getKernel(name, 'wasm');
    if (cfg == null || (cfg.kernelFunc as unknown as Record<symbol, boolean>)[MARK]) continue;
    const fn = wrap(cfg) as unknown as tf.KernelFunc;
    (fn as unknown as Record<symbol, boolean>)[MARK] = true;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...cfg, kernelFunc: fn });
  }
}
