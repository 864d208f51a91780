/* SPDX-License-Identifier: MIT */
/* nn.c: forward and backward passes of the model's layers (see nn.h). The
 * parallel loops split work so that no two threads write one value: rows
 * of the batch in the forward passes, heads in attention's backward (a
 * head owns its columns of q, k and v). */
#include "config.h"

#include <math.h>
#include <string.h>

#include "matmul.h"
#include "nn.h"
#include "rng.h"

void os_nn_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
		os_real alpha, const os_real *a, size_t lda, const os_real *b,
		size_t ldb, os_real beta, os_real *c, size_t ldc)
{
#ifdef OS_NN_DOUBLE
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < n; j++) {
			double sum = 0;

			for (size_t p = 0; p < k; p++)
				sum += (trans_a ? a[p * lda + i] : a[i * lda + p]) *
				       (trans_b ? b[j * ldb + p] : b[p * ldb + j]);
			c[i * ldc + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * ldc + j]);
		}
#else
	os_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
}

void os_nn_embed_forward(os_real *out, const uint32_t *ids,
			 const uint32_t *pos, const uint32_t *ngram_off,
			 const uint32_t *ngram, const os_real *wte,
			 const os_real *wpe, const os_real *wng, size_t n,
			 size_t c)
{
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < n; i++) {
		os_real *o = out + i * c;
		const os_real *te = wte + (size_t)ids[i] * c;
		const os_real *pe = wpe + (size_t)pos[i] * c;
		uint32_t g0 = ngram_off[i], g1 = ngram_off[i + 1];

		for (size_t j = 0; j < c; j++)
			o[j] = te[j] + pe[j];
		if (g1 > g0) {
			os_real share = (os_real)1 / (os_real)(g1 - g0);

			for (uint32_t g = g0; g < g1; g++) {
				const os_real *ge = wng + (size_t)ngram[g] * c;

				for (size_t j = 0; j < c; j++)
					o[j] += share * ge[j];
			}
		}
	}
}

/* Serial: tokens share rows, and this pass costs little next to the
 * layers. */
void os_nn_embed_backward(os_real *dwte, os_real *dwpe, os_real *dwng,
			  const os_real *dout, const uint32_t *ids,
			  const uint32_t *pos, const uint32_t *ngram_off,
			  const uint32_t *ngram, size_t n, size_t c)
{
	for (size_t i = 0; i < n; i++) {
		const os_real *d = dout + i * c;
		os_real *te = dwte + (size_t)ids[i] * c;
		os_real *pe = dwpe + (size_t)pos[i] * c;
		uint32_t g0 = ngram_off[i], g1 = ngram_off[i + 1];

		for (size_t j = 0; j < c; j++) {
			te[j] += d[j];
			pe[j] += d[j];
		}
		if (g1 > g0) {
			os_real share = (os_real)1 / (os_real)(g1 - g0);

			for (uint32_t g = g0; g < g1; g++) {
				os_real *ge = dwng + (size_t)ngram[g] * c;

				for (size_t j = 0; j < c; j++)
					ge[j] += share * d[j];
			}
		}
	}
}

void os_nn_layernorm_forward(os_real *out, os_real *mean, os_real *rstd,
			     const os_real *inp, const os_real *weight,
			     const os_real *bias, size_t n, size_t c)
{
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < n; i++) {
		const os_real *x = inp + i * c;
		os_real *o = out + i * c;
		double m = 0, v = 0;
		os_real s;

		for (size_t j = 0; j < c; j++)
			m += x[j];
		m /= (double)c;
		for (size_t j = 0; j < c; j++)
			v += (x[j] - m) * (x[j] - m);
		v /= (double)c;
		s = (os_real)(1 / sqrt(v + 1e-5));
		for (size_t j = 0; j < c; j++)
			o[j] = (os_real)(s * (x[j] - m)) * weight[j] + bias[j];
		mean[i] = (os_real)m;
		rstd[i] = s;
	}
}

void os_nn_layernorm_backward(os_real *dinp, os_real *dweight,
			      os_real *dbias, const os_real *dout,
			      const os_real *inp, const os_real *weight,
			      const os_real *mean, const os_real *rstd,
			      size_t n, size_t c)
{
	/* input gradients row by row in parallel; the weight gradients sum
	 * over rows, so they are gathered after */
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < n; i++) {
		const os_real *d = dout + i * c, *x = inp + i * c;
		os_real *di = dinp + i * c, m = mean[i], s = rstd[i];
		double dnorm_mean = 0, dnorm_norm_mean = 0;

		for (size_t j = 0; j < c; j++) {
			os_real norm = (x[j] - m) * s, dnorm = weight[j] * d[j];

			dnorm_mean += dnorm;
			dnorm_norm_mean += dnorm * norm;
		}
		dnorm_mean /= (double)c;
		dnorm_norm_mean /= (double)c;
		for (size_t j = 0; j < c; j++) {
			os_real norm = (x[j] - m) * s, dnorm = weight[j] * d[j];

			di[j] += s * (os_real)(dnorm - dnorm_mean - norm * dnorm_norm_mean);
		}
	}
	for (size_t i = 0; i < n; i++) {
		const os_real *d = dout + i * c, *x = inp + i * c;

		for (size_t j = 0; j < c; j++) {
			dbias[j] += d[j];
			dweight[j] += (x[j] - mean[i]) * rstd[i] * d[j];
		}
	}
}

void os_nn_linear_forward(os_real *out, const os_real *inp,
			  const os_real *weight, const os_real *bias, size_t n,
			  size_t ic, size_t oc)
{
	os_nn_gemm(0, 1, n, oc, ic, 1, inp, ic, weight, ic, 0, out, oc);
	if (!bias)
		return;
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < n; i++)
		for (size_t o = 0; o < oc; o++)
			out[i * oc + o] += bias[o];
}

void os_nn_linear_backward(os_real *dinp, os_real *dweight, os_real *dbias,
			   const os_real *dout, const os_real *inp,
			   const os_real *weight, size_t n, size_t ic,
			   size_t oc)
{
	/* dinp (N,IC) += dout (N,OC) weight (OC,IC) */
	os_nn_gemm(0, 0, n, ic, oc, 1, dout, oc, weight, ic, 1, dinp, ic);
	/* dweight (OC,IC) += dout^T inp */
	os_nn_gemm(1, 0, oc, ic, n, 1, dout, oc, inp, ic, 1, dweight, ic);
	if (!dbias)
		return;
	/* columns in blocks, one a thread; each block summed row by row so
	 * the reads run along memory */
#pragma omp parallel for schedule(static)
	for (size_t o0 = 0; o0 < oc; o0 += 64) {
		size_t o1 = o0 + 64 < oc ? o0 + 64 : oc;
		os_real sum[64] = {0};

		for (size_t i = 0; i < n; i++)
			for (size_t o = o0; o < o1; o++)
				sum[o - o0] += dout[i * oc + o];
		for (size_t o = o0; o < o1; o++)
			dbias[o] += sum[o - o0];
	}
}

void os_nn_attention_forward(os_real *out, os_real *att, const os_real *qkv,
			     const uint32_t *seg, size_t n, size_t c,
			     size_t nh, size_t t)
{
	size_t hs = c / nh, c3 = 3 * c;
	os_real scale = (os_real)(1 / sqrt((double)hs));

#pragma omp parallel for collapse(2) schedule(static)
	for (size_t i = 0; i < n; i++)
		for (size_t h = 0; h < nh; h++) {
			const os_real *q = qkv + i * c3 + h * hs;
			size_t s = seg[i], len = i - s + 1;
			os_real *a = att + (i * nh + h) * t, max = -INFINITY, sum = 0;
			os_real *o = out + i * c + h * hs;

			for (size_t j = 0; j < len; j++) {
				const os_real *k = qkv + (s + j) * c3 + c + h * hs;
				os_real dot = 0;

				for (size_t d = 0; d < hs; d++)
					dot += q[d] * k[d];
				a[j] = dot * scale;
				if (a[j] > max)
					max = a[j];
			}
			for (size_t j = 0; j < len; j++) {
				a[j] = (os_real)exp((double)(a[j] - max));
				sum += a[j];
			}
			for (size_t j = 0; j < len; j++)
				a[j] /= sum;
			for (size_t j = len; j < t; j++)
				a[j] = 0;
			memset(o, 0, hs * sizeof *o);
			for (size_t j = 0; j < len; j++) {
				const os_real *v = qkv + (s + j) * c3 + 2 * c + h * hs;

				for (size_t d = 0; d < hs; d++)
					o[d] += a[j] * v[d];
			}
		}
}

void os_nn_attention_backward(os_real *dqkv, const os_real *dout,
			      const os_real *qkv, const os_real *att,
			      const uint32_t *seg, size_t n, size_t c,
			      size_t nh, size_t t)
{
	size_t hs = c / nh, c3 = 3 * c;
	os_real scale = (os_real)(1 / sqrt((double)hs));

#pragma omp parallel for schedule(static)
	for (size_t h = 0; h < nh; h++) {
		os_real datt[OS_NN_MAX_CONTEXT];

		for (size_t i = 0; i < n; i++) {
			const os_real *q = qkv + i * c3 + h * hs;
			const os_real *a = att + (i * nh + h) * t;
			const os_real *d = dout + i * c + h * hs;
			os_real *dq = dqkv + i * c3 + h * hs, dot_sum = 0;
			size_t s = seg[i], len = i - s + 1;

			for (size_t j = 0; j < len; j++) {
				const os_real *v = qkv + (s + j) * c3 + 2 * c + h * hs;
				os_real *dv = dqkv + (s + j) * c3 + 2 * c + h * hs;
				os_real sum = 0;

				for (size_t e = 0; e < hs; e++) {
					sum += d[e] * v[e];
					dv[e] += a[j] * d[e];
				}
				datt[j] = sum;
				dot_sum += a[j] * sum;
			}
			for (size_t j = 0; j < len; j++) {
				const os_real *k = qkv + (s + j) * c3 + c + h * hs;
				os_real *dk = dqkv + (s + j) * c3 + c + h * hs;
				os_real dpre = a[j] * (datt[j] - dot_sum) * scale;

				for (size_t e = 0; e < hs; e++) {
					dq[e] += dpre * k[e];
					dk[e] += dpre * q[e];
				}
			}
		}
	}
}

#define GELU_SCALE 0.7978845608028654 /* sqrt(2 / pi) */

#ifdef OS_NN_DOUBLE
#define TANH(x) tanh(x)
#else
#define TANH(x) tanh_rational(x)
#endif

/* os_nn_tanhf's body, inline so that the GELU loops vectorize (a call in
 * them makes each element a call of its own). */
static inline float tanh_rational(float x)
{
	/* a rational function of odd degree 13 over even degree 6, fitted
	 * on [-7.9, 7.9] (beyond it tanh is 1 to float precision); written
	 * without branches or calls so that the loops using it vectorize */
	const float clamp = 7.90531110763549805f;
	float x2, p, q;

	x = x < -clamp ? -clamp : x > clamp ? clamp : x;
	x2 = x * x;
	p = -2.76076847742355e-16f;
	p = p * x2 + 2.00018790482477e-13f;
	p = p * x2 + -8.60467152213735e-11f;
	p = p * x2 + 5.12229709037114e-08f;
	p = p * x2 + 1.48572235717979e-05f;
	p = p * x2 + 6.37261928875436e-04f;
	p = p * x2 + 4.89352455891786e-03f;
	p *= x;
	q = 1.19825839466702e-06f;
	q = q * x2 + 1.18534705686654e-04f;
	q = q * x2 + 2.26843463243900e-03f;
	q = q * x2 + 4.89352518554385e-03f;
	return p / q;
}

float os_nn_tanhf(float x)
{
	return tanh_rational(x);
}

void os_nn_gelu_forward(os_real *out, const os_real *inp, size_t n)
{
	const os_real c = (os_real)GELU_SCALE, a = (os_real)0.044715;

#pragma omp parallel for simd schedule(static)
	for (size_t i = 0; i < n; i++) {
		os_real x = inp[i];

		out[i] = (os_real)0.5 * x * (1 + TANH(c * (x + a * x * x * x)));
	}
}

void os_nn_gelu_backward(os_real *dinp, const os_real *inp,
			 const os_real *dout, size_t n)
{
	const os_real c = (os_real)GELU_SCALE, a = (os_real)0.044715;

#pragma omp parallel for simd schedule(static)
	for (size_t i = 0; i < n; i++) {
		os_real x = inp[i], th = TANH(c * (x + a * x * x * x));
		os_real grad = (os_real)0.5 * (1 + th) +
			       (os_real)0.5 * x * (1 - th * th) * c * (1 + 3 * a * x * x);

		dinp[i] += grad * dout[i];
	}
}

void os_nn_residual_forward(os_real *out, const os_real *a, const os_real *b,
			    size_t n)
{
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < n; i++)
		out[i] = a[i] + b[i];
}

void os_nn_residual_backward(os_real *da, os_real *db, const os_real *dout,
			     size_t n)
{
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < n; i++) {
		da[i] += dout[i];
		db[i] += dout[i];
	}
}

void os_nn_dropout_mask(os_real *mask, size_t n, double p, uint64_t seed)
{
	struct os_rng rng;
	os_real keep = (os_real)(1 / (1 - p));
	/* 16 bits of a draw decide one value: p is honoured to 1/65536 */
	uint64_t threshold = (uint64_t)(p * 65536.0 + 0.5), bits = 0;

	os_rng_seed(&rng, seed);
	for (size_t i = 0; i < n; i++) {
		if (i % 4 == 0)
			bits = os_rng_next(&rng);
		mask[i] = (bits & 0xffff) < threshold ? 0 : keep;
		bits >>= 16;
	}
}

void os_nn_mul_forward(os_real *out, const os_real *inp, const os_real *mask,
		       size_t n)
{
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < n; i++)
		out[i] = inp[i] * mask[i];
}

void os_nn_mul_backward(os_real *dinp, const os_real *dout,
			const os_real *mask, size_t n)
{
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < n; i++)
		dinp[i] += dout[i] * mask[i];
}

void os_nn_softmax_xent_forward(os_real *losses, os_real *probs,
				const os_real *logits, const uint32_t *target,
				size_t m, size_t k)
{
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < m; i++) {
		const os_real *l = logits + i * k;
		os_real *p = probs + i * k, max = -INFINITY;
		double sum = 0;

		for (size_t j = 0; j < k; j++)
			if (l[j] > max)
				max = l[j];
		for (size_t j = 0; j < k; j++) {
			p[j] = (os_real)exp((double)(l[j] - max));
			sum += p[j];
		}
		for (size_t j = 0; j < k; j++)
			p[j] = (os_real)(p[j] / sum);
		losses[i] = (os_real)(-((double)(l[target[i]] - max) - log(sum)));
	}
}

void os_nn_softmax_xent_backward(os_real *dlogits, const os_real *dloss,
				 const os_real *probs, const uint32_t *target,
				 size_t m, size_t k)
{
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < m; i++) {
		const os_real *p = probs + i * k;
		os_real *d = dlogits + i * k;

		for (size_t j = 0; j < k; j++)
			d[j] += dloss[i] * (p[j] - (j == target[i]));
	}
}

double os_nn_log_sum_exp(const os_real *z, size_t k, double tau)
{
	double max = -INFINITY, sum = 0;

	for (size_t j = 0; j < k; j++)
		if (z[j] / tau > max)
			max = z[j] / tau;
	for (size_t j = 0; j < k; j++)
		sum += exp(z[j] / tau - max);
	return max + log(sum);
}
