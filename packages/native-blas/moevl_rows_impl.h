// The per-row loops of moevl_kernels.cc, included once per instruction set (AVX-512, AVX2+FMA, baseline)
// inside its own namespace; moevl_kernels.cc picks one at load time by what the CPU supports.
// NOLINT(build/header_guard): included several times on purpose.

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;
constexpr float kSqrt2OverPi = 0.79788456080286536f;
constexpr float kTanhC = 0.044715f;

// exp(x) = 2^n · e^r with n = round(x·log2 e), |r| ≤ ln2/2, e^r by Cephes' degree-6 polynomial (~1 ulp).
MOEVL_INLINE float Exp(float x0) {
  const float x = x0 < -87.0f ? -87.0f : (x0 > 88.0f ? 88.0f : x0);
  // Round to nearest by adding and subtracting 1.5·2^23 (plain arithmetic: floor() does not vectorise).
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  // Below −87 the result is 0 (as expf gives for x < −103): a −1e9 attention mask must weigh exactly 0.
  return x0 < -87.0f ? 0.0f : e * scale;
}

MOEVL_INLINE float ErfPoly(float t) {
  return ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
}

MOEVL_INLINE float Erf(float x) {
  const float v = std::fabs(x);
  const float t = 1.0f / (1.0f + 0.3275911f * v);
  return std::copysign(1.0f - ErfPoly(t) * Exp(-v * v), x);
}

MOEVL_INLINE float Tanh(float z) {
  z = z < -9.0f ? -9.0f : (z > 9.0f ? 9.0f : z);
  return 1.0f - 2.0f / (Exp(2.0f * z) + 1.0f);
}

MOEVL_INLINE float GeluTanh(float u) { return 0.5f * u * (1.0f + Tanh(kSqrt2OverPi * (u + kTanhC * u * u * u))); }

MOEVL_INLINE float GeluErf(float u) { return 0.5f * u * (1.0f + Erf(u * kInvSqrt2)); }

MOEVL_INLINE float GeluGradTanh(float u) {
  const float u2 = u * u;
  const float t = Tanh(kSqrt2OverPi * u * (1.0f + kTanhC * u2));
  return 0.5f * (1.0f + t) + 0.5f * u * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kTanhC * u2);
}

MOEVL_INLINE float GeluGradErf(float u) {
  // erf(u/√2) and the normal density share exp(−u²/2).
  const float v = std::fabs(u) * kInvSqrt2;
  const float t = 1.0f / (1.0f + 0.3275911f * v);
  const float e = Exp(-v * v);
  const float erf = std::copysign(1.0f - ErfPoly(t) * e, u);
  return 0.5f * (1.0f + erf) + u * kInvSqrt2Pi * e;
}

// One row (n values) of y = gelu(x + b); branch-free inner loops so that they vectorise.
void ForwardRow(const float* MOEVL_RESTRICT x, const float* MOEVL_RESTRICT b, float* MOEVL_RESTRICT y, int64_t n, bool tanh) {
  if (tanh && b != nullptr) {
    for (int64_t i = 0; i < n; i++) y[i] = GeluTanh(x[i] + b[i]);
  } else if (tanh) {
    for (int64_t i = 0; i < n; i++) y[i] = GeluTanh(x[i]);
  } else if (b != nullptr) {
    for (int64_t i = 0; i < n; i++) y[i] = GeluErf(x[i] + b[i]);
  } else {
    for (int64_t i = 0; i < n; i++) y[i] = GeluErf(x[i]);
  }
}

// One row of dx = dy · gelu'(x + b); adds dx to acc (the bias gradient) when acc is given.
void BackwardRow(const float* MOEVL_RESTRICT dy, const float* MOEVL_RESTRICT x, const float* MOEVL_RESTRICT b,
                 float* MOEVL_RESTRICT dx, double* MOEVL_RESTRICT acc, int64_t n, bool tanh) {
  if (tanh && b != nullptr) {
    for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * GeluGradTanh(x[i] + b[i]);
  } else if (tanh) {
    for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * GeluGradTanh(x[i]);
  } else if (b != nullptr) {
    for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * GeluGradErf(x[i] + b[i]);
  } else {
    for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * GeluGradErf(x[i]);
  }
  if (acc != nullptr)
    for (int64_t i = 0; i < n; i++) acc[i] += dx[i];
}

// One row of LayerNorm forward: float64 mean and variance, y = x̂·γ + β.
void LayerNormRow(const float* MOEVL_RESTRICT x, const float* MOEVL_RESTRICT g, const float* MOEVL_RESTRICT b,
                               float* MOEVL_RESTRICT y, float* mean, float* rstd, int64_t d, float eps) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < d; i++) s += x[i];
  const float mu = static_cast<float>(s / static_cast<double>(d));
  double v = 0;
#pragma omp simd reduction(+ : v)
  for (int64_t i = 0; i < d; i++) {
    const double c = static_cast<double>(x[i] - mu);
    v += c * c;
  }
  const float rs = static_cast<float>(1.0 / std::sqrt(v / static_cast<double>(d) + eps));
  for (int64_t i = 0; i < d; i++) y[i] = (x[i] - mu) * rs * g[i] + b[i];
  *mean = mu;
  *rstd = rs;
}

// One row of LayerNorm backward; adds dy·x̂ and dy to the gain and bias sums.
void LayerNormGradRow(const float* MOEVL_RESTRICT dy, const float* MOEVL_RESTRICT x, const float* MOEVL_RESTRICT g,
                                   float mu, float rs, float* MOEVL_RESTRICT dx, double* MOEVL_RESTRICT dg,
                                   double* MOEVL_RESTRICT db, int64_t d) {
  double a = 0, c = 0;
#pragma omp simd reduction(+ : a, c)
  for (int64_t i = 0; i < d; i++) {
    const float xh = (x[i] - mu) * rs;
    const float gi = dy[i] * g[i];
    a += gi;
    c += static_cast<double>(gi) * xh;
    dg[i] += static_cast<double>(dy[i]) * xh;
    db[i] += dy[i];
  }
  const float am = static_cast<float>(a / static_cast<double>(d));
  const float cm = static_cast<float>(c / static_cast<double>(d));
  for (int64_t i = 0; i < d; i++) {
    const float xh = (x[i] - mu) * rs;
    dx[i] = rs * (dy[i] * g[i] - am - xh * cm);
  }
}

// acc[i] += x[i] for one row of n values (a float64 sum over rows: bias and gain gradients).
void AddRow(const float* MOEVL_RESTRICT x, double* MOEVL_RESTRICT acc, int64_t n) {
  for (int64_t i = 0; i < n; i++) acc[i] += x[i];
}

// One row of scale·x + bias − max (bias nullable): softmax's exponent, before Exp.
void SoftmaxShiftRow(const float* MOEVL_RESTRICT x, const float* MOEVL_RESTRICT bias, float* MOEVL_RESTRICT y,
                     int64_t n, float scale) {
  if (bias != nullptr) {
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * scale + bias[i];
  } else {
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * scale;
  }
  float m = -INFINITY;
  // `omp simd` reductions (-fopenmp-simd, no OpenMP runtime): vectorised without -ffast-math.
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; i++) m = y[i] > m ? y[i] : m;
  for (int64_t i = 0; i < n; i++) y[i] -= m;
}

// y = exp(y) over a whole block of rows at once: attention rows are short (40), too short to vectorise well.
void ExpInPlace(float* MOEVL_RESTRICT y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = Exp(y[i]);
}

// One row of y /= Σ y.
void NormalizeRow(float* MOEVL_RESTRICT y, int64_t n) {
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; i++) s += y[i];
  const float inv = 1.0f / s;
  for (int64_t i = 0; i < n; i++) y[i] *= inv;
}

// One row of the softmax gradient: dx = scale·y·(dy − Σ dy·y).
void SoftmaxGradRow(const float* MOEVL_RESTRICT dy, const float* MOEVL_RESTRICT y, float* MOEVL_RESTRICT dx,
                    int64_t n, float scale) {
  float dot = 0;
#pragma omp simd reduction(+ : dot)
  for (int64_t i = 0; i < n; i++) dot += dy[i] * y[i];
  for (int64_t i = 0; i < n; i++) dx[i] = scale * y[i] * (dy[i] - dot);
}

// One block of the AdamW update (optimizer_kernels.ts has the rule), each float32 operation rounded as tfjs'
// separate kernels round it (no contraction: -ffp-contract=off), so the result is bitwise theirs. c holds the
// float32 scalars [gradScale, decay, β1, 1 − β1, β2, 1 − β2, stepSize, √(1 − β2^t), eps].
void AdamWRow(const float* p, const float* m, const float* v, const float* MOEVL_RESTRICT g, float* p_out,
              float* m_out, float* v_out, int64_t n, const float* c, bool scaled, bool decayed) {
  const float scale = c[0], decay = c[1], b1 = c[2], c1 = c[3], b2 = c[4], c2 = c[5], step = c[6], bc2 = c[7],
              eps = c[8];
  for (int64_t i = 0; i < n; i++) {
    const float gi = scaled ? g[i] * scale : g[i];
    const float pi = decayed ? p[i] * decay : p[i];
    const float mi = m[i] * b1 + gi * c1;
    const float gg = gi * gi;
    const float vi = v[i] * b2 + gg * c2;
    const float denom = std::sqrt(vi) / bc2 + eps;
    m_out[i] = mi;
    v_out[i] = vi;
    p_out[i] = pi - (mi / denom) * step;
  }
}

// Σ x² over n values, in float64.
double SumSquaresRow(const float* MOEVL_RESTRICT x, int64_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; i++) s += static_cast<double>(x[i]) * x[i];
  return s;
}
