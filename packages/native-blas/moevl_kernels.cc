// Fused non-matmul kernels of a transformer MLP, on the same wasm heap the GEMM runs on: GELU of x + bias
// forward, and backward the input gradient with the bias gradient (its sum over the broadcast rows) in the
// same pass. Written as plain loops the compiler vectorises (exp by Cephes' polynomial, erf by
// Abramowitz–Stegun 7.1.26 — the formula tfjs' Erf kernels use; moevl_rows_impl.h), compiled for AVX-512,
// AVX2+FMA and baseline x86-64 and picked at load time; large tensors are split over the BLAS' thread count.
#include "moevl_kernels.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#define MOEVL_RESTRICT __restrict

namespace moevl {
namespace {

#if defined(__GNUC__)
#define MOEVL_INLINE inline __attribute__((always_inline))
#else
#define MOEVL_INLINE inline
#endif

// One copy of the row loops per instruction set. `#pragma GCC target` rather than target_clones: a clone
// for `arch=skylake-avx512` is chosen only on that CPU model, not on any CPU with the features.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MOEVL_MULTI_ISA 1
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")
namespace avx512 {
#include "moevl_rows_impl.h"
}  // namespace avx512
#pragma GCC optimize("fp-contract=fast")
namespace avx512 {
#include "moevl_small_gemm_impl.h"
}  // namespace avx512
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
#include "moevl_rows_impl.h"
}  // namespace avx2
#pragma GCC optimize("fp-contract=fast")
namespace avx2 {
#include "moevl_small_gemm_impl.h"
}  // namespace avx2
#pragma GCC pop_options
#endif
namespace base {
#include "moevl_rows_impl.h"
#include "moevl_small_gemm_impl.h"
}  // namespace base

struct Rows {
  decltype(&base::ForwardRow) forward;
  decltype(&base::BackwardRow) backward;
  decltype(&base::LayerNormRow) layer_norm;
  decltype(&base::LayerNormGradRow) layer_norm_grad;
  decltype(&base::AddRow) add_row;
  decltype(&base::SoftmaxShiftRow) softmax_shift;
  decltype(&base::ExpInPlace) exp_in_place;
  decltype(&base::NormalizeRow) normalize;
  decltype(&base::SoftmaxGradRow) softmax_grad;
  decltype(&base::AdamWRow) adamw;
  decltype(&base::SumSquaresRow) sum_squares;
  decltype(&base::SmallGemm) small_gemm;
};

const Rows& Pick() {
  static const Rows rows = [] {
#if defined(MOEVL_MULTI_ISA)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")) {
      return Rows{avx512::ForwardRow, avx512::BackwardRow, avx512::LayerNormRow, avx512::LayerNormGradRow, avx512::AddRow, avx512::SoftmaxShiftRow, avx512::ExpInPlace, avx512::NormalizeRow, avx512::SoftmaxGradRow, avx512::AdamWRow, avx512::SumSquaresRow, avx512::SmallGemm};
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
      return Rows{avx2::ForwardRow, avx2::BackwardRow, avx2::LayerNormRow, avx2::LayerNormGradRow, avx2::AddRow, avx2::SoftmaxShiftRow, avx2::ExpInPlace, avx2::NormalizeRow, avx2::SoftmaxGradRow, avx2::AdamWRow, avx2::SumSquaresRow, avx2::SmallGemm};
    }
#endif
    return Rows{base::ForwardRow, base::BackwardRow, base::LayerNormRow, base::LayerNormGradRow, base::AddRow, base::SoftmaxShiftRow, base::ExpInPlace, base::NormalizeRow, base::SoftmaxGradRow, base::AdamWRow, base::SumSquaresRow, base::SmallGemm};
  }();
  return rows;
}

int g_threads = 1;
// Below this many elements per thread, starting a thread costs more than it saves.
constexpr int64_t kMinPerThread = 1 << 17;

// Runs body(first_row, end_row, part) over the rows, split into up to g_threads parts.
template <typename Body>
void ParallelRows(int64_t rows, int64_t row_len, Body body) {
  const int64_t total = rows * row_len;
  int parts = static_cast<int>(std::min<int64_t>(g_threads, std::max<int64_t>(1, total / kMinPerThread)));
  parts = static_cast<int>(std::min<int64_t>(parts, std::max<int64_t>(1, rows)));
  if (parts <= 1) {
    body(0, rows, 0);
    return;
  }
  std::vector<std::thread> pool;
  const int64_t step = (rows + parts - 1) / parts;
  for (int p = 1; p < parts; p++) {
    const int64_t lo = std::min(rows, p * step), hi = std::min(rows, (p + 1) * step);
    pool.emplace_back([=] { body(lo, hi, p); });
  }
  body(0, std::min(rows, step), 0);
  for (auto& t : pool) t.join();
}

}  // namespace

void SetKernelThreads(int n) { g_threads = std::max(1, n); }

void ParallelEntries(int64_t n, int threads, const std::function<void(int64_t)>& body) {
  const int parts = static_cast<int>(std::min<int64_t>(std::max(1, threads), n));
  if (parts <= 1) {
    for (int64_t i = 0; i < n; i++) body(i);
    return;
  }
  std::atomic<int64_t> next{0};
  const auto work = [&] {
    for (int64_t i = next++; i < n; i = next++) body(i);
  };
  std::vector<std::thread> pool;
  for (int p = 1; p < parts; p++) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

void BiasGeluForward(const float* x, const float* bias, float* y, int64_t outer, int64_t reduce, int64_t inner,
                     bool tanh_form) {
  ParallelRows(outer * reduce, inner, [=](int64_t lo, int64_t hi, int) {
    for (int64_t row = lo; row < hi; row++) {
      const float* b = bias != nullptr ? bias + (row / reduce) * inner : nullptr;
      Pick().forward(x + row * inner, b, y + row * inner, inner, tanh_form);
    }
  });
}

void BiasGeluBackward(const float* dy, const float* x, const float* bias, float* dx, float* dbias, int64_t outer,
                      int64_t reduce, int64_t inner, bool tanh_form) {
  const int64_t rows = outer * reduce;
  // Per-part float64 bias-gradient sums, added in part order so the result does not depend on timing.
  const int max_parts = std::max(1, g_threads);
  std::vector<double> acc(dbias != nullptr ? static_cast<size_t>(max_parts * outer * inner) : 0, 0.0);
  ParallelRows(rows, inner, [&, dy, x, bias, dx](int64_t lo, int64_t hi, int part) {
    for (int64_t row = lo; row < hi; row++) {
      const int64_t o = row / reduce;
      const float* b = bias != nullptr ? bias + o * inner : nullptr;
      double* a = dbias != nullptr ? acc.data() + (static_cast<int64_t>(part) * outer + o) * inner : nullptr;
      Pick().backward(dy + row * inner, x + row * inner, b, dx + row * inner, a, inner, tanh_form);
    }
  });
  if (dbias == nullptr) return;
  for (int64_t j = 0; j < outer * inner; j++) {
    double s = 0;
    for (int p = 0; p < max_parts; p++) s += acc[static_cast<size_t>(p * outer * inner + j)];
    dbias[j] = static_cast<float>(s);
  }
}

void LayerNormForward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                      int64_t rows, int64_t d, float eps) {
  ParallelRows(rows, d, [=](int64_t lo, int64_t hi, int) {
    for (int64_t r = lo; r < hi; r++) Pick().layer_norm(x + r * d, gamma, beta, y + r * d, mean + r, rstd + r, d, eps);
  });
}

void LayerNormBackward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                       float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t d) {
  const int max_parts = std::max(1, g_threads);
  std::vector<double> acc(static_cast<size_t>(2 * max_parts * d), 0.0);
  ParallelRows(rows, d, [&, dy, x, gamma, mean, rstd, dx](int64_t lo, int64_t hi, int part) {
    double* dg = acc.data() + static_cast<int64_t>(2 * part) * d;
    for (int64_t r = lo; r < hi; r++)
      Pick().layer_norm_grad(dy + r * d, x + r * d, gamma, mean[r], rstd[r], dx + r * d, dg, dg + d, d);
  });
  for (int64_t i = 0; i < d; i++) {
    double sg = 0, sb = 0;
    for (int p = 0; p < max_parts; p++) {
      sg += acc[static_cast<size_t>(2 * p * d + i)];
      sb += acc[static_cast<size_t>((2 * p + 1) * d + i)];
    }
    dgamma[i] = static_cast<float>(sg);
    dbeta[i] = static_cast<float>(sb);
  }
}

void SumMiddle(const float* x, float* out, int64_t outer, int64_t reduce, int64_t inner, double scale) {
  std::vector<double> acc(static_cast<size_t>(inner));
  for (int64_t o = 0; o < outer; o++) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int64_t r = 0; r < reduce; r++) Pick().add_row(x + (o * reduce + r) * inner, acc.data(), inner);
    for (int64_t i = 0; i < inner; i++) out[o * inner + i] = static_cast<float>(acc[static_cast<size_t>(i)] * scale);
  }
}

void AttentionSoftmax(const float* x, const float* bias, float* y, int64_t b, int64_t h, int64_t t, int64_t s,
                      int64_t bias_b, int64_t bias_t, float scale) {
  ParallelRows(b * h * t, s, [=](int64_t lo, int64_t hi, int) {
    const Rows& k = Pick();
    for (int64_t row = lo; row < hi; row++) {
      const int64_t bi = row / (h * t), ti = row % t;
      const float* br =
          bias == nullptr ? nullptr : bias + ((bias_b == 1 ? 0 : bi) * bias_t + (bias_t == 1 ? 0 : ti)) * s;
      k.softmax_shift(x + row * s, br, y + row * s, s, scale);
    }
    k.exp_in_place(y + lo * s, (hi - lo) * s);
    for (int64_t row = lo; row < hi; row++) k.normalize(y + row * s, s);
  });
}

void AttentionSoftmaxGrad(const float* dy, const float* y, float* dx, int64_t rows, int64_t s, float scale) {
  ParallelRows(rows, s, [=](int64_t lo, int64_t hi, int) {
    for (int64_t row = lo; row < hi; row++) Pick().softmax_grad(dy + row * s, y + row * s, dx + row * s, s, scale);
  });
}

void Transpose4(const void* x, void* y, int rank, const int64_t* shape, const int* perm) {
  // Output axis i walks input axis perm[i]: its input stride. Runs of the innermost output axis are contiguous
  // in the input when it is the input's innermost axis too (attention's head moves): memcpy per run.
  int64_t in_stride[8] = {0}, out_shape[8] = {0}, step[8] = {0};
  int64_t acc = 1;
  for (int i = rank - 1; i >= 0; i--) {
    in_stride[i] = acc;
    acc *= shape[i];
  }
  for (int i = 0; i < rank; i++) {
    out_shape[i] = shape[perm[i]];
    step[i] = in_stride[perm[i]];
  }
  const int64_t total = acc;
  if (total == 0) return;
  const int64_t inner = out_shape[rank - 1];
  const bool contiguous = step[rank - 1] == 1;
  const char* src = static_cast<const char*>(x);
  char* dst = static_cast<char*>(y);
  int64_t index[8] = {0};
  int64_t from = 0;
  for (int64_t done = 0; done < total; done += inner) {
    if (contiguous) {
      std::memcpy(dst + done * 4, src + from * 4, static_cast<size_t>(inner) * 4);
    } else {
      const float* s4 = reinterpret_cast<const float*>(src);
      float* d4 = reinterpret_cast<float*>(dst) + done;
      for (int64_t j = 0; j < inner; j++) d4[j] = s4[from + j * step[rank - 1]];
    }
    for (int i = rank - 2; i >= 0; i--) {
      if (++index[i] < out_shape[i]) {
        from += step[i];
        break;
      }
      index[i] = 0;
      from -= (out_shape[i] - 1) * step[i];
    }
  }
}

void SplitHeads(const float* y, float* q, float* k, float* v, int64_t b, int64_t t, int64_t h, int64_t hd,
                bool merge) {
  float* outs[3] = {q, k, v};
  const int64_t d = h * hd;
  for (int64_t bi = 0; bi < b; bi++)
    for (int64_t ti = 0; ti < t; ti++)
      for (int w = 0; w < 3; w++)
        for (int64_t hi = 0; hi < h; hi++) {
          float* packed = const_cast<float*>(y) + ((bi * t + ti) * 3 + w) * d + hi * hd;
          float* head = outs[w] + ((bi * h + hi) * t + ti) * hd;
          if (merge) std::memcpy(packed, head, sizeof(float) * static_cast<size_t>(hd));
          else std::memcpy(head, packed, sizeof(float) * static_cast<size_t>(hd));
        }
}

void AdamWUpdate(const float* p, const float* m, const float* v, const float* g, float* p_out, float* m_out,
                 float* v_out, int64_t n, const float* consts, bool scaled, bool decayed) {
  // Blocks of 4096 so that a large variable is split over the threads.
  constexpr int64_t kBlock = 4096;
  ParallelRows((n + kBlock - 1) / kBlock, kBlock, [=](int64_t lo, int64_t hi, int) {
    const int64_t a = lo * kBlock, b = std::min(n, hi * kBlock);
    if (b > a)
      Pick().adamw(p + a, m + a, v + a, g + a, p_out + a, m_out + a, v_out + a, b - a, consts, scaled, decayed);
  });
}

double SumOfSquares(const float* x, int64_t n) { return Pick().sum_squares(x, n); }

void SmallBatchedGemm(const float* a, const float* b, float* c, const int64_t* a_off, const int64_t* b_off,
                      int64_t batch, int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b) {
  const int64_t n16 = (n + 15) / 16 * 16;
  // B is read in place when it is untransposed and its rows are whole 16-value blocks; else packed per entry.
  const bool pack_b = trans_b || n != n16;
  const int64_t ars = trans_a ? 1 : k, acs = trans_a ? m : 1;
  // One thread: split over two, the products ran slower inside a training step (22 vs 18 ms for LIMoE's
  // attention), the second thread contending with the BLAS' own spinning worker; alone they ran faster.
  std::vector<float> bp(pack_b ? static_cast<size_t>(k * n16) : 0, 0.f);
  for (int64_t e = 0; e < batch; e++) {
    const float* be = b + b_off[e];
    if (pack_b) {
      for (int64_t p = 0; p < k; p++)
        for (int64_t j = 0; j < n; j++) bp[static_cast<size_t>(p * n16 + j)] = trans_b ? be[j * k + p] : be[p * n + j];
    }
    Pick().small_gemm(a + a_off[e], ars, acs, pack_b ? bp.data() : be, pack_b ? n16 : n, c + e * m * n, m, n, k,
                      n16, n);
  }
}

namespace {

// Row moves with JavaScript's roundings: the sum or product of two float32 values in float64, rounded once.
void MoveRow(float* to, const float* from, int64_t d, bool first) {
  if (first) std::memcpy(to, from, sizeof(float) * static_cast<size_t>(d));
  else
    for (int64_t j = 0; j < d; j++) to[j] = static_cast<float>(static_cast<double>(to[j]) + from[j]);
}

void ScaleRow(float* to, const float* from, int64_t d, float w, bool first) {
  const double wd = w;
  if (first)
    for (int64_t j = 0; j < d; j++) to[j] = static_cast<float>(wd * from[j]);
  else
    for (int64_t j = 0; j < d; j++) to[j] = static_cast<float>(static_cast<double>(to[j]) + wd * from[j]);
}

}  // namespace

void MoveTokens(int kind, const float* in, const float* y, const int32_t* expert, const int32_t* pos,
                const float* w, float* out, int64_t s, int64_t k, int64_t d, int64_t experts, int64_t cap) {
  const int64_t total = experts * cap;
  const auto slot = [=](int64_t i) -> int64_t {
    const int64_t p = pos[i], at = static_cast<int64_t>(expert[i]) * cap + p;
    return p >= 0 && p < cap && at >= 0 && at < total ? at : -1;
  };
  if (kind == kDispatch || kind == kCombineGrad) {
    // Writes by slot, which two choices could share: one thread, in the JavaScript kernel's order.
    std::vector<uint8_t> filled(static_cast<size_t>(total), 0);
    if (kind == kDispatch) {
      for (int64_t c = 0; c < k; c++)
        for (int64_t t = 0; t < s; t++) {
          const int64_t at = slot(t * k + c);
          if (at < 0) continue;
          MoveRow(out + at * d, in + t * d, d, filled[static_cast<size_t>(at)] == 0);
          filled[static_cast<size_t>(at)] = 1;
        }
    } else {
      for (int64_t t = 0; t < s; t++)
        for (int64_t c = 0; c < k; c++) {
          const int64_t at = slot(t * k + c);
          if (at < 0) continue;
          ScaleRow(out + at * d, in + t * d, d, w[t * k + c], filled[static_cast<size_t>(at)] == 0);
          filled[static_cast<size_t>(at)] = 1;
        }
    }
    for (int64_t r = 0; r < total; r++)
      if (filled[static_cast<size_t>(r)] == 0) std::fill(out + r * d, out + (r + 1) * d, 0.f);
    return;
  }
  // Writes by token: tokens split over the threads.
  ParallelRows(s, std::max<int64_t>(1, k * d), [=](int64_t lo, int64_t hi, int) {
    for (int64_t t = lo; t < hi; t++) {
      if (kind == kCombineWeightsGrad) {
        for (int64_t c = 0; c < k; c++) {
          const int64_t at = slot(t * k + c);
          double dot = 0;
          if (at >= 0)
            for (int64_t j = 0; j < d; j++) dot += static_cast<double>(in[t * d + j]) * y[at * d + j];
          out[t * k + c] = static_cast<float>(dot);
        }
        continue;
      }
      bool first = true;
      for (int64_t c = 0; c < k; c++) {
        const int64_t at = slot(t * k + c);
        if (at < 0) continue;
        if (kind == kDispatchGrad) MoveRow(out + t * d, in + at * d, d, first);
        else ScaleRow(out + t * d, in + at * d, d, w[t * k + c], first);
        first = false;
      }
      if (first) std::fill(out + t * d, out + (t + 1) * d, 0.f);
    }
  });
}

}  // namespace moevl
