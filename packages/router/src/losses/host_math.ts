/**
 * Float64 math for the auxiliary losses computed on the host in one op (`importanceLoss`, `loadLoss`): the
 * squared coefficient of variation with its gradient, and the standard normal's survival function and density.
 * These are the closed forms `cvSquared` (@moevl/core) and the composed `erf` spell out with tfjs ops.
 */

/** The float32 ε `cvSquared` adds to mean² (it makes `tf.scalar(1e-10)`). */
const CV_EPS = Math.fround(1e-10);

/** CV²(x) = var(x) / (mean(x)² + ε) (population variance) and ∂CV²/∂x. */
export function cvSquaredWithGrad(x: Float64Array): { value: number; grad: Float64Array } {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i];
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (x[i] - mean) ** 2;
  variance /= n;
  const denom = mean * mean + CV_EPS;
  const grad = new Float64Array(n);
  // ∂var/∂x_i = 2(x_i − mean)/n (the Σ(x − mean) term vanishes), ∂mean/∂x_i = 1/n.
  for (let i = 0; i < n; i++)
    grad[i] = (2 / n) * ((x[i] - mean) / denom - (variance * mean) / (denom * denom));
  return { value: variance / denom, grad };
}

/**
 * erfc(x) by the Chebyshev-fitted exponential of Press et al., Numerical Recipes (2nd ed., §6.2, `erfcc`):
 * relative error below 1.2·10⁻⁷ everywhere (float32's resolution; tfjs' `Erf` kernels are float32 too), one
 * `exp` per call, which matters here: the load loss evaluates it for every token and expert.
 */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

/** P(N(0, 1) > z) = erfc(z/√2)/2. */
export function normalSurvival(z: number): number {
  return 0.5 * erfc(z * Math.SQRT1_2);
}

/** The standard normal density φ(z). */
export function normalDensity(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}
