import * as tf from '@tensorflow/tfjs';

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

function unsortedSegmentSumWasm(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (args.attrs as { numSegments: number }).numSegments;
  const backend = args.backend as WasmBackendLike;
  const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
  const xSize = x.shape.reduce((a, b) => a * b, 1);
  const inner = rows === 0 ? 0 : xSize / rows;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = backend.makeOutput(outShape, x.dtype);
  const outValues = backend.typedArrayFromHeap(out);
  outValues.fill(0);
  const xValues = backend.readSync(x.dataId) as Float32Array | Int32Array;
  const ids = backend.readSync(segmentIds.dataId) as Int32Array;
  for (let r = 0; r < rows; r++) {
    const s = ids[r];
    // TensorFlow drops rows whose segment id is negative or out of range; match it.
    if (s < 0 || s >= numSegments) continue;
    const src = r * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) outValues[dst + j] += xValues[src + j];
  }
  return out;
}

let registered = false;

/** Registers the kernels the wasm backend lacks. Idempotent; leaves alone any kernel tfjs later ships. */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  if (tf.getKernel('UnsortedSegmentSum', 'wasm') == null) {
    tf.registerKernel({
      kernelName: 'UnsortedSegmentSum',
      backendName: 'wasm',
      kernelFunc: unsortedSegmentSumWasm as unknown as tf.KernelFunc,
    });
  }
}

registerWasmKernels();
