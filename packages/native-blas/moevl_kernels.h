// Fused non-matmul kernels (moevl_kernels.cc), called by the N-API layer in moevl_blas.cc on heap pointers
// it has bounds-checked. x is [outer, reduce, inner] row-major; bias (nullable) is [outer, inner].
#pragma once
#include <cstdint>
#include <functional>

namespace moevl {

void SetKernelThreads(int n);

// Runs body(i) for i in [0, n) on up to `threads` threads (the caller's included), each taking the next index
// as it finishes one: for uneven items such as MoE experts with different loads.
void ParallelEntries(int64_t n, int threads, const std::function<void(int64_t)>& body);

// y = gelu(x + bias), exact erf form or (tanh_form) the tanh approximation.
void BiasGeluForward(const float* x, const float* bias, float* y, int64_t outer, int64_t reduce, int64_t inner,
                     bool tanh_form);

// dx = dy · gelu'(x + bias); dbias (nullable) = Σ over reduce of dx, summed in float64.
void BiasGeluBackward(const float* dy, const float* x, const float* bias, float* dx, float* dbias, int64_t outer,
                      int64_t reduce, int64_t inner, bool tanh_form);

// LayerNorm over rows of d values: y = (x − μ)·rstd·γ + β, writing μ and rstd = 1/√(σ² + eps) per row.
void LayerNormForward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                      int64_t rows, int64_t d, float eps);

// dx, dγ = Σ dy·x̂ and dβ = Σ dy (float64 sums) from the forward's μ and rstd.
void LayerNormBackward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                       float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t d);

// out[o, i] = scale · Σ_r x[o, r, i] (float64 sums): reductions over axes that are not the innermost.
void SumMiddle(const float* x, float* out, int64_t outer, int64_t reduce, int64_t inner, double scale);

// y = softmax over the last axis of scale·x + bias for x [b, h, t, s]; bias (nullable) is
// [bias_b, 1, bias_t, s] with bias_b 1 or b and bias_t 1 or t (an additive mask, broadcast over heads).
void AttentionSoftmax(const float* x, const float* bias, float* y, int64_t b, int64_t h, int64_t t, int64_t s,
                      int64_t bias_b, int64_t bias_t, float scale);

// dx = scale·y·(dy − Σ dy·y) per row of s values.
void AttentionSoftmaxGrad(const float* dy, const float* y, float* dx, int64_t rows, int64_t s, float scale);

// y = x with its axes permuted (y's axis i is x's axis perm[i]), 4-byte elements, rank ≤ 8.
void Transpose4(const void* x, void* y, int rank, const int64_t* shape, const int* perm);

// Attention's packed projection y [b·t, 3·h·hd] (q, k, v blocks) to per-head q, k, v [b·h, t, hd]; with
// merge, the reverse (q, k, v are read and y is written).
void SplitHeads(const float* y, float* q, float* k, float* v, int64_t b, int64_t t, int64_t h, int64_t hd,
                bool merge);

// One AdamW update of n values (outputs may alias inputs); consts = [gradScale, decay, β1, 1 − β1, β2, 1 − β2,
// stepSize, √(1 − β2^t), eps] as float32, bitwise the update tfjs' float32 kernels compute one by one.
void AdamWUpdate(const float* p, const float* m, const float* v, const float* g, float* p_out, float* m_out,
                 float* v_out, int64_t n, const float* consts, bool scaled, bool decayed);

// Σ x² over n values, summed in float64.
double SumOfSquares(const float* x, int64_t n);

// C[e] = op(A[e]) · op(B[e]) for batch entries e of small products (attention's 40×40×32), A[e] and B[e] at
// element offsets a_off[e] and b_off[e], C dense: a register-blocked kernel (B packed when transposed or ragged),
// on one thread. BLAS calls that small spend most of their time in call and packing overhead.
void SmallBatchedGemm(const float* a, const float* b, float* c, const int64_t* a_off, const int64_t* b_off,
                      int64_t batch, int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b);

// Sparse MoE's token <-> expert-buffer moves (core's dispatch_kernels.ts has the rule and the JavaScript
// version these equal bitwise): choice (s, j) of token s goes to buffer slot expert[s,j]·cap + pos[s,j], or is
// dropped (pos outside [0, cap), slot outside [0, E·cap)). Rows no choice writes are zero.
enum TokenMove { kDispatch = 0, kDispatchGrad = 1, kCombine = 2, kCombineGrad = 3, kCombineWeightsGrad = 4 };
// kDispatch: out[E·cap, d] = Σ x[s] into its slots; kDispatchGrad: out[s] = Σ_j in[slot(s,j)];
// kCombine: out[s] = Σ_j w[s,j]·in[slot(s,j)]; kCombineGrad: out[slot(s,j)] += w[s,j]·in[s];
// kCombineWeightsGrad: out[s,j] = ⟨in[s], y[slot(s,j)]⟩ (y: the expert outputs).
void MoveTokens(int kind, const float* in, const float* y, const int32_t* expert, const int32_t* pos,
                const float* w, float* out, int64_t s, int64_t k, int64_t d, int64_t experts, int64_t cap);

}  // namespace moevl
