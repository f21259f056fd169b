/** What the linked BLAS says about itself. */
export interface BlasInfo {
  /** `OpenBLAS`, `Accelerate` or `CBLAS`. */
  blas: string;
  /** Library version where the BLAS reports one (OpenBLAS: `0.3.21`), else ''. */
  version: string;
  /** OpenBLAS' build configuration string (kernel, threading), or a description. */
  config: string;
  /** The CPU kernel OpenBLAS picked at run time (e.g. `SkylakeX`), else ''. */
  core: string;
}

/**
 * The addon's functions. `gemm(heap, desc)` computes, for every output batch entry,
 * `C = act(op(A) · op(B) + bias)` on float32 data inside `heap`. `desc` (Float64Array) holds:
 * `[aOffset, bOffset, cOffset, m, n, k, transA, transB, biasOffset (-1: none), biasLength (1 or n),
 * activation (ACTIVATIONS), leakyreluAlpha, rank, ...rank × (outDim, aStride, bStride)]`, offsets in bytes,
 * strides in elements (0 broadcasts). C is dense, batch-major. Throws if any operand lies outside `heap`.
 */
export interface NativeBlasAddon {
  gemm(heap: ArrayBuffer, desc: Float64Array): void;
  /** Sets the BLAS thread count (where the BLAS has one) and returns the count in effect, 0 if unknown. */
  setThreads(n: number): number;
  info(): BlasInfo;
}

export type LoadResult =
  { ok: true; addon: NativeBlasAddon; info: BlasInfo; path: string } | { ok: false; reason: string };

export declare function loadNativeBlas(): LoadResult;
export declare const ACTIVATIONS: Readonly<
  Record<'linear' | 'relu' | 'relu6' | 'leakyrelu' | 'elu' | 'sigmoid', number>
>;
