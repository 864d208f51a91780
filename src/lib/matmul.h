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

/* The name of the kernel in use ("openblas", "cblas", "none"). */
const char *os_matmul_backend(void);

/* Makes the BLAS run on the calling thread only, so that the suite's
 * OpenMP loops, each calling os_matmul_abt() on its own block, own the
 * cores. Call once before the first product. */
void os_matmul_single_threaded(void);

#endif
