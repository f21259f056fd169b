import * as tf from '@tensorflow/tfjs';

// Test helpers for the matMul kernels (not exported from the package): float64 references with NumPy
// broadcasting, so both the native and the pure-wasm path are held to the same ground truth.

export interface MatMulCase {
  name: string;
  aShape: number[];
  bShape: number[];
  transposeA: boolean;
  transposeB: boolean;
}

export function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 0.37 + seed) + 0.25 * Math.cos(i * 0.011 * seed);
  return out;
}

/** Cases for `batchA × m × k` by `batchB × k × n`, in the four transpose combinations. */
export function transposeCases(
  name: string,
  batchA: number[],
  batchB: number[],
  m: number,
  k: number,
  n: number,
): MatMulCase[] {
  const out: MatMulCase[] = [];
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) {
      out.push({
        name: `${name} ${transposeA ? 'Aᵀ' : 'A'}·${transposeB ? 'Bᵀ' : 'B'}`,
        aShape: [...batchA, ...(transposeA ? [k, m] : [m, k])],
        bShape: [...batchB, ...(transposeB ? [n, k] : [k, n])],
        transposeA,
        transposeB,
      });
    }
  }
  return out;
}

/** `matMul` in float64 with NumPy broadcasting of the batch dims. */
export function referenceMatMul(
  a: Float32Array,
  aShape: number[],
  b: Float32Array,
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
): { values: Float64Array; shape: number[] } {
  const ra = aShape.length;
  const rb = bShape.length;
  const m = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const k = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  const n = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  const batchA = aShape.slice(0, -2);
  const batchB = bShape.slice(0, -2);
  const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(batchA, batchB);
  const pad = (s: number[]) => [...new Array<number>(outBatch.length - s.length).fill(1), ...s];
  const pa = pad(batchA);
  const pb = pad(batchB);
  const total = outBatch.reduce((x, y) => x * y, 1);
  const out = new Float64Array(total * m * n);
  for (let e = 0; e < total; e++) {
    let rest = e;
    let ea = 0;
    let eb = 0;
    let sa = 1;
    let sb = 1;
    for (let i = outBatch.length - 1; i >= 0; i--) {
      const idx = rest % outBatch[i];
      rest = Math.floor(rest / outBatch[i]);
      ea += (pa[i] === 1 ? 0 : idx) * sa;
      eb += (pb[i] === 1 ? 0 : idx) * sb;
      sa *= pa[i];
      sb *= pb[i];
    }
    const A = ea * m * k;
    const B = eb * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const x = transposeA ? a[A + p * m + i] : a[A + i * k + p];
          const y = transposeB ? b[B + j * k + p] : b[B + p * n + j];
          s += x * y;
        }
        out[e * m * n + i * n + j] = s;
      }
    }
  }
  return { values: out, shape: [...outBatch, m, n] };
}

/** Adds a rank-1 bias (size 1 or n) and applies a tfjs fused activation, in float64, in place. */
export function referenceBiasActivation(
  y: Float64Array,
  n: number,
  bias: Float32Array | null,
  activation: string,
  alpha = 0.2,
  prelu: Float32Array | null = null,
): Float64Array {
  for (let i = 0; i < y.length; i++) {
    let v = y[i] + (bias == null ? 0 : bias[bias.length === 1 ? 0 : i % n]);
    if (activation === 'relu') v = Math.max(v, 0);
    else if (activation === 'relu6') v = Math.min(Math.max(v, 0), 6);
    else if (activation === 'leakyrelu') v = v < 0 ? alpha * v : v;
    else if (activation === 'elu') v = v < 0 ? Math.expm1(v) : v;
    else if (activation === 'sigmoid') v = 1 / (1 + Math.exp(-v));
    else if (activation === 'prelu' && prelu != null) v = v < 0 ? prelu[i % prelu.length] * v : v;
    y[i] = v;
  }
  return y;
}

/** max |x − ref| / max |ref|: the error relative to the output's scale (1 when ref is all zeros). */
export function relativeError(x: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (x.length !== ref.length) return Infinity;
  let err = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    err = Math.max(err, Math.abs(x[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return err === 0 ? 0 : err / (scale === 0 ? 1 : scale);
}
