/* SPDX-License-Identifier: MIT */
/* rowmm.c: products of a few rows with a matrix laid out for them (see
 * rowmm.h). */
#include "config.h"

#include "rowmm.h"

#include <string.h>

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
#define ROWMM_LOAD(VEC, load, W)                                               \
	const float *bp = b + p * n + j;                                       \
	VEC w0 = load(bp), w1 = load(bp + W), w2 = load(bp + 2 * W);          \
	VEC w3 = load(bp + 3 * W), x
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
 * is the vector type, W its floats; the other arguments are its
 * intrinsics. */
#define ROWMM_KERNEL(name, isa, VEC, W, load, store, set1, fmadd, zero)      \
	__attribute__((target(isa))) static void name(                       \
		float *c, const float *a, const float *b, const float *bias,   \
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
					ROWMM_LOAD(VEC, load, W);              \
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
					ROWMM_LOAD(VEC, load, W);              \
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
						  load(b + p * n + j), s);     \
				store(c + i * n + j, s);                       \
			}                                                      \
	}

ROWMM_KERNEL(rowmm_avx512, "avx512f", __m512, 16, _mm512_loadu_ps,
	     _mm512_storeu_ps, _mm512_set1_ps, _mm512_fmadd_ps,
	     _mm512_setzero_ps)
ROWMM_KERNEL(rowmm_avx2, "avx2,fma", __m256, 8, _mm256_loadu_ps,
	     _mm256_storeu_ps, _mm256_set1_ps, _mm256_fmadd_ps,
	     _mm256_setzero_ps)

static int cpu_has(enum kernel kn)
{
	__builtin_cpu_init();
	if (kn == K_AVX512)
		return __builtin_cpu_supports("avx512f");
	if (kn == K_AVX2)
		return __builtin_cpu_supports("avx2") &&
		       __builtin_cpu_supports("fma");
	return 1;
}
#else
static int cpu_has(enum kernel kn)
{
	return kn == K_GEMM;
}
#endif

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
