/* SPDX-License-Identifier: MIT */
/* encoder.c: the built-in text encoder (see encoder.h). The table and the
 * batch's matrix products are float; means, softmax and normalization are
 * computed in double. */
#include "config.h"

#include "encoder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "matmul.h"
#include "ngram.h"

void os_encoder_opts_default(struct os_encoder_opts *o)
{
	o->batch = 256;
	o->epochs = 10;
	o->lr = 0.5;
	o->temperature = 0.05;
	o->seed = 1;
}

int os_encoder_init(struct os_encoder *e, size_t vocab, size_t buckets,
		    size_t dim, uint64_t seed)
{
	size_t rows = vocab + buckets;
	struct os_rng rng;

	memset(e, 0, sizeof *e);
	e->dim = dim;
	e->vocab = vocab;
	e->buckets = buckets;
	e->table = malloc(rows * dim * sizeof *e->table);
	if (!e->table)
		return -1;
	os_rng_seed(&rng, seed);
	for (size_t i = 0; i < rows * dim; i++)
		e->table[i] = (float)(os_rng_normal(&rng) / sqrt((double)dim));
	return 0;
}

void os_encoder_release(struct os_encoder *e)
{
	free(e->table);
	free(e->accum);
	memset(e, 0, sizeof *e);
}

int os_encoder_features(const struct os_encoder *e, const struct os_tokens *t,
			long (*word_id)(void *ctx, const char *w, size_t len),
			void *ctx, struct os_features *f)
{
	size_t cap = 0;

	f->id = NULL;
	f->n = 0;
	for (size_t i = 0; i < t->n; i++) {
		uint32_t grams[256];
		size_t ng = os_ngrams(os_token_text(t, i), t->v[i].len,
				      (uint32_t)e->buckets, grams, 256);
		long w = word_id(ctx, os_token_text(t, i), t->v[i].len);
		uint32_t *id;

		if (ng > 256)
			ng = 256;
		if (!(id = os_grow(f->id, &cap, f->n + ng + 1, sizeof *id, 64)))
			return -1;
		f->id = id;
		if (w > 0 && (size_t)w < e->vocab)
			id[f->n++] = (uint32_t)w;
		for (size_t g = 0; g < ng; g++)
			id[f->n++] = (uint32_t)(e->vocab + grams[g]);
	}
	return 0;
}

/* m = mean of the feature rows (double); returns |m|. */
static double mean_vector(const struct os_encoder *e,
			  const struct os_features *f, double *m)
{
	double norm = 0;

	memset(m, 0, e->dim * sizeof *m);
	for (size_t k = 0; k < f->n; k++) {
		const float *row = e->table + (size_t)f->id[k] * e->dim;

		for (size_t p = 0; p < e->dim; p++)
			m[p] += row[p];
	}
	for (size_t p = 0; p < e->dim && f->n; p++) {
		m[p] /= (double)f->n;
		norm += m[p] * m[p];
	}
	return sqrt(norm);
}

void os_encoder_embed(const struct os_encoder *e, const struct os_features *f,
		      float *out)
{
	double *m = malloc(e->dim * sizeof *m), norm;

	if (!m) {
		memset(out, 0, e->dim * sizeof *out);
		return;
	}
	norm = mean_vector(e, f, m);
	for (size_t p = 0; p < e->dim; p++)
		out[p] = norm > 0 ? (float)(m[p] / norm) : 0;
	free(m);
}

/* The batch's loss and, for each text, dL/dm (the gradient with respect to
 * its mean vector): dmA and dmB (n x dim). The three products (S = U V^T,
 * dU = G V, dV = G^T U) go through os_matmul_abt() in float; softmax and
 * normalization are in double. */
/* Buffers of forward_backward() for batches of up to n pairs. */
struct workspace {
	float *U, *V, *Ut, *Vt, *S, *G, *Gt, *dU, *dV;
	double *m, *nu, *nv;
};

static void workspace_release(struct workspace *w)
{
	free(w->U), free(w->V), free(w->Ut), free(w->Vt), free(w->S);
	free(w->G), free(w->Gt), free(w->dU), free(w->dV);
	free(w->m), free(w->nu), free(w->nv);
}

static int workspace_init(struct workspace *w, size_t n, size_t d)
{
	w->U = malloc(n * d * sizeof *w->U);
	w->V = malloc(n * d * sizeof *w->V);
	w->Ut = malloc(n * d * sizeof *w->Ut);
	w->Vt = malloc(n * d * sizeof *w->Vt);
	w->S = malloc(n * n * sizeof *w->S);
	w->G = malloc(n * n * sizeof *w->G);
	w->Gt = malloc(n * n * sizeof *w->Gt);
	w->dU = malloc(n * d * sizeof *w->dU);
	w->dV = malloc(n * d * sizeof *w->dV);
	w->m = malloc(d * sizeof *w->m);
	w->nu = malloc(n * sizeof *w->nu);
	w->nv = malloc(n * sizeof *w->nv);
	if (w->U && w->V && w->Ut && w->Vt && w->S && w->G && w->Gt && w->dU &&
	    w->dV && w->m && w->nu && w->nv)
		return 0;
	workspace_release(w);
	return -1;
}

static double forward_backward(const struct os_encoder *e,
			       const struct os_features *a,
			       const struct os_features *b, size_t n,
			       double tau, struct workspace *w, double *dmA,
			       double *dmB)
{
	size_t d = e->dim;
	float *U = w->U, *V = w->V, *Ut = w->Ut, *Vt = w->Vt, *S = w->S;
	float *G = w->G, *Gt = w->Gt, *dU = w->dU, *dV = w->dV;
	double *m = w->m, *nu = w->nu, *nv = w->nv, loss = 0;

	memset(G, 0, n * n * sizeof *G);
	for (size_t i = 0; i < n; i++)
		for (int side = 0; side < 2; side++) {
			double norm = mean_vector(e, side ? &b[i] : &a[i], m);
			float *row = (side ? V : U) + i * d;

			(side ? nv : nu)[i] = norm;
			for (size_t p = 0; p < d; p++)
				row[p] = norm > 0 ? (float)(m[p] / norm) : 0;
		}
	os_matmul_abt(S, U, V, n, n, d);
	/* rows: queries against items; columns: items against queries */
	for (int dir = 0; dir < 2; dir++)
		for (size_t i = 0; i < n; i++) {
			double max = -INFINITY, sum = 0;

			for (size_t j = 0; j < n; j++) {
				double s = (dir ? S[j * n + i] : S[i * n + j]) / tau;

				if (s > max)
					max = s;
			}
			for (size_t j = 0; j < n; j++)
				sum += exp((dir ? S[j * n + i] : S[i * n + j]) / tau - max);
			loss += -(S[i * n + i] / tau - max - log(sum)) / (2.0 * (double)n);
			for (size_t j = 0; j < n; j++) {
				double s = (dir ? S[j * n + i] : S[i * n + j]) / tau;
				double g = (exp(s - max) / sum - (i == j)) / (2.0 * (double)n);

				G[dir ? j * n + i : i * n + j] += (float)(g / tau);
			}
		}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++)
			Gt[j * n + i] = G[i * n + j];
		for (size_t p = 0; p < d; p++) {
			Ut[p * n + i] = U[i * d + p];
			Vt[p * n + i] = V[i * d + p];
		}
	}
	os_matmul_abt(dU, G, Vt, n, d, n);  /* dU = G V */
	os_matmul_abt(dV, Gt, Ut, n, d, n); /* dV = G^T U */
	/* through the normalization: dm = (du - u (u . du)) / |m| */
	for (size_t i = 0; i < n; i++) {
		double dot_u = 0, dot_v = 0;

		for (size_t p = 0; p < d; p++) {
			dot_u += (double)U[i * d + p] * dU[i * d + p];
			dot_v += (double)V[i * d + p] * dV[i * d + p];
		}
		for (size_t p = 0; p < d; p++) {
			dmA[i * d + p] = nu[i] > 0 ? (dU[i * d + p] - U[i * d + p] * dot_u) / nu[i] : 0;
			dmB[i * d + p] = nv[i] > 0 ? (dV[i * d + p] - V[i * d + p] * dot_v) / nv[i] : 0;
		}
	}
	return loss;
}

double os_encoder_batch_loss(const struct os_encoder *e,
			     const struct os_features *a,
			     const struct os_features *b, size_t n,
			     double temperature, float *grad)
{
	size_t d = e->dim;
	double *dmA = malloc((n * d + 1) * sizeof *dmA);
	double *dmB = malloc((n * d + 1) * sizeof *dmB);
	struct workspace w;
	double loss = NAN;

	if (dmA && dmB && workspace_init(&w, n, d) == 0) {
		loss = forward_backward(e, a, b, n, temperature, &w, dmA, dmB);
		workspace_release(&w);
		for (size_t i = 0; grad && i < n; i++)
			for (int side = 0; side < 2; side++) {
				const struct os_features *f = side ? &b[i] : &a[i];
				const double *dm = (side ? dmB : dmA) + i * d;

				for (size_t k = 0; k < f->n; k++)
					for (size_t p = 0; p < d; p++)
						grad[(size_t)f->id[k] * d + p] +=
							(float)(dm[p] / (double)f->n);
			}
	}
	free(dmA);
	free(dmB);
	return loss;
}

/* One row-wise Adagrad step on the rows of a text's features: each row
 * keeps one sum of its mean squared gradients, the usual form for
 * embedding tables (one square root a row, not one a value). */
static void adagrad(struct os_encoder *e, const struct os_features *f,
		    const double *dm, double lr)
{
	double sq = 0, inv = 1.0 / (double)(f->n ? f->n : 1);

	for (size_t p = 0; p < e->dim; p++)
		sq += dm[p] * dm[p];
	sq *= inv * inv / (double)e->dim;
	for (size_t k = 0; k < f->n; k++) {
		float *row = e->table + (size_t)f->id[k] * e->dim;
		double step;

		e->accum[f->id[k]] += (float)sq;
		step = lr * inv / (sqrt((double)e->accum[f->id[k]]) + 1e-8);
		for (size_t p = 0; p < e->dim; p++)
			row[p] -= (float)(step * dm[p]);
	}
}

int os_encoder_train(struct os_encoder *e, const struct os_features *a,
		     const struct os_features *b, size_t n,
		     const struct os_encoder_opts *o,
		     void (*report)(void *ctx, int epoch, double loss),
		     void *ctx)
{
	size_t d = e->dim, rows = e->vocab + e->buckets, bs = o->batch;
	size_t *order = malloc((n + 1) * sizeof *order);
	struct os_features *ba = malloc(bs * sizeof *ba), *bb = malloc(bs * sizeof *bb);
	double *dmA = malloc(bs * d * sizeof *dmA), *dmB = malloc(bs * d * sizeof *dmB);
	struct os_rng rng;
	int rc = -1;

	struct workspace w;

	if (!e->accum)
		e->accum = calloc(rows, sizeof *e->accum);
	if (!order || !ba || !bb || !dmA || !dmB || !e->accum ||
	    workspace_init(&w, bs, d) < 0)
		goto out;
	os_rng_seed(&rng, o->seed);
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (int epoch = 0; epoch < o->epochs; epoch++) {
		double total = 0;
		size_t steps = 0;

		for (size_t i = n; i > 1; i--) { /* shuffle */
			size_t j = (size_t)os_rng_below(&rng, i), t = order[i - 1];

			order[i - 1] = order[j];
			order[j] = t;
		}
		for (size_t s = 0; s + 1 < n; s += bs) {
			size_t m = n - s < bs ? n - s : bs;
			double loss;

			for (size_t i = 0; i < m; i++) {
				ba[i] = a[order[s + i]];
				bb[i] = b[order[s + i]];
			}
			loss = forward_backward(e, ba, bb, m, o->temperature, &w, dmA, dmB);
			for (size_t i = 0; i < m; i++) {
				adagrad(e, &ba[i], dmA + i * d, o->lr);
				adagrad(e, &bb[i], dmB + i * d, o->lr);
			}
			total += loss;
			steps++;
		}
		if (report)
			report(ctx, epoch + 1, steps ? total / (double)steps : 0);
	}
	workspace_release(&w);
	rc = 0;
out:
	free(order), free(ba), free(bb), free(dmA), free(dmB);
	return rc;
}
