/* SPDX-License-Identifier: MIT */
/* matmul.h: the matrix product the numeric code is built on, with BLAS
 * (cblas_sgemm, when configure found one) or a plain C kernel, and the
 * naive reference that tests compare both against. Row-major, float. */
#ifndef OS_MATMUL_H
#define OS_MATMUL_H

#include <stddef.h>

/* C (m x n) = A (m x k) * B^T, where B is (n x k): every row of A against
 * every row of B, as distances and scores need. */
void os_matmul_abt(float *c, const float *a, const float *b, size_t m,
		   size_t n, size_t k);

/* The same with one loop per element, in double: the reference. */
void os_matmul_abt_naive(float *c, const float *a, const float *b, size_t m,
			 size_t n, size_t k);

/* The general product, as BLAS gives it: C = alpha * op(A) op(B) + beta * C
 * with op(X) = X or X^T (trans_* nonzero), op(A) (m x k), op(B) (k x n),
 * row-major with leading dimensions lda, ldb, ldc. The model's layers and
 * their backward passes are made of it. Large products split C's rows
 * over the OpenMP threads. */
void os_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
	     float alpha, const float *a, size_t lda, const float *b,
	     size_t ldb, float beta, float *c, size_t ldc);

/* The same with one loop per element, in double: the reference. */
void os_gemm_naive(int trans_a, int trans_b, size_t m, size_t n, size_t k,
		   float alpha, const float *a, size_t lda, const float *b,
		   size_t ldb, float beta, float *c, size_t ldc);

/* The name of the kernel in use ("openblas", "cblas", "none"). */
const char *os_matmul_backend(void);

/* Makes the BLAS run on the calling thread only, so that the suite's
 * OpenMP loops, each calling os_matmul_abt() on its own block, own the
 * cores. Call once before the first product. */
void os_matmul_single_threaded(void);

#endif
