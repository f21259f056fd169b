// N-API addon: single-precision GEMM from a CBLAS, run on memory that JavaScript owns (the tfjs wasm
// heap), in place. The caller passes the heap's ArrayBuffer and byte offsets; nothing is copied in or out.
// Batches (with broadcast batch dimensions as zero strides), the transpose flags, a rank-1 bias and the
// activations tfjs fuses into `_FusedMatMul` are handled here so one kernel call is one N-API call.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#if defined(MOEVL_ACCELERATE)
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif

namespace {

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
  if (k > 0) {
    const float beta = has_bias ? 1.f : 0.f;
    const int lda = static_cast<int>(std::max<int64_t>(1, trans_a ? m : k));
    const int ldb = static_cast<int>(std::max<int64_t>(1, trans_b ? k : n));
    const int ldc = static_cast<int>(std::max<int64_t>(1, n));
    int64_t index[kMaxRank] = {0};
    int64_t a_off = 0, b_off = 0;
    for (int64_t e = 0; e < batch; e++) {
      cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                  static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.f, a + a_off, lda, b + b_off,
                  ldb, beta, c + e * m * n, ldc);
      // Odometer over the batch dims, last fastest, carrying the A and B offsets along.
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
  ApplyActivation(c, static_cast<size_t>(out_size), act, alpha);
  return nullptr;
}

#if defined(MOEVL_OPENBLAS)
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
char* openblas_get_corename(void);
}
#endif

// setThreads(n): the BLAS's own thread pool size. Returns the count in effect (0 when the BLAS has no knob).
napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t want = 0;
  if (argc >= 1) NAPI_OK(napi_get_value_int32(env, argv[0], &want));
  int32_t now = 0;
#if defined(MOEVL_OPENBLAS)
  if (want > 0) openblas_set_num_threads(want);
  now = openblas_get_num_threads();
#endif
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
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  NAPI_OK(napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
