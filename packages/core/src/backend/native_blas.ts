import { platform } from '#platform';

/**
 * The optional native GEMM (`@moevl/native-blas`, an N-API addon over the system CBLAS, built at install
 * where a compiler and OpenBLAS/Accelerate exist). Loading never throws: a missing or broken addon is a
 * reason in the backend report, and the wasm kernels run instead.
 */

/** The addon's surface, as `@moevl/native-blas` declares it (kept here so core needs no type dependency). */
export interface NativeBlasAddon {
  gemm(heap: ArrayBuffer, desc: Float64Array): void;
  /** Fused bias + GELU forward and backward (absent from addons built before they existed). */
  biasGelu?(heap: ArrayBuffer, desc: Float64Array): void;
  biasGeluGrad?(heap: ArrayBuffer, desc: Float64Array): void;
  /** Fused LayerNorm forward and backward (likewise optional). */
  layerNorm?(heap: ArrayBuffer, desc: Float64Array): void;
  layerNormGrad?(heap: ArrayBuffer, desc: Float64Array): void;
  /** float32 sums over a middle block of axes (likewise optional). */
  sumMiddle?(heap: ArrayBuffer, desc: Float64Array): void;
  /** Attention softmax with an additive mask, forward and backward (likewise optional). */
  attentionSoftmax?(heap: ArrayBuffer, desc: Float64Array): void;
  attentionSoftmaxGrad?(heap: ArrayBuffer, desc: Float64Array): void;
  /** Axis permutation of 4-byte elements (likewise optional). */
  transpose?(heap: ArrayBuffer, desc: Float64Array): void;
  /** Attention's packed q/k/v to heads and back (likewise optional). */
  splitHeads?(heap: ArrayBuffer, desc: Float64Array): void;
  /** The fused AdamW update and the sum of squares of many tensors (likewise optional). */
  adamWUpdate?(heap: ArrayBuffer, desc: Float64Array): void;
  sumOfSquares?(heap: ArrayBuffer, desc: Float64Array): void;
  /** MoE dispatch/combine and their gradients (likewise optional). */
  moveTokens?(heap: ArrayBuffer, desc: Float64Array): void;
  setThreads(n: number): number;
  info(): { blas: string; version: string; config: string; core: string };
}

export type NativeBlasState =
  | {
      ok: true;
      addon: NativeBlasAddon;
      /** `OpenBLAS`, `Accelerate` or `CBLAS`. */
      blas: string;
      version: string;
      /** The CPU kernel the BLAS picked (OpenBLAS: `SkylakeX`, `Haswell`, …), '' if it does not say. */
      core: string;
      /** BLAS threads in effect (0: the BLAS has no knob we can set). */
      threads: number;
      /** Where the thread count came from. */
      threadsFrom: string;
    }
  | { ok: false; reason: string };

const PACKAGE = '@moevl/native-blas';
let state: NativeBlasState | undefined;

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

/** `MOEVL_THREADS` when it is a positive integer, else the core count. */
function threadCount(): { n: number; from: string } {
  const env = platform.env('MOEVL_THREADS');
  if (env != null && env !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n > 0) return { n, from: 'MOEVL_THREADS' };
    return {
      n: platform.cores(),
      from: `core count; MOEVL_THREADS="${env}" is not a positive integer`,
    };
  }
  return { n: platform.cores(), from: 'core count' };
}

function load(): NativeBlasState {
  if (platform.env('MOEVL_NATIVE') === '0') return { ok: false, reason: 'disabled by MOEVL_NATIVE=0' };
  if (platform.requirePackage == null) {
    return { ok: false, reason: `no native addon on the ${platform.name} platform (the wasm kernels run)` };
  }
  let pkg: { loadNativeBlas(): { ok: boolean; addon?: NativeBlasAddon; reason?: string } };
  try {
    pkg = platform.requirePackage(PACKAGE) as typeof pkg;
  } catch (err) {
    const code = (err as { code?: string } | null)?.code;
    return {
      ok: false,
      reason:
        code === 'MODULE_NOT_FOUND'
          ? `native addon not installed (${PACKAGE}, an optional dependency)`
          : `native addon failed to load: ${firstLine(err)}`,
    };
  }
  try {
    const r = pkg.loadNativeBlas();
    if (!r.ok || r.addon == null) return { ok: false, reason: `native addon ${r.reason ?? 'not available'}` };
    const info = r.addon.info();
    const { n, from } = threadCount();
    const threads = r.addon.setThreads(n);
    return { ok: true, addon: r.addon, ...info, threads, threadsFrom: from };
  } catch (err) {
    return { ok: false, reason: `native addon failed to start: ${firstLine(err)}` };
  }
}

/** Loads the addon once (sync: kernels are registered at import) and says whether it can run. */
export function nativeBlas(): NativeBlasState {
  state ??= load();
  return state;
}

/** `native OpenBLAS 0.3.21 (2 threads)`. */
export function describeNativeBlas(s: Extract<NativeBlasState, { ok: true }>): string {
  const lib = [s.blas, s.version].filter((x) => x !== '').join(' ');
  const threads = s.threads > 0 ? ` (${s.threads} thread${s.threads === 1 ? '' : 's'})` : '';
  return `native ${lib}${threads}`;
}
