/* SPDX-License-Identifier: MIT */
/* dense.h: exact dense retrieval: the rows of an item matrix with the
 * highest dot product with a query vector. The caller owns every array. */
#ifndef OS_DENSE_H
#define OS_DENSE_H

#include <stddef.h>

struct os_dense_hit {
	size_t row;
	float score; /* the dot product */
};

/* The k rows of x (n rows of dim floats) of highest dot product with q
 * (dim floats), best first, equal scores by lower row; `scores` is the
 * caller's scratch of n floats. Returns how many were written (k, or n
 * when smaller). */
size_t os_dense_top(const float *x, size_t n, size_t dim, const float *q,
		    size_t k, float *scores, struct os_dense_hit *out);

/* The k best rows of x, as os_dense_top() ranks them, for each of m
 * query vectors q (m rows of dim floats): query i's into out[i * k'..],
 * where k' = min(k, n) is returned; all in one matrix product (the item
 * matrix read once, not m times). `scores` is the caller's scratch of
 * m x n floats. Runs on the calling thread (the BLAS as os_matmul_abt()
 * runs it). */
size_t os_dense_top_many(const float *x, size_t n, size_t dim, const float *q,
			 size_t m, size_t k, float *scores,
			 struct os_dense_hit *out);

#endif
