/* SPDX-License-Identifier: MIT */
/* rowmm.c: products of a few rows with a matrix laid out for them, in
 * float or in bfloat16 pairs (see rowmm.h). */
#include "config.h"

#include "rowmm.h"

#include <stdint.h>
#include <string.h>

#include "cpu.h"
#include "matmul.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define OS_ROWMM_X86 1
#include <immintrin.h>
#endif

/* The kernels' order of preference; a kernel takes widths that are a
 * multiple of its vector's floats. */
enum kernel { K_AVX512, K_AVX2, K_GEMM };
static const char *const kernel_name[] = {"avx512", "avx2", "gemm"};
static const size_t kernel_width[] = {16, 8, 1};
static int forced = -1; /* os_rowmm_force(): the best kernel allowed */

#ifdef OS_ROWMM_X86
/* Row r of a block of 4 rows: x = its value at p, times the block's 4
 * vectors w0..w3 of B's row p, added to its accumulators cr0..cr3. */
#define ROWMM_ROW(r, set1, fmadd)                                              \
	do {                                                                   \
		x = set1(a[(i + r) * k + p]);                                  \
		c##r##0 = fmadd(x, w0, c##r##0);                               \
		c##r##1 = fmadd(x, w1, c##r##1);                               \
		c##r##2 = fmadd(x, w2, c##r##2);                               \
		c##r##3 = fmadd(x, w3, c##r##3);                               \
	} while (0)
/* The block's 4 vectors of B's row p, and x for ROWMM_ROW; then a
 * row's accumulators stored. */
#define ROWMM_LOAD(BT, bload, set1, W)                                         \
	const BT *bp = b + p * n + j;                                          \
	__typeof__(bload(bp)) w0 = bload(bp), w1 = bload(bp + W);             \
	__typeof__(bload(bp)) w2 = bload(bp + 2 * W), w3 = bload(bp + 3 * W); \
	__typeof__(set1(*a)) x
#define ROWMM_STORE(r, store, W)                                               \
	do {                                                                   \
		store(c + (i + r) * n + j, c##r##0);                           \
		store(c + (i + r) * n + j + W, c##r##1);                       \
		store(c + (i + r) * n + j + 2 * W, c##r##2);                   \
		store(c + (i + r) * n + j + 3 * W, c##r##3);                   \
	} while (0)

/* One kernel, written once for any vector type: rows in blocks of 4 and
 * columns in blocks of 4 vectors (16 accumulators, named so that they
 * stay in registers), then the rows and columns left one at a time. VEC
 * is the accumulators' type, W its floats; A's and B's elements are of
 * type AT and BT (floats, or pairs of bfloat16 along k, in which case k
 * counts pairs); load, store and zero are VEC's intrinsics, bload loads W
 * elements of B, set1 spreads an element of A, and fmadd(x, w, acc)
 * returns acc + x * w. */
#define ROWMM_KERNEL(name, isa, VEC, W, AT, BT, load, bload, store, set1,    \
		     fmadd, zero)                                              \
	__attribute__((target(isa))) static void name(                       \
		float *c, const AT *a, const BT *b, const float *bias,         \
		size_t m, size_t n, size_t k)                                  \
	{                                                                      \
		size_t j = 0;                                                  \
                                                                               \
		for (; j + 4 * W <= n; j += 4 * W) {                           \
			VEC b0 = bias ? load(bias + j) : zero();               \
			VEC b1 = bias ? load(bias + j + W) : zero();           \
			VEC b2 = bias ? load(bias + j + 2 * W) : zero();       \
			VEC b3 = bias ? load(bias + j + 3 * W) : zero();       \
			size_t i = 0;                                          \
                                                                               \
			for (; i + 4 <= m; i += 4) {                           \
				VEC c00 = b0, c01 = b1, c02 = b2, c03 = b3;    \
				VEC c10 = b0, c11 = b1, c12 = b2, c13 = b3;    \
				VEC c20 = b0, c21 = b1, c22 = b2, c23 = b3;    \
				VEC c30 = b0, c31 = b1, c32 = b2, c33 = b3;    \
                                                                               \
				for (size_t p = 0; p < k; p++) {               \
					ROWMM_LOAD(BT, bload, set1, W);        \
                                                                               \
					ROWMM_ROW(0, set1, fmadd);             \
					ROWMM_ROW(1, set1, fmadd);             \
					ROWMM_ROW(2, set1, fmadd);             \
					ROWMM_ROW(3, set1, fmadd);             \
				}                                              \
				ROWMM_STORE(0, store, W);                      \
				ROWMM_STORE(1, store, W);                      \
				ROWMM_STORE(2, store, W);                      \
				ROWMM_STORE(3, store, W);                      \
			}                                                      \
			for (; i < m; i++) {                                   \
				VEC c00 = b0, c01 = b1, c02 = b2, c03 = b3;    \
                                                                               \
				for (size_t p = 0; p < k; p++) {               \
					ROWMM_LOAD(BT, bload, set1, W);        \
                                                                               \
					ROWMM_ROW(0, set1, fmadd);             \
				}                                              \
				ROWMM_STORE(0, store, W);                      \
			}                                                      \
		}                                                              \
		for (; j < n; j += W)                                          \
			for (size_t i = 0; i < m; i++) {                       \
				VEC s = bias ? load(bias + j) : zero();        \
                                                                               \
				for (size_t p = 0; p < k; p++)                 \
					s = fmadd(set1(a[i * k + p]),          \
						  bload(b + p * n + j), s);    \
				store(c + i * n + j, s);                       \
			}                                                      \
	}

ROWMM_KERNEL(rowmm_avx512, "avx512f", __m512, 16, float, float,
	     _mm512_loadu_ps, _mm512_loadu_ps, _mm512_storeu_ps,
	     _mm512_set1_ps, _mm512_fmadd_ps, _mm512_setzero_ps)
ROWMM_KERNEL(rowmm_avx2, "avx2,fma", __m256, 8, float, float,
	     _mm256_loadu_ps, _mm256_loadu_ps, _mm256_storeu_ps,
	     _mm256_set1_ps, _mm256_fmadd_ps, _mm256_setzero_ps)

/* bfloat16 pairs: a pair of A times 16 pairs of B, summed a pair each
 * into 16 floats (AVX512-BF16's dot product). */
#define BF16_LOAD(p) ((__m512bh)_mm512_loadu_si512(p))
#define BF16_SET1(pair) ((__m512bh)_mm512_set1_epi32((int)(pair)))
#define BF16_DOT(x, w, acc) _mm512_dpbf16_ps(acc, x, w)
ROWMM_KERNEL(rowmm_bf16_avx512, "avx512f,avx512bf16", __m512, 16, uint32_t,
	     uint32_t, _mm512_loadu_ps, BF16_LOAD, _mm512_storeu_ps,
	     BF16_SET1, BF16_DOT, _mm512_setzero_ps)

static void row_pairs(uint32_t *out, const float *row, size_t from, size_t k);

/* The rows of A as pairs (see os_rowmm_bf16()), 32 values at a time: a
 * row of bfloat16 in its order is its pairs. */
__attribute__((target("avx512f,avx512bf16"))) static void
pairs_avx512(uint32_t *pairs, const float *a, size_t m, size_t k)
{
	size_t k2 = (k + 1) / 2;

	for (size_t i = 0; i < m; i++) {
		const float *row = a + i * k;
		uint32_t *out = pairs + i * k2;
		size_t p = 0;

		for (; p + 32 <= k; p += 32)
			_mm512_storeu_si512(out + p / 2,
					    (__m512i)_mm512_cvtne2ps_pbh(
						_mm512_loadu_ps(row + p + 16),
						_mm512_loadu_ps(row + p)));
		row_pairs(out, row, p, k);
	}
}

#endif

static int cpu_has(enum kernel kn)
{
	if (kn == K_AVX512)
		return os_cpu_avx512f();
	if (kn == K_AVX2)
		return os_cpu_avx2();
	return 1;
}

static enum kernel choose(size_t n)
{
	for (int kn = forced < 0 ? K_AVX512 : forced; kn < K_GEMM; kn++)
		if (n % kernel_width[kn] == 0 && cpu_has((enum kernel)kn))
			return (enum kernel)kn;
	return K_GEMM;
}

const char *os_rowmm_kernel(size_t n)
{
	return kernel_name[choose(n)];
}

int os_rowmm_force(const char *kernel)
{
	if (!kernel) {
		forced = -1;
		return 0;
	}
	for (int kn = K_AVX512; kn <= K_GEMM; kn++)
		if (!strcmp(kernel, kernel_name[kn])) {
			if (!cpu_has((enum kernel)kn))
				return -1;
			forced = kn;
			return 0;
		}
	return -1;
}

void os_rowmm(float *c, const float *a, const float *b, const float *bias,
	      size_t m, size_t n, size_t k)
{
	switch (choose(n)) {
#ifdef OS_ROWMM_X86
	case K_AVX512:
		rowmm_avx512(c, a, b, bias, m, n, k);
		return;
	case K_AVX2:
		rowmm_avx2(c, a, b, bias, m, n, k);
		return;
#endif
	default:
		os_gemm(0, 0, m, n, k, 1, a, k, b, n, 0, c, n);
		if (bias)
			for (size_t i = 0; i < m; i++)
				for (size_t j = 0; j < n; j++)
					c[i * n + j] += bias[j];
	}
}

/* ---- bfloat16 ---- */

/* The bfloat16 nearest to f (ties to even), NaNs kept NaNs. */
static uint32_t to_bf16(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof u);
	if ((u & 0x7fffffffu) > 0x7f800000u)
		return (u >> 16) | 0x40u;
	return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

/* The pair of lo and hi, each rounded to bfloat16. */
static uint32_t bf16_pair(float lo, float hi)
{
	return to_bf16(lo) | to_bf16(hi) << 16;
}

/* Pairs [from/2, (k+1)/2) of a row of k values (from even), the last one's
 * high half 0 when k is odd. */
static void row_pairs(uint32_t *out, const float *row, size_t from, size_t k)
{
	for (size_t p = from; p < k; p += 2)
		out[p / 2] = bf16_pair(row[p], p + 1 < k ? row[p + 1] : 0);
}

static float bf16_low(uint32_t pair)
{
	uint32_t u = pair << 16;
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

static float bf16_high(uint32_t pair)
{
	uint32_t u = pair & 0xffff0000u;
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

void os_rowmm_bf16_pack(uint32_t *dst, const float *src, size_t k, size_t n,
			size_t stride_k, size_t stride_n)
{
	for (size_t p = 0; p < k; p += 2)
		for (size_t j = 0; j < n; j++)
			dst[p / 2 * n + j] = bf16_pair(
			    src[p * stride_k + j * stride_n],
			    p + 1 < k ? src[(p + 1) * stride_k + j * stride_n] : 0);
}

/* The product in plain C, each pair's two products added in float. */
static void rowmm_bf16_c(float *c, const uint32_t *a, const uint32_t *b,
			 const float *bias, size_t m, size_t n, size_t k2)
{
	for (size_t i = 0; i < m; i++) {
		float *ci = c + i * n;

		for (size_t j = 0; j < n; j++)
			ci[j] = bias ? bias[j] : 0;
		for (size_t p = 0; p < k2; p++) {
			float lo = bf16_low(a[i * k2 + p]);
			float hi = bf16_high(a[i * k2 + p]);
			const uint32_t *bp = b + p * n;

			for (size_t j = 0; j < n; j++)
				ci[j] += lo * bf16_low(bp[j]) + hi * bf16_high(bp[j]);
		}
	}
}

/* Whether os_rowmm_bf16() takes the AVX512-BF16 kernel for width n. */
static int bf16_kernel(size_t n)
{
	return forced <= K_AVX512 && n % 16 == 0 && os_cpu_avx512bf16();
}

const char *os_rowmm_bf16_kernel(size_t n)
{
	return bf16_kernel(n) ? "avx512bf16" : "c";
}

void os_rowmm_bf16(float *c, const float *a, const uint32_t *b,
		   const float *bias, size_t m, size_t n, size_t k,
		   uint32_t *pairs)
{
	size_t k2 = (k + 1) / 2;

#ifdef OS_ROWMM_X86
	if (bf16_kernel(n)) {
		pairs_avx512(pairs, a, m, k);
		rowmm_bf16_avx512(c, pairs, b, bias, m, n, k2);
		return;
	}
#endif
	for (size_t i = 0; i < m; i++)
		row_pairs(pairs + i * k2, a + i * k, 0, k);
	rowmm_bf16_c(c, pairs, b, bias, m, n, k2);
}
