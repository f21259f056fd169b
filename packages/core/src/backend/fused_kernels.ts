import * as tf from '@tensorflow/tfjs';
import { type NativeBlasAddon, nativeBlas } from './native_blas.js';
import { nativeKernelsWanted } from './matmul_kernels.js';

/**
 * What the fused kernels (`gelu_kernels.ts`, `layer_norm_kernels.ts`) share: each is registered for wasm and
 * cpu as JavaScript over the tensors' memory (the wasm heap in place, cpu's arrays), and on wasm runs the
 * native addon's version instead when it is built and native kernels are wanted (`useNativeMatMul`).
 */

export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

interface CpuBackendLike {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.backend_util.BackendValues): tf.TensorInfo;
}

/** float32 arrays by input name, and outputs to fill: what a JavaScript kernel body sees. */
export type Floats = Float32Array;

/**
 * A fused kernel: `outputs(inputs)` gives the output shapes; `js` computes them from input arrays;
 * `native` (optional) makes the addon call from heap byte offsets (−1 for an absent optional tensor).
 */
export interface FusedKernel {
  name: string;
  outputs(inputs: Record<string, tf.TensorInfo | undefined>, attrs: tf.NamedAttrMap): number[][];
  js(inputs: Record<string, Floats | null>, outputs: Floats[], args: KernelArgs): void;
  native?(
    addon: NativeBlasAddon,
    heap: ArrayBuffer,
    offsets: Record<string, number>,
    out: number[],
    args: KernelArgs,
  ): boolean;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
// tfjs' runKernel returns a tensor for a kernel that returns one TensorInfo, an array for an array.
const single = (outs: tf.TensorInfo[]) => (outs.length === 1 ? outs[0] : outs);

function wasmKernel(k: FusedKernel) {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const backend = args.backend as WasmBackendLike;
    const inputs = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const outs = k.outputs(inputs, args.attrs ?? {}).map((s) => backend.makeOutput(s, 'float32'));
    const native = k.native != null && nativeKernelsWanted() ? nativeBlas() : undefined;
    if (native?.ok) {
      const at = (t: tf.TensorInfo | undefined) =>
        t == null ? -1 : backend.dataIdMap.get(t.dataId)!.memoryOffset;
      const offsets = Object.fromEntries(Object.entries(inputs).map(([n, t]) => [n, at(t)]));
      // The heap's buffer is read after every output was allocated: growing the heap replaces it.
      const heap = backend.wasm.HEAPU8.buffer as ArrayBuffer;
      if (k.native!(native.addon, heap, offsets, outs.map(at), args)) return single(outs);
    }
    const views = Object.fromEntries(
      Object.entries(inputs).map(([n, t]) => [
        n,
        t == null ? null : (backend.typedArrayFromHeap(t) as Floats),
      ]),
    );
    k.js(
      views,
      outs.map((t) => backend.typedArrayFromHeap(t) as Floats),
      args,
    );
    return single(outs);
  };
}

function cpuKernel(k: FusedKernel) {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const backend = args.backend as CpuBackendLike;
    const inputs = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const shapes = k.outputs(inputs, args.attrs ?? {});
    const outs = shapes.map((s) => new Float32Array(size(s)));
    const views = Object.fromEntries(
      Object.entries(inputs).map(([n, t]) => [n, t == null ? null : (backend.readSync(t.dataId) as Floats)]),
    );
    k.js(views, outs, args);
    return single(outs.map((v, i) => backend.makeTensorInfo(shapes[i], 'float32', v)));
  };
}

/** Registers `k` for wasm and cpu (once; safe before either backend is loaded). */
export function registerFusedKernel(k: FusedKernel): void {
  for (const [backendName, make] of [
    ['wasm', wasmKernel],
    ['cpu', cpuKernel],
  ] as const) {
    if (tf.getKernel(k.name, backendName) != null) continue;
    tf.registerKernel({ kernelName: k.name, backendName, kernelFunc: make(k) as unknown as tf.KernelFunc });
  }
}

/** Whether the native addon runs the fused kernels on wasm now (built, loaded and wanted). */
export function nativeKernelsActive(): boolean {
  return nativeKernelsWanted() && nativeBlas().ok;
}

/**
 * Whether ops should run the fused kernels `names` on the active backend: where they are registered, and on wasm
 * only when the native addon runs them (with the addon functions `needs`) — there a JavaScript loop loses to
 * wasm's own C++ kernels, so the op composes those instead.
 */
export function fusedKernelsWanted(names: string[], needs: Array<keyof NativeBlasAddon> = []): boolean {
  if (!names.every(hasKernel)) return false;
  if (tf.getBackend() !== 'wasm') return true;
  const native = nativeBlas();
  return nativeKernelsActive() && native.ok && needs.every((f) => native.addon[f] != null);
}

/** Whether the active backend runs kernel `name` (else the op composes tfjs ops). */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) != null;
}

/** Reusable descriptor for addon calls (the addon reads it synchronously). */
export const nativeDesc = new Float64Array(16);
