/* SPDX-License-Identifier: MIT */
/* matmul.c: C = A * B^T with BLAS or a blocked C kernel (see matmul.h). */
#include "config.h"

#include "matmul.h"

#ifdef OS_HAVE_CBLAS
#include <cblas.h>
#endif

#include "parallel.h"

#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
void openblas_set_num_threads(int n); /* not in every cblas.h */
#endif

void os_matmul_single_threaded(void)
{
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
	openblas_set_num_threads(1);
#endif
}


#define AT(x, ld, trans, r, c) ((trans) ? (x)[(c) * (ld) + (r)] : (x)[(r) * (ld) + (c)])

static void gemm_block(int trans_a, int trans_b, size_t m, size_t n, size_t k,
		       float alpha, const float *a, size_t lda, const float *b,
		       size_t ldb, float beta, float *c, size_t ldc)
{
#ifdef OS_HAVE_CBLAS
	cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
		    trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
		    alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
#else
	/* row i of C accumulated over p, so the inner loop runs along a row
	 * of B when B is not transposed */
	for (size_t i = 0; i < m; i++) {
		float *ci = c + i * ldc;

		for (size_t j = 0; j < n; j++)
			ci[j] = beta == 0 ? 0 : beta * ci[j];
		for (size_t p = 0; p < k; p++) {
			float aip = alpha * AT(a, lda, trans_a, i, p);

			if (aip == 0)
				continue;
			for (size_t j = 0; j < n; j++)
				ci[j] += aip * AT(b, ldb, trans_b, p, j);
		}
	}
#endif
}

/* Rows of C in blocks, one a thread, each block a single-threaded BLAS
 * call: OpenMP owns the cores (see os_matmul_single_threaded()), and a
 * product called inside a parallel region runs on its caller's thread. */
void os_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
	     float alpha, const float *a, size_t lda, const float *b,
	     size_t ldb, float beta, float *c, size_t ldc)
{
	int threads = (double)m * (double)n * (double)k > 1e6
			      ? os_parallel_threads()
			      : 1;

	if (threads <= 1 || m < 2 * (size_t)threads) {
		gemm_block(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,
			   c, ldc);
		return;
	}
#pragma omp parallel for num_threads(threads) schedule(static)
	for (int t = 0; t < threads; t++) {
		size_t i0 = m * (size_t)t / (size_t)threads;
		size_t i1 = m * (size_t)(t + 1) / (size_t)threads;
		const float *at = trans_a ? a + i0 : a + i0 * lda;

		gemm_block(trans_a, trans_b, i1 - i0, n, k, alpha, at, lda, b, ldb,
			   beta, c + i0 * ldc, ldc);
	}
}

void os_gemm_naive(int trans_a, int trans_b, size_t m, size_t n, size_t k,
		   float alpha, const float *a, size_t lda, const float *b,
		   size_t ldb, float beta, float *c, size_t ldc)
{
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < n; j++) {
			double sum = 0;

			for (size_t p = 0; p < k; p++)
				sum += (double)AT(a, lda, trans_a, i, p) *
				       (double)AT(b, ldb, trans_b, p, j);
			c[i * ldc + j] = (float)(alpha * sum +
						 (beta == 0 ? 0 : beta * (double)c[i * ldc + j]));
		}
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
