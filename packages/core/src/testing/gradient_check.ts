import * as tf from '@tensorflow/tfjs';

export interface GradientCheckOptions {
  /** Central-difference step. Float32 rounding error grows as 1/eps, truncation error as eps². */
  eps?: number;
  /** Seed for the random projection of the output (so a tensor-valued op becomes a scalar). */
  seed?: number;
}

export interface GradientCheckResult {
  /** ‖analytic − numeric‖₂ / max(‖analytic‖₂, ‖numeric‖₂) per input. */
  relativeErrors: number[];
  maxRelativeError: number;
  analytic: Float64Array[];
  numeric: Float64Array[];
}

function projection(n: number, seed: number): Float64Array {
  // A fixed pseudo-random projection (LCG) so every component of the output is exercised with a
  // different weight; uniform weights would hide errors that cancel under a plain sum.
  const w = new Float64Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    w[i] = (s / 2 ** 32) * 2 - 1;
  }
  return w;
}

function projectedValue(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], w: Float64Array): number {
  const y = tf.tidy(() => f(...xs));
  const values = y.dataSync();
  y.dispose();
  let acc = 0;
  for (let i = 0; i < values.length; i++) acc += values[i] * w[i];
  return acc;
}

/**
 * Compares the gradient tfjs computes for `f` with central finite differences, input by input.
 * Integer inputs (indices) are held fixed. The output is projected onto fixed random weights, so every
 * output element contributes; the projection is summed in float64 to keep rounding out of the check.
 */
export function checkGradients(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  xs: tf.Tensor[],
  options: GradientCheckOptions = {},
): GradientCheckResult {
  const eps = options.eps ?? 1e-2;
  const probe = tf.tidy(() => f(...xs));
  const outSize = probe.size;
  probe.dispose();
  const w = projection(outSize, options.seed ?? 7);
  const differentiable = xs.map((x) => x.dtype === 'float32');

  const analytic: Float64Array[] = xs.map((x) => new Float64Array(x.size));
  tf.tidy(() => {
    const wt = tf.tensor(Array.from(w), undefined, 'float32');
    const scalar = (...args: tf.Tensor[]) => tf.sum(tf.mul(tf.reshape(f(...args), [-1]), wt));
    const idx = xs.map((_, i) => i).filter((i) => differentiable[i]);
    const g = tf.grads((...vars: tf.Tensor[]) => {
      const full = xs.slice();
      idx.forEach((i, j) => (full[i] = vars[j]));
      return scalar(...full);
    })(idx.map((i) => xs[i]));
    idx.forEach((i, j) => analytic[i].set(g[j].dataSync()));
  });

  const numeric: Float64Array[] = xs.map((x, i) => {
    const out = new Float64Array(x.size);
    if (!differentiable[i]) return out;
    const base = x.dataSync().slice() as Float32Array;
    for (let k = 0; k < base.length; k++) {
      const plus = base.slice();
      const minus = base.slice();
      plus[k] += eps;
      minus[k] -= eps;
      const xp = tf.tensor(plus, x.shape, 'float32');
      const xm = tf.tensor(minus, x.shape, 'float32');
      // The step actually taken in float32 can differ from eps; divide by what was taken.
      const h = plus[k] - minus[k];
      const fp = projectedValue(
        f,
        xs.map((v, j) => (j === i ? xp : v)),
        w,
      );
      const fm = projectedValue(
        f,
        xs.map((v, j) => (j === i ? xm : v)),
        w,
      );
      xp.dispose();
      xm.dispose();
      out[k] = (fp - fm) / h;
    }
    return out;
  });

  const relativeErrors = xs.map((_, i) => {
    if (!differentiable[i]) return 0;
    let diff = 0;
    let na = 0;
    let nn = 0;
    for (let k = 0; k < analytic[i].length; k++) {
      diff += (analytic[i][k] - numeric[i][k]) ** 2;
      na += analytic[i][k] ** 2;
      nn += numeric[i][k] ** 2;
    }
    const denom = Math.max(Math.sqrt(na), Math.sqrt(nn));
    return denom === 0 ? 0 : Math.sqrt(diff) / denom;
  });
  return { relativeErrors, maxRelativeError: Math.max(0, ...relativeErrors), analytic, numeric };
}
