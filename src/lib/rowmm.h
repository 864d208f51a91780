/* SPDX-License-Identifier: MIT */
/* rowmm.h: the product of a few rows with a large matrix, as search needs
 * it: a handful of beams (rows) through each weight matrix of the model.
 * A general BLAS product copies (packs) the whole weight matrix into its
 * own layout on every call, which for 20 rows costs more than the
 * arithmetic; here the matrix is laid out once, transposed (k x n, row
 * major), and the kernel streams through it as it is: each row of it is
 * multiplied by one value of each input row and added to their outputs.
 * Kernels for AVX-512 and AVX2 with FMA are chosen at run time from what
 * the CPU has; elsewhere, or for widths they do not take, os_gemm()
 * computes the same product. */
#ifndef OS_ROWMM_H
#define OS_ROWMM_H

#include <stddef.h>

/* C (m x n) = A (m x k) * B + bias, where B is (k x n) row-major and bias
 * (n values, or NULL) is added to every row. C, A and B do not overlap. */
void os_rowmm(float *c, const float *a, const float *b, const float *bias,
	      size_t m, size_t n, size_t k);

/* Restricts os_rowmm() to `kernel` ("avx512", "avx2" or "gemm") and the
 * ones after it, so that a test can check each kernel the CPU has; NULL
 * lets it choose from all again. Returns 0, or -1 when the CPU lacks it
 * (nothing changes). Not thread-safe. */
int os_rowmm_force(const char *kernel);

/* The kernel os_rowmm() uses for a product of width n: "avx512", "avx2"
 * or "gemm". */
const char *os_rowmm_kernel(size_t n);

#endif
