// The small-product kernel of moevl_kernels.cc, included once per instruction set (AVX-512, AVX2+FMA, baseline)
// inside its own namespace, like moevl_rows_impl.h. Multiply-adds may fuse here (a matrix product has no
// bitwise reference to keep: OpenBLAS fuses them too), so the includer enables fp-contract for this file.
// NOLINT(build/header_guard): included several times on purpose.

typedef float V8 __attribute__((vector_size(32)));
typedef float V8u __attribute__((vector_size(32), aligned(4)));

// C[m×n] (row stride ldc) = A · Bp, A's element (i, p) at a[i·ars + p·acs] (read in place: untransposed and
// transposed alike), Bp k rows of n16 values at row stride ldb (n16 = ⌈n/16⌉·16; columns past n are never
// stored). A 4×16 block of C lives in eight vector registers; the last row block repeats row m − 1.
void SmallGemm(const float* MOEVL_RESTRICT a, int64_t ars, int64_t acs, const float* MOEVL_RESTRICT bp, int64_t ldb,
               float* MOEVL_RESTRICT c, int64_t m, int64_t n, int64_t k, int64_t n16, int64_t ldc) {
  for (int64_t i0 = 0; i0 < m; i0 += 4) {
    const float* ar[4];
    for (int r = 0; r < 4; r++) ar[r] = a + (i0 + r < m ? i0 + r : m - 1) * ars;
    for (int64_t j0 = 0; j0 < n16; j0 += 16) {
      V8 acc[4][2] = {};
      const float* b = bp + j0;
      for (int64_t p = 0; p < k; p++) {
        const V8 b0 = *reinterpret_cast<const V8u*>(b + p * ldb);
        const V8 b1 = *reinterpret_cast<const V8u*>(b + p * ldb + 8);
        const int64_t q = p * acs;
        for (int r = 0; r < 4; r++) {
          const float s = ar[r][q];
          acc[r][0] += s * b0;
          acc[r][1] += s * b1;
        }
      }
      const int64_t rows = m - i0 < 4 ? m - i0 : 4;
      const int64_t cols = n - j0 < 16 ? n - j0 : 16;
      for (int64_t r = 0; r < rows; r++) {
        float* out = c + (i0 + r) * ldc + j0;
        if (cols == 16) {
          *reinterpret_cast<V8u*>(out) = acc[r][0];
          *reinterpret_cast<V8u*>(out + 8) = acc[r][1];
        } else {
          float tmp[16];
          *reinterpret_cast<V8u*>(tmp) = acc[r][0];
          *reinterpret_cast<V8u*>(tmp + 8) = acc[r][1];
          for (int64_t j = 0; j < cols; j++) out[j] = tmp[j];
        }
      }
    }
  }
}
