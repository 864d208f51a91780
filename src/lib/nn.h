/* SPDX-License-Identifier: MIT */
/* nn.h: the kernels the SID generator is made of, each a forward and a
 * backward function over plain arrays (the layout of llm.c): arguments in
 * the order outputs, caches, inputs, weights, sizes; backward passes add
 * to their gradients (zeroing is the caller's); shapes in comments.
 *
 * A batch is N tokens of several sequences packed one after another:
 * seg[i] is the index of the first token of token i's sequence, so that
 * attention stays inside a sequence and no padding is computed.
 *
 * os_real is float; a test build defines OS_NN_DOUBLE to run the same code
 * in double, where central finite differences are exact enough to check
 * every backward pass. The caller owns every array. */
#ifndef OS_NN_H
#define OS_NN_H

#include <float.h>
#include <stddef.h>
#include <stdint.h>

#ifdef OS_NN_DOUBLE
typedef double os_real;
#define OS_REAL_MIN DBL_MIN /* the smallest normal number */
#else
typedef float os_real;
#define OS_REAL_MIN FLT_MIN
#endif

/* The longest sequence attention handles. */
#define OS_NN_MAX_CONTEXT 1024

/* out = a op(b): the product the linear layers use, BLAS sgemm in float,
 * a plain loop in double (see os_gemm in matmul.h). */
void os_nn_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
		os_real alpha, const os_real *a, size_t lda, const os_real *b,
		size_t ldb, os_real beta, os_real *c, size_t ldc);

/* The log of a softmax's normalizer, log sum_j exp(z_j / tau) (k values,
 * the largest subtracted first, summed in double); then log softmax(z /
 * tau)_j = z_j / tau - lse. */
double os_nn_log_sum_exp(const os_real *z, size_t k, double tau);

/* Token embedding: out[i] = wte[ids[i]] + wpe[pos[i]] + the mean of the
 * n-gram rows wng[ngram[ngram_off[i] .. ngram_off[i+1])] (none: no term).
 * out (N,C); wte (*,C); wpe (*,C); wng (*,C). */
void os_nn_embed_forward(os_real *out, const uint32_t *ids,
			 const uint32_t *pos, const uint32_t *ngram_off,
			 const uint32_t *ngram, const os_real *wte,
			 const os_real *wpe, const os_real *wng, size_t n,
			 size_t c);
void os_nn_embed_backward(os_real *dwte, os_real *dwpe, os_real *dwng,
			  const os_real *dout, const uint32_t *ids,
			  const uint32_t *pos, const uint32_t *ngram_off,
			  const uint32_t *ngram, size_t n, size_t c);

/* Layer normalization over C; mean and rstd (N) are kept for backward. */
void os_nn_layernorm_forward(os_real *out, os_real *mean, os_real *rstd,
			     const os_real *inp, const os_real *weight,
			     const os_real *bias, size_t n, size_t c);
void os_nn_layernorm_backward(os_real *dinp, os_real *dweight,
			      os_real *dbias, const os_real *dout,
			      const os_real *inp, const os_real *weight,
			      const os_real *mean, const os_real *rstd,
			      size_t n, size_t c);

/* out (N,OC) = inp (N,IC) weight^T + bias; weight (OC,IC); bias (OC) or
 * NULL. */
void os_nn_linear_forward(os_real *out, const os_real *inp,
			  const os_real *weight, const os_real *bias, size_t n,
			  size_t ic, size_t oc);
void os_nn_linear_backward(os_real *dinp, os_real *dweight, os_real *dbias,
			   const os_real *dout, const os_real *inp,
			   const os_real *weight, size_t n, size_t ic,
			   size_t oc);

/* Causal multi-head attention inside each sequence. qkv (N,3C) holds the
 * queries, keys and values of every token; out (N,C); att (N,NH,T) keeps
 * the attention weights for backward, T >= the longest sequence. */
void os_nn_attention_forward(os_real *out, os_real *att, const os_real *qkv,
			     const uint32_t *seg, size_t n, size_t c,
			     size_t nh, size_t t);
void os_nn_attention_backward(os_real *dqkv, const os_real *dout,
			      const os_real *qkv, const os_real *att,
			      const uint32_t *seg, size_t n, size_t c,
			      size_t nh, size_t t);

/* tanh in float to within a few units in the last place, vectorizable. */
float os_nn_tanhf(float x);

/* GELU (tanh approximation), elementwise over n values. */
void os_nn_gelu_forward(os_real *out, const os_real *inp, size_t n);
void os_nn_gelu_backward(os_real *dinp, const os_real *inp,
			 const os_real *dout, size_t n);

/* out = a + b, elementwise; backward adds dout to both. */
void os_nn_residual_forward(os_real *out, const os_real *a, const os_real *b,
			    size_t n);
void os_nn_residual_backward(os_real *da, os_real *db, const os_real *dout,
			     size_t n);

/* Inverted dropout: out = inp * mask, mask holding 0 or 1/(1-p). */
void os_nn_dropout_mask(os_real *mask, size_t n, double p, uint64_t seed);
void os_nn_mul_forward(os_real *out, const os_real *inp, const os_real *mask,
		       size_t n);
void os_nn_mul_backward(os_real *dinp, const os_real *dout,
			const os_real *mask, size_t n);

/* Softmax of each row of logits (M,K) into probs, and the cross-entropy
 * -log probs[m][target[m]] into losses (M). */
void os_nn_softmax_xent_forward(os_real *losses, os_real *probs,
				const os_real *logits, const uint32_t *target,
				size_t m, size_t k);
/* dlogits (M,K) += dloss[m] * (probs[m] - onehot(target[m])). */
void os_nn_softmax_xent_backward(os_real *dlogits, const os_real *dloss,
				 const os_real *probs, const uint32_t *target,
				 size_t m, size_t k);

#endif
