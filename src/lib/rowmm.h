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
 * computes the same product. The bfloat16 product has an AVX512-BF16
 * kernel and a plain C one. */
#ifndef OS_ROWMM_H
#define OS_ROWMM_H

#include <stddef.h>
#include <stdint.h>

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

/* The same product with B in bfloat16 (8 bits of mantissa instead of 24):
 * half the bytes to stream, and twice the products an instruction where
 * the CPU has AVX512-BF16. Each row of A is rounded to bfloat16 too (into
 * `pairs`, the caller's m x ceil(k/2) scratch), and the products of each
 * pair along k are summed in float. B comes from os_rowmm_bf16_pack(). */
void os_rowmm_bf16(float *c, const float *a, const uint32_t *b,
		   const float *bias, size_t m, size_t n, size_t k,
		   uint32_t *pairs);

/* Lays out B (k x n; element (p, j) at src[p * stride_k + j * stride_n],
 * so that a matrix and its transpose both serve) for os_rowmm_bf16():
 * ceil(k/2) x n pairs, pair (p, j) holding B's (2p, j) in its low 16 bits
 * and (2p + 1, j) (0 past k) in its high 16 bits, each the nearest
 * bfloat16 (ties to even). */
void os_rowmm_bf16_pack(uint32_t *dst, const float *src, size_t k, size_t n,
			size_t stride_k, size_t stride_n);

/* The kernel os_rowmm_bf16() uses for a product of width n: "avx512bf16"
 * (when os_rowmm_force() allows "avx512"), else "c". */
const char *os_rowmm_bf16_kernel(size_t n);

#endif
