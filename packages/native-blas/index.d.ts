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
  /**
   * The fused non-matmul kernels, same calling convention (byte offsets into `heap`, −1 for an absent optional
   * operand; every operand is bounds-checked). `x` is `[outer, reduce, inner]`, a bias `[outer, inner]`:
   * - `biasGelu`: `[x, bias, y, outer, reduce, inner, tanh]`, y = gelu(x + bias);
   * - `biasGeluGrad`: `[dy, x, bias, dx, dbias, outer, reduce, inner, tanh]`, dbias = Σ_reduce dx;
   * - `layerNorm`: `[x, gamma, beta, y, mean, rstd, rows, d, eps]`;
   * - `layerNormGrad`: `[dy, x, gamma, mean, rstd, dx, dgamma, dbeta, rows, d]`;
   * - `attentionSoftmax`: `[x, bias, y, b, h, t, s, biasB, biasT, scale]`, softmax(scale·x + bias) over s, bias
   *   `[biasB, 1, biasT, s]`; `attentionSoftmaxGrad`: `[dy, y, dx, rows, s, scale]`;
   * - `sumMiddle`: `[x, out, outer, reduce, inner, scale]`, out = scale·Σ_reduce x;
   * - `transpose`: `[x, y, rank, ...shape, ...perm]`, 4-byte elements;
   * - `splitHeads`: `[y, q, k, v, b, t, h, hd, merge]`, packed `[b·t, 3·h·hd]` ↔ heads `[b·h, t, hd]`;
   * - `adamWUpdate`: `[p, m, v, g, pOut, mOut, vOut, n, gradScale, decay, beta1, beta2, stepSize, bc2Sqrt,
   *   eps]`, one AdamW update in float32, bitwise the composed float32 operations;
   * - `sumOfSquares`: `[out, count, ...count × (offset, length)]`, out[0] = Σ x² (float64 sums);
   * - `moveTokens`: `[kind, in, y, expertIndex, position, weights, out, s, k, d, experts, capacity]`, MoE
   *   dispatch (kind 0) and its gradient (1), combine (2) and its gradients for the expert outputs (3) and the
   *   weights (4), as `@moevl/core`'s dispatch kernels define them.
   */
  biasGelu(heap: ArrayBuffer, desc: Float64Array): void;
  biasGeluGrad(heap: ArrayBuffer, desc: Float64Array): void;
  layerNorm(heap: ArrayBuffer, desc: Float64Array): void;
  layerNormGrad(heap: ArrayBuffer, desc: Float64Array): void;
  attentionSoftmax(heap: ArrayBuffer, desc: Float64Array): void;
  attentionSoftmaxGrad(heap: ArrayBuffer, desc: Float64Array): void;
  sumMiddle(heap: ArrayBuffer, desc: Float64Array): void;
  transpose(heap: ArrayBuffer, desc: Float64Array): void;
  splitHeads(heap: ArrayBuffer, desc: Float64Array): void;
  adamWUpdate(heap: ArrayBuffer, desc: Float64Array): void;
  sumOfSquares(heap: ArrayBuffer, desc: Float64Array): void;
  moveTokens(heap: ArrayBuffer, desc: Float64Array): void;
  /**
   * Sets the thread count for products of ≥ 2²² multiply-adds (`MOEVL_THREADED_MACS`; smaller ones run on one thread) and for the
   * fused kernels on large tensors; returns the BLAS' count in effect, 0 if unknown.
   */
  setThreads(n: number): number;
  info(): BlasInfo;
}

export type LoadResult =
  { ok: true; addon: NativeBlasAddon; info: BlasInfo; path: string } | { ok: false; reason: string };

export declare function loadNativeBlas(): LoadResult;
export declare const ACTIVATIONS: Readonly<
  Record<'linear' | 'relu' | 'relu6' | 'leakyrelu' | 'elu' | 'sigmoid', number>
>;
