// N-API addon: single-precision GEMM from a CBLAS, run on memory that JavaScript owns (the tfjs wasm
// heap), in place. The caller passes the heap's ArrayBuffer and byte offsets; nothing is copied in or out.
// Batches (with broadcast batch dimensions as zero strides), the transpose flags, a rank-1 bias and the
// activations tfjs fuses into `_FusedMatMul` are handled here so one kernel call is one N-API call.
#include <cstdlib>
#include <node_api.h>

#include "moevl_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#if defined(MOEVL_ACCELERATE)
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif

namespace {

#if defined(MOEVL_OPENBLAS)
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
char* openblas_get_corename(void);
}
#endif

// The thread count setThreads asked for, and the one the BLAS runs now. A product smaller than
// ThreadedMacs() multiply-adds runs on one thread: splitting a tiny product (an attention head's 40×40×32)
// costs more than it saves. The cut-off, 2^22 (a 128×128×256 product), was measured on LIMoE's training
// step, whose products are 5120×128×384-sized: at 2^28 they all ran on one thread (317 img/s median), at
// 2^21–2^24 on two (370–400 img/s); MOEVL_THREADED_MACS overrides it.
int g_blas_threads = 1;
int g_blas_now = -1;
double ThreadedMacs() {
  static const double macs = [] {
    const char* env = std::getenv("MOEVL_THREADED_MACS");
    const double v = env != nullptr ? std::atof(env) : 0.0;
    return v > 0 ? v : 4194304.0;  // 2^22
  }();
  return macs;
}

void BlasThreadsFor(double macs) {
#if defined(MOEVL_OPENBLAS)
  const int want = macs >= ThreadedMacs() ? g_blas_threads : 1;
  if (want != g_blas_now) {
    openblas_set_num_threads(want);
    g_blas_now = want;
  }
#else
  (void)macs;
#endif
}

// Batched products with at most this many multiply-adds each (and no dimension over 256) run on the small-product
// kernel (moevl_kernels.cc) rather than one BLAS call per entry: attention's 40×40×32 heads ran at 50–65 GFLOP/s
// through OpenBLAS alone, 60–85 on the kernel (46 → 34 ms of a LIMoE step's attention products), OpenBLAS's time
// going to call and packing overhead. MOEVL_SMALL_GEMM=0 turns it off (for comparisons).
bool UseSmallGemm(int64_t m, int64_t n, int64_t k) {
  static const bool on = [] {
    const char* env = std::getenv("MOEVL_SMALL_GEMM");
    return env == nullptr || std::string(env) != "0";
  }();
  return on && m <= 256 && n <= 256 && k <= 256 && m * n * k <= (int64_t{1} << 20);
}

// Whether a batch runs whole entries per thread, each a one-thread BLAS call (OpenBLAS only: its calls are
// thread-safe and its thread count is ours to set): with at least two entries per thread, each between the
// threading cut-off and 2^28 multiply-adds. Measured on LIMoE's and the MoE layer's expert products
// ([32, 80, 256] x [32, 256, 1024]: 42 -> 36 ms for the five products of a step), where one BLAS call per entry
// split over the threads pays the BLAS' hand-off E times per product. MOEVL_SPLIT_BATCH=0 turns it off,
// MOEVL_SPLIT_MAX_MACS moves the upper bound.
double SplitMaxMacs() {
  static const double v = [] {
    const char* env = std::getenv("MOEVL_SPLIT_MAX_MACS");
    return env != nullptr && std::atof(env) > 0 ? std::atof(env) : 268435456.0;
  }();
  return v;
}

bool SplitBatch(int64_t batch, double macs) {
#if defined(MOEVL_OPENBLAS)
  static const bool on = [] {
    const char* env = std::getenv("MOEVL_SPLIT_BATCH");
    return env == nullptr || std::string(env) != "0";
  }();
  return on && g_blas_threads > 1 && batch >= 2 * g_blas_threads && macs < SplitMaxMacs() && macs >= ThreadedMacs();
#else
  (void)batch;
  (void)macs;
  return false;
#endif
}

// Must match ACTIVATIONS in index.cjs.
enum Activation { kLinear = 0, kRelu = 1, kRelu6 = 2, kLeakyRelu = 3, kElu = 4, kSigmoid = 5 };

// Layout of the Float64Array descriptor passed to gemm(); batch dims follow at kBatchDims.
enum Field {
  kAOffset = 0, kBOffset, kCOffset, kM, kN, kK, kTransA, kTransB,
  kBiasOffset, kBiasLength, kActivation, kAlpha, kRank, kBatchDims
};
constexpr int kMaxRank = 8;

napi_value Fail(napi_env env, const char* msg) {
  napi_throw_error(env, "MOEVL_NATIVE_BLAS", msg);
  return nullptr;
}

#define NAPI_OK(call)                                                          \
  do {                                                                         \
    if ((call) != napi_ok) return Fail(env, "moevl_blas: N-API call failed: " #call); \
  } while (0)

void ApplyActivation(float* c, size_t count, int act, float alpha) {
  switch (act) {
    case kRelu:
      for (size_t i = 0; i < count; i++) c[i] = c[i] > 0.f ? c[i] : 0.f;
      break;
    case kRelu6:
      for (size_t i = 0; i < count; i++) c[i] = std::min(std::max(c[i], 0.f), 6.f);
      break;
    case kLeakyRelu:
      for (size_t i = 0; i < count; i++) c[i] = c[i] < 0.f ? alpha * c[i] : c[i];
      break;
    case kElu:
      for (size_t i = 0; i < count; i++) c[i] = c[i] < 0.f ? std::expm1(c[i]) : c[i];
      break;
    case kSigmoid:
      for (size_t i = 0; i < count; i++) c[i] = 1.f / (1.f + std::exp(-c[i]));
      break;
    default:
      break;
  }
}

// Rows of a row-major [rows, cols] matrix up to its last row with a nonzero (or NaN) value.
int64_t NonZeroRows(const float* p, int64_t rows, int64_t cols) {
  for (int64_t r = rows - 1; r >= 0; r--) {
    const float* row = p + r * cols;
    for (int64_t j = 0; j < cols; j++)
      if (row[j] != 0.f) return r + 1;
  }
  return 0;
}

// gemm(heap: ArrayBuffer, desc: Float64Array): C[b] = act(op(A[b]) · op(B[b]) + bias) for every batch
// index b of the output, A and B addressed through per-dimension element strides (0 = broadcast).
napi_value Gemm(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 2) return Fail(env, "gemm(heap, desc): two arguments expected");

  void* heap_data = nullptr;
  size_t heap_bytes = 0;
  bool is_ab = false;
  NAPI_OK(napi_is_arraybuffer(env, argv[0], &is_ab));
  if (!is_ab) return Fail(env, "gemm: heap must be an ArrayBuffer");
  NAPI_OK(napi_get_arraybuffer_info(env, argv[0], &heap_data, &heap_bytes));

  napi_typedarray_type type;
  size_t length = 0;
  void* desc_data = nullptr;
  bool is_ta = false;
  NAPI_OK(napi_is_typedarray(env, argv[1], &is_ta));
  if (!is_ta) return Fail(env, "gemm: desc must be a Float64Array");
  NAPI_OK(napi_get_typedarray_info(env, argv[1], &type, &length, &desc_data, nullptr, nullptr));
  if (type != napi_float64_array || length < kBatchDims) {
    return Fail(env, "gemm: desc must be a Float64Array of the documented layout");
  }
  const double* d = static_cast<const double*>(desc_data);
  const int rank = static_cast<int>(d[kRank]);
  if (rank < 0 || rank > kMaxRank || length < static_cast<size_t>(kBatchDims + 3 * rank)) {
    return Fail(env, "gemm: bad batch rank in desc");
  }

  const int64_t m = static_cast<int64_t>(d[kM]);
  const int64_t n = static_cast<int64_t>(d[kN]);
  const int64_t k = static_cast<int64_t>(d[kK]);
  const bool trans_a = d[kTransA] != 0;
  const bool trans_b = d[kTransB] != 0;
  const int act = static_cast<int>(d[kActivation]);
  const float alpha = static_cast<float>(d[kAlpha]);
  if (m < 0 || n < 0 || k < 0) return Fail(env, "gemm: negative dimension");

  int64_t dims[kMaxRank], sa[kMaxRank], sb[kMaxRank];
  int64_t batch = 1, a_last = 0, b_last = 0;
  for (int i = 0; i < rank; i++) {
    dims[i] = static_cast<int64_t>(d[kBatchDims + 3 * i]);
    sa[i] = static_cast<int64_t>(d[kBatchDims + 3 * i + 1]);
    sb[i] = static_cast<int64_t>(d[kBatchDims + 3 * i + 2]);
    if (dims[i] < 0 || sa[i] < 0 || sb[i] < 0) return Fail(env, "gemm: negative batch stride");
    batch *= dims[i];
    if (dims[i] > 0) {
      a_last += (dims[i] - 1) * sa[i];
      b_last += (dims[i] - 1) * sb[i];
    }
  }
  const int64_t out_size = batch * m * n;
  if (out_size == 0) return nullptr;

  // Every byte touched must lie inside the heap: a wrong offset must be an exception, not a corrupted heap.
  const auto inside = [&](double offset, int64_t elements) {
    return offset >= 0 && offset + 4.0 * static_cast<double>(elements) <= static_cast<double>(heap_bytes) &&
           static_cast<int64_t>(offset) % 4 == 0;
  };
  const bool has_bias = d[kBiasOffset] >= 0;
  const int64_t bias_len = has_bias ? static_cast<int64_t>(d[kBiasLength]) : 0;
  if (has_bias && bias_len != 1 && bias_len != n) return Fail(env, "gemm: bias length must be 1 or n");
  if (!inside(d[kCOffset], out_size) || (k > 0 && !inside(d[kAOffset], a_last + m * k)) ||
      (k > 0 && !inside(d[kBOffset], b_last + k * n)) || (has_bias && !inside(d[kBiasOffset], bias_len))) {
    return Fail(env, "gemm: operand outside the heap");
  }

  char* base = static_cast<char*>(heap_data);
  const float* a = reinterpret_cast<const float*>(base + static_cast<int64_t>(d[kAOffset]));
  const float* b = reinterpret_cast<const float*>(base + static_cast<int64_t>(d[kBOffset]));
  float* c = reinterpret_cast<float*>(base + static_cast<int64_t>(d[kCOffset]));
  const float* bias = has_bias ? reinterpret_cast<const float*>(base + static_cast<int64_t>(d[kBiasOffset])) : nullptr;

  // A bias is written into C first and accumulated by the GEMM (beta = 1): no second pass over C.
  if (has_bias) {
    for (int64_t r = 0; r < batch * m; r++) {
      float* row = c + r * n;
      if (bias_len == 1) std::fill(row, row + n, bias[0]);
      else std::memcpy(row, bias, sizeof(float) * n);
    }
  } else if (k == 0) {
    std::fill(c, c + out_size, 0.f);
  }
  if (k == 0) {
    ApplyActivation(c, static_cast<size_t>(out_size), act, alpha);
    return nullptr;
  }
  // A and B offsets of every batch entry: an odometer over the batch dims, last fastest.
  std::vector<int64_t> a_offs(static_cast<size_t>(batch)), b_offs(static_cast<size_t>(batch));
  {
    int64_t index[kMaxRank] = {0};
    int64_t a_off = 0, b_off = 0;
    for (int64_t e = 0; e < batch; e++) {
      a_offs[static_cast<size_t>(e)] = a_off;
      b_offs[static_cast<size_t>(e)] = b_off;
      for (int i = rank - 1; i >= 0; i--) {
        if (++index[i] < dims[i]) {
          a_off += sa[i];
          b_off += sb[i];
          break;
        }
        index[i] = 0;
        a_off -= (dims[i] - 1) * sa[i];
        b_off -= (dims[i] - 1) * sb[i];
      }
    }
  }
  if (!has_bias && batch > 1 && UseSmallGemm(m, n, k)) {
    // Attention's per-head products: the kernel of moevl_kernels.cc.
    moevl::SmallBatchedGemm(a, b, c, a_offs.data(), b_offs.data(), batch, m, n, k, trans_a, trans_b);
    ApplyActivation(c, static_cast<size_t>(out_size), act, alpha);
    return nullptr;
  }
  const float beta = has_bias ? 1.f : 0.f;
  const int lda = static_cast<int>(std::max<int64_t>(1, trans_a ? m : k));
  const int ldb = static_cast<int>(std::max<int64_t>(1, trans_b ? k : n));
  const int ldc = static_cast<int>(std::max<int64_t>(1, n));
  const auto entry = [&](int64_t e) {
    const float* ae = a + a_offs[static_cast<size_t>(e)];
    const float* be = b + b_offs[static_cast<size_t>(e)];
    // In a batch (MoE experts' [E, C, ·] buffers) trailing all-zero rows are skipped: the empty slots past an
    // expert's load. Zero rows of A (untransposed) give zero rows of C; zero rows along k of A (transposed)
    // or B (untransposed) add nothing. Exact for finite values.
    int64_t me = m, ke = k;
    if (batch > 1) {
      if (!trans_a) me = NonZeroRows(ae, m, k);
      else ke = NonZeroRows(ae, k, m);
      if (!trans_b) ke = std::min(ke, NonZeroRows(be, k, n));
    }
    float* ce = c + e * m * n;
    if (!has_bias && me < m) std::fill(ce + me * n, ce + m * n, 0.f);
    if (ke == 0 || me == 0) {
      if (!has_bias) std::fill(ce, ce + me * n, 0.f);
    } else {
      cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                  static_cast<int>(me), static_cast<int>(n), static_cast<int>(ke), 1.f, ae, lda, be, ldb, beta, ce,
                  ldc);
    }
  };
  const double macs = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (SplitBatch(batch, macs)) {
    // MoE experts' products ([E, C, D] x [E, D, H]): whole entries per thread, each a one-thread BLAS call, taken
    // in turn as threads free up (expert loads differ), rather than every entry's product split over the
    // threads, which pays the BLAS' hand-off E times per product.
    BlasThreadsFor(0);
    moevl::ParallelEntries(batch, g_blas_threads, entry);
  } else {
    BlasThreadsFor(macs);
    for (int64_t e = 0; e < batch; e++) entry(e);
  }
  ApplyActivation(c, static_cast<size_t>(out_size), act, alpha);
  return nullptr;
}

// Reads a Float64Array descriptor of at least `min_len` fields and the heap of argv[0]; false after throwing.
bool HeapAndDesc(napi_env env, napi_callback_info info, size_t min_len, char** heap, size_t* heap_bytes,
                 const double** desc) {
  size_t argc = 2;
  napi_value argv[2];
  bool ok = false;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 2) {
    Fail(env, "two arguments expected: (heap, desc)");
    return false;
  }
  void* data = nullptr;
  if (napi_is_arraybuffer(env, argv[0], &ok) != napi_ok || !ok ||
      napi_get_arraybuffer_info(env, argv[0], &data, heap_bytes) != napi_ok) {
    Fail(env, "heap must be an ArrayBuffer");
    return false;
  }
  *heap = static_cast<char*>(data);
  napi_typedarray_type type;
  size_t length = 0;
  void* d = nullptr;
  if (napi_is_typedarray(env, argv[1], &ok) != napi_ok || !ok ||
      napi_get_typedarray_info(env, argv[1], &type, &length, &d, nullptr, nullptr) != napi_ok ||
      type != napi_float64_array || length < min_len) {
    Fail(env, "desc must be a Float64Array of the documented layout");
    return false;
  }
  *desc = static_cast<const double*>(d);
  return true;
}

// A float32 operand of `elements` values at byte `offset`, or nullptr (after throwing) if it leaves the heap.
const float* Operand(napi_env env, char* heap, size_t heap_bytes, double offset, int64_t elements) {
  if (!(offset >= 0) || offset + 4.0 * static_cast<double>(elements) > static_cast<double>(heap_bytes) ||
      static_cast<int64_t>(offset) % 4 != 0) {
    Fail(env, "operand outside the heap");
    return nullptr;
  }
  return reinterpret_cast<const float*>(heap + static_cast<int64_t>(offset));
}

bool Layout(napi_env env, const double* d, int64_t* outer, int64_t* reduce, int64_t* inner) {
  *outer = static_cast<int64_t>(d[0]);
  *reduce = static_cast<int64_t>(d[1]);
  *inner = static_cast<int64_t>(d[2]);
  if (*outer < 0 || *reduce < 0 || *inner < 0) {
    Fail(env, "negative dimension");
    return false;
  }
  return true;
}

// biasGelu(heap, desc): desc = [xOffset, biasOffset (-1: none), yOffset, outer, reduce, inner, tanh].
napi_value BiasGelu(napi_env env, napi_callback_info info) {
  char* heap;
  size_t bytes;
  const double* d;
  int64_t outer, reduce, inner;
  if (!HeapAndDesc(env, info, 7, &heap, &bytes, &d) || !Layout(env, d + 3, &outer, &reduce, &inner)) return nullptr;
  const int64_t n = outer * reduce * inner;
  const float* x = Operand(env, heap, bytes, d[0], n);
  const float* b = d[1] < 0 ? nullptr : Operand(env, heap, bytes, d[1], outer * inner);
  const float* y = Operand(env, heap, bytes, d[2], n);
  if (x == nullptr || y == nullptr || (d[1] >= 0 && b == nullptr)) return nullptr;
  if (n > 0) moevl::BiasGeluForward(x, b, const_cast<float*>(y), outer, reduce, inner, d[6] != 0);
  return nullptr;
}

// biasGeluGrad(heap, desc): desc = [dyOffset, xOffset, biasOffset (-1), dxOffset, dbiasOffset (-1), outer,
// reduce, inner, tanh].
napi_value BiasGeluGrad(napi_env env, napi_callback_info info) {
  char* heap;
  size_t bytes;
  const double* d;
  int64_t outer, reduce, inner;
  if (!HeapAndDesc(env, info, 9, &heap, &bytes, &d) || !Layout(env, d + 5, &outer, &reduce, &inner)) return nullptr;
  const int64_t n = outer * reduce * inner;
  const float* dy = Operand(env, heap, bytes, d[0], n);
  const float* x = Operand(env, heap, bytes, d[1], n);
  const float* b = d[2] < 0 ? nullptr : Operand(env, heap, bytes, d[2], outer * inner);
  const float* dx = Operand(env, heap, bytes, d[3], n);
  const float* db = d[4] < 0 ? nullptr : Operand(env, heap, bytes, d[4], outer * inner);
  if (dy == nullptr || x == nullptr || dx == nullptr || (d[2] >= 0 && b == nullptr) || (d[4] >= 0 && db == nullptr))
    return nullptr;
  if (db != nullptr && n == 0) std::fill(const_cast<float*>(db), const_cast<float*>(db) + outer * inner, 0.f);
  if (n > 0)
    moevl::BiasGeluBackward(dy, x, b, const_cast<float*>(dx), const_cast<float*>(db), outer, reduce, inner,
                            d[8] != 0);
  return nullptr;
}

// layerNorm(heap, desc): desc = [xOffset, gammaOffset, betaOffset, yOffset, meanOffset, rstdOffset, rows, d, eps].
napi_value LayerNorm(napi_env env, napi_callback_info info) {
  char* heap;
  size_t bytes;
  const double* d;
  if (!HeapAndDesc(env, info, 9, &heap, &bytes, &d)) return nullptr;
  const int64_t rows = static_cast<int64_t>(d[6]), dim = static_cast<int64_t>(d[7]);
  if (rows < 0 || dim < 0) return Fail(env, "negative dimension");
  const float* x = Operand(env, heap, bytes, d[0], rows * dim);
  const float* g = Operand(env, heap, bytes, d[1], dim);
  const float* b = Operand(env, heap, bytes, d[2], dim);
  const float* y = Operand(env, heap, bytes, d[3], rows * dim);
  const float* mean = Operand(env, heap, bytes, d[4], rows);
  const float* rstd = Operand(env, heap, bytes, d[5], rows);
  if (!x || !g || !b || !y || !mean || !rstd) return nullptr;
  if (rows > 0 && dim > 0)
    moevl::LayerNormForward(x, g, b, const_cast<float*>(y), const_cast<float*>(mean), const_cast<float*>(rstd), rows,
                            dim, static_cast<float>(d[8]));
  return nullptr;
}

// layerNormGrad(heap, desc): desc = [dyOffset, xOffset, gammaOffset, meanOffset, rstdOffset, dxOffset,
// dgammaOffset, dbetaOffset, rows, d].
napi_value LayerNormGrad(napi_env env, napi_callback_info info) {
  char* heap;
  size_t bytes;
  const double* d;
  if (!HeapAndDesc(env, info, 10, &heap, &bytes, &d)) return nullptr;
  const int64_t rows = static_cast<int64_t>(d[8]), dim = static_cast<int64_t>(d[9]);
  if (rows < 0 || dim < 0) return Fail(env, "negative dimension");
  const float* dy = Operand(env, heap, bytes, d[0], rows * dim);
  const float* x = Operand(env, heap, bytes, d[1], rows * dim);
  const float* g = Operand(env, heap, bytes, d[2], dim);
  const float* mean = Operand(env, heap, bytes, d[3], rows);
  const float* rstd = Operand(env, heap, bytes, d[4], rows);
  const float* dx = Operand(env, heap, bytes, d[5], rows * dim);
  const float* dg = Operand(env, heap, bytes, d[6], dim);
  const float* db = Operand(env, heap, bytes, d[7], dim);
  if (!dy || !x || !g || !mean || !rstd || !dx || !dg || !db) return nullptr;
  if (dim > 0)
    moevl::LayerNormBackward(dy, x, g, mean, rstd, const_cast<float*>(dx), const_cast<float*>(dg),
                             const_cast<float*>(db), rows, dim);
  return nullptr;
}

// sumMiddle(heap, desc): desc = [xOffset, outOffset, outer, reduce, inner, scale]; float32 only.
napi_value SumMiddle(napi_env env, napi_callback_info info) {
  char* heap;
  size_t bytes;
  const double* d;
  int64_t outer, reduce, inner;
  if (!HeapAndDesc(env, info, 6, &heap, &bytes, &d) || !Layout(env, d + 2, &outer, &reduce, &inner)) return nullptr;
  const float* x = Operand(env, heap, bytes, d[0], outer * reduce * inner);
  const float* out = Operand(env, heap, bytes, d[1], outer * inner);
  if (x == nullptr || out == nullptr) return nullptr;
  moevl::SumMiddle(x, const_cast<float*>(out), outer, reduce, inner, d[5]);
  return nullptr;
}

// attentionSoftmax(heap, desc): desc = [xOffset, biasOffset (-1), yOffset, b, h, t, s, biasB, biasT, scale].
napi_value AttentionSoftmax(napi_env env, napi_callback_info info) {
  char* heap;
  size_t bytes;
  const double* d;
  if (!HeapAndDesc(env, info, 10, &heap, &bytes, &d)) return nullptr;
  const int64_t b = static_cast<int64_t>(d[3]), h = static_cast<int64_t>(d[4]), t = static_cast<int64_t>(d[5]),
                s = static_cast<int64_t>(d[6]), bias_b = static_cast<int64_t>(d[7]), bias_t = static_cast<int64_t>(d[8]);
  if (b < 0 || h < 0 || t < 0 || s < 0 || (bias_b != 1 && bias_b != b) || (bias_t != 1 && bias_t != t))
    return Fail(env, "bad attention shape");
  const float* x = Operand(env, heap, bytes, d[0], b * h * t * s);
  const float* bias = d[1] < 0 ? nullptr : Operand(env, heap, bytes, d[1], bias_b * bias_t * s);
  const float* y = Operand(env, heap, bytes, d[2], b * h * t * s);
  if (x == nullptr || y == nullptr || (d[1] >= 0 && bias == nullptr)) return nullptr;
  if (s > 0)
    moevl::AttentionSoftmax(x, bias, const_cast<float*>(y), b, h, t, s, bias_b, bias_t, static_cast<float>(d[9]));
  return nullptr;
}

// attentionSoftmaxGrad(heap, desc): desc = [dyOffset, yOffset, dxOffset, rows, s, scale].
napi_value AttentionSoftmaxGrad(napi_env env, napi_callback_info info) {
  char* heap;
  size_t bytes;
  const double* d;
  if (!HeapAndDesc(env, info, 6, &heap, &bytes, &d)) return nullptr;
  const int64_t rows = static_cast<int64_t>(d[3]), s = static_cast<int64_t>(d[4]);
  if (rows < 0 || s < 0) return Fail(env, "negative dimension");
  const float* dy = Operand(env, heap, bytes, d[0], rows * s);
  const float* y = Operand(env, heap, bytes, d[1], rows * s);
  const float* dx = Operand(env, heap, bytes, d[2], rows * s);
  if (dy == nullptr || y == nullptr || dx == nullptr) return nullptr;
  if (s > 0) moevl::AttentionSoftmaxGrad(dy, y, const_cast<float*>(dx), rows, s, static_cast<float>(d[5]));
  return nullptr;
}

// transpose(heap, desc): desc = [xOffset, yOffset, rank, ...shape (rank), ...perm (rank)]; 4-byte elements.
napi_value Transpose(napi_env env, napi_callback_info info) {
  char* heap;
  size_t bytes;
  const double* d;
  if (!HeapAndDesc(env, info, 3, &heap, &bytes, &d)) return nullptr;
  const int rank = static_cast<int>(d[2]);
  if (rank < 1 || rank > 8) return Fail(env, "transpose: rank must be 1..8");
  // The descriptor must hold the shape and the permutation: re-read it with that length.
  const double* dd;
  if (!HeapAndDesc(env, info, 3 + 2 * static_cast<size_t>(rank), &heap, &bytes, &dd)) return nullptr;
  int64_t shape[8];
  int perm[8];
  bool seen[8] = {false};
  int64_t n = 1;
  for (int i = 0; i < rank; i++) {
    shape[i] = static_cast<int64_t>(d[3 + i]);
    perm[i] = static_cast<int>(d[3 + rank + i]);
    if (shape[i] < 0 || perm[i] < 0 || perm[i] >= rank || seen[perm[i]]) return Fail(env, "transpose: bad shape or perm");
    seen[perm[i]] = true;
    n *= shape[i];
  }
  const float* x = Operand(env, heap, bytes, d[0], n);
  const float* y = Operand(env, heap, bytes, d[1], n);
  if (x == nullptr || y == nullptr) return nullptr;
  moevl::Transpose4(x, const_cast<float*>(y), rank, shape, perm);
  return nullptr;
}



// splitHeads(heap, desc): desc = [yOffset, qOffset, kOffset, vOffset, b, t, h, hd, merge].
napi_value SplitHeads(napi_env env, napi_callback_info info) {
  char* heap;
  size_t bytes;
  const double* d;
  if (!HeapAndDesc(env, info, 9, &heap, &bytes, &d)) return nullptr;
  const int64_t b = static_cast<int64_t>(d[4]), t = static_cast<int64_t>(d[5]), h = static_cast<int64_t>(d[6]),
                hd = static_cast<int64_t>(d[7]);
  if (b < 0 || t < 0 || h < 0 || hd < 0) return Fail(env, "negative dimension");
  const int64_t n = b * t * h * hd;
  const float* y = Operand(env, heap, bytes, d[0], 3 * n);
  const float* q = Operand(env, heap, bytes, d[1], n);
  const float* k = Operand(env, heap, bytes, d[2], n);
  const float* v = Operand(env, heap, bytes, d[3], n);
  if (!y || !q || !k || !v) return nullptr;
  moevl::SplitHeads(y, const_cast<float*>(q), const_cast<float*>(k), const_cast<float*>(v), b, t, h, hd, d[8] != 0);
  return nullptr;
}

// adamWUpdate(heap, desc): desc = [pOffset, mOffset, vOffset, gOffset, pOutOffset, mOutOffset, vOutOffset, n,
// gradScale, decay, beta1, beta2, stepSize, bc2Sqrt, eps].
napi_value AdamWUpdate(napi_env env, napi_callback_info info) {
  char* heap;
  size_t bytes;
  const double* d;
  if (!HeapAndDesc(env, info, 15, &heap, &bytes, &d)) return nullptr;
  const int64_t n = static_cast<int64_t>(d[7]);
  if (n < 0) return Fail(env, "negative size");
  const float* ops[7];
  for (int i = 0; i < 7; i++)
    if ((ops[i] = Operand(env, heap, bytes, d[i], n)) == nullptr) return nullptr;
  // The scalars as tfjs makes them from JS numbers: float32 (1 − β computed in float64 first, as in JS).
  const float consts[9] = {static_cast<float>(d[8]),  static_cast<float>(d[9]),      static_cast<float>(d[10]),
                           static_cast<float>(1 - d[10]), static_cast<float>(d[11]), static_cast<float>(1 - d[11]),
                           static_cast<float>(d[12]), static_cast<float>(d[13]),     static_cast<float>(d[14])};
  moevl::AdamWUpdate(ops[0], ops[1], ops[2], ops[3], const_cast<float*>(ops[4]), const_cast<float*>(ops[5]),
                     const_cast<float*>(ops[6]), n, consts, d[8] != 1, d[9] != 1);
  return nullptr;
}

// sumOfSquares(heap, desc): desc = [outOffset, count, ...count × (offset, length)]; out[0] = Σ x² over all of
// them (float64 sums, one float32 result).
napi_value SumOfSquares(napi_env env, napi_callback_info info) {
  char* heap;
  size_t bytes;
  const double* d;
  if (!HeapAndDesc(env, info, 2, &heap, &bytes, &d)) return nullptr;
  const int64_t count = static_cast<int64_t>(d[1]);
  if (count < 0) return Fail(env, "negative count");
  const double* dd;
  if (!HeapAndDesc(env, info, 2 + 2 * static_cast<size_t>(count), &heap, &bytes, &dd)) return nullptr;
  const float* out = Operand(env, heap, bytes, d[0], 1);
  if (out == nullptr) return nullptr;
  double s = 0;
  for (int64_t i = 0; i < count; i++) {
    const int64_t n = static_cast<int64_t>(d[3 + 2 * i]);
    if (n < 0) return Fail(env, "negative size");
    const float* x = Operand(env, heap, bytes, d[2 + 2 * i], n);
    if (x == nullptr) return nullptr;
    s += moevl::SumOfSquares(x, n);
  }
  *const_cast<float*>(out) = static_cast<float>(s);
  return nullptr;
}

// moveTokens(heap, desc): desc = [kind, inOffset, yOffset (-1), expertOffset, posOffset, wOffset (-1),
// outOffset, s, k, d, experts, capacity]; kind as moevl::TokenMove. int32 expert and position [s, k].
napi_value MoveTokens(napi_env env, napi_callback_info info) {
  char* heap;
  size_t bytes;
  const double* d;
  if (!HeapAndDesc(env, info, 12, &heap, &bytes, &d)) return nullptr;
  const int kind = static_cast<int>(d[0]);
  const int64_t s = static_cast<int64_t>(d[7]), k = static_cast<int64_t>(d[8]), dim = static_cast<int64_t>(d[9]),
                e = static_cast<int64_t>(d[10]), cap = static_cast<int64_t>(d[11]);
  if (kind < 0 || kind > 4 || s < 0 || k < 0 || dim < 0 || e < 0 || cap < 0) return Fail(env, "moveTokens: bad desc");
  const int64_t tokens = s * dim, slots = e * cap * dim;
  // Which operand is token-shaped and which buffer-shaped depends on the direction.
  const bool in_tokens = kind == moevl::kDispatch || kind == moevl::kCombineGrad || kind == moevl::kCombineWeightsGrad;
  const int64_t out_len = kind == moevl::kCombineWeightsGrad ? s * k : (in_tokens ? slots : tokens);
  const float* in = Operand(env, heap, bytes, d[1], in_tokens ? tokens : slots);
  const float* y = d[2] < 0 ? nullptr : Operand(env, heap, bytes, d[2], slots);
  const float* ex = Operand(env, heap, bytes, d[3], s * k);
  const float* pos = Operand(env, heap, bytes, d[4], s * k);
  const float* w = d[5] < 0 ? nullptr : Operand(env, heap, bytes, d[5], s * k);
  const float* out = Operand(env, heap, bytes, d[6], out_len);
  if (!in || !ex || !pos || !out || (d[2] >= 0 && !y) || (d[5] >= 0 && !w)) return nullptr;
  const bool needs_w = kind == moevl::kCombine || kind == moevl::kCombineGrad;
  if ((needs_w && w == nullptr) || (kind == moevl::kCombineWeightsGrad && y == nullptr))
    return Fail(env, "moveTokens: missing operand");
  moevl::MoveTokens(kind, in, y, reinterpret_cast<const int32_t*>(ex), reinterpret_cast<const int32_t*>(pos), w,
                    const_cast<float*>(out), s, k, dim, e, cap);
  return nullptr;
}

// setThreads(n): the BLAS's thread count for large products (and the fused kernels'). Returns the count in
// effect (0 when the BLAS has no knob).
napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t want = 0;
  if (argc >= 1) NAPI_OK(napi_get_value_int32(env, argv[0], &want));
  int32_t now = 0;
#if defined(MOEVL_OPENBLAS)
  if (want > 0) {
    g_blas_threads = want;
    openblas_set_num_threads(want);
    g_blas_now = want;
  }
  now = openblas_get_num_threads();
#endif
  if (want > 0) moevl::SetKernelThreads(want);
  napi_value out;
  NAPI_OK(napi_create_int32(env, now, &out));
  return out;
}

napi_value SetString(napi_env env, napi_value obj, const char* key, const std::string& value) {
  napi_value v;
  NAPI_OK(napi_create_string_utf8(env, value.c_str(), value.size(), &v));
  NAPI_OK(napi_set_named_property(env, obj, key, v));
  return obj;
}

// info(): which BLAS this build links and how it was configured at run time.
napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj;
  NAPI_OK(napi_create_object(env, &obj));
#if defined(MOEVL_OPENBLAS)
  const std::string config = openblas_get_config();
  std::string version;
  // "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64": the version is the second word.
  const size_t sp = config.find(' ');
  if (sp != std::string::npos) version = config.substr(sp + 1, config.find(' ', sp + 1) - sp - 1);
  SetString(env, obj, "blas", "OpenBLAS");
  SetString(env, obj, "version", version);
  SetString(env, obj, "config", config);
  SetString(env, obj, "core", openblas_get_corename());
#elif defined(MOEVL_ACCELERATE)
  SetString(env, obj, "blas", "Accelerate");
  SetString(env, obj, "version", "");
  SetString(env, obj, "config", "Apple Accelerate (vecLib)");
  SetString(env, obj, "core", "");
#else
  SetString(env, obj, "blas", "CBLAS");
  SetString(env, obj, "version", "");
  SetString(env, obj, "config", "generic CBLAS");
  SetString(env, obj, "core", "");
#endif
  return obj;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"biasGelu", nullptr, BiasGelu, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"biasGeluGrad", nullptr, BiasGeluGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layerNorm", nullptr, LayerNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layerNormGrad", nullptr, LayerNormGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumMiddle", nullptr, SumMiddle, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attentionSoftmax", nullptr, AttentionSoftmax, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attentionSoftmaxGrad", nullptr, AttentionSoftmaxGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"transpose", nullptr, Transpose, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"splitHeads", nullptr, SplitHeads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamWUpdate", nullptr, AdamWUpdate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumOfSquares", nullptr, SumOfSquares, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"moveTokens", nullptr, MoveTokens, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  NAPI_OK(napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
