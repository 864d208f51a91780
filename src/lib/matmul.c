/* SPDX-License-Identifier: MIT */
/* matmul.c: C = A * B^T with BLAS or a blocked C kernel (see matmul.h). */
#include "config.h"

#include "matmul.h"

#ifdef OS_HAVE_CBLAS
#include <cblas.h>
#endif

#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
void openblas_set_num_threads(int n); /* not in every cblas.h */
#endif

void os_matmul_single_threaded(void)
{
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
	openblas_set_num_threads(1);
#endif
}

void os_matmul_abt(float *c, const float *a, const float *b, size_t m,
		   size_t n, size_t k)
{
#ifdef OS_HAVE_CBLAS
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n,
		    (int)k, 1.0f, a, (int)k, b, (int)k, 0.0f, c, (int)n);
#else
	/* rows of A against blocks of rows of B, so a block stays in cache */
	const size_t block = 64;

	for (size_t j0 = 0; j0 < n; j0 += block) {
		size_t j1 = j0 + block < n ? j0 + block : n;

		for (size_t i = 0; i < m; i++) {
			const float *ai = a + i * k;

			for (size_t j = j0; j < j1; j++) {
				const float *bj = b + j * k;
				float sum = 0;

				for (size_t p = 0; p < k; p++)
					sum += ai[p] * bj[p];
				c[i * n + j] = sum;
			}
		}
	}
#endif
}

void os_matmul_abt_naive(float *c, const float *a, const float *b, size_t m,
			 size_t n, size_t k)
{
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < n; j++) {
			double sum = 0;

			for (size_t p = 0; p < k; p++)
				sum += (double)a[i * k + p] * (double)b[j * k + p];
			c[i * n + j] = (float)sum;
		}
}

const char *os_matmul_backend(void)
{
	return OS_BLAS_NAME;
}
