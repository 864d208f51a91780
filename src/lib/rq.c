/* SPDX-License-Identifier: MIT */
/* rq.c: residual quantization (see rq.h). */
#include "config.h"

#include "rq.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void os_rq_init(struct os_rq *rq)
{
	memset(rq, 0, sizeof *rq);
}

void os_rq_release(struct os_rq *rq)
{
	for (size_t l = 0; l < OS_RQ_MAX_LEVELS; l++)
		free(rq->codebook[l]);
	memset(rq, 0, sizeof *rq);
}

/* residual -= codebook row of each item's code */
static void subtract(float *r, size_t n, size_t d, const float *codebook,
		     const uint32_t *codes, size_t levels, size_t l)
{
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < n; i++) {
		const float *c = codebook + (size_t)codes[i * levels + l] * d;

		for (size_t p = 0; p < d; p++)
			r[i * d + p] -= c[p];
	}
}

/* Items ordered by their codes of levels [0, upto), then by index. */
struct by_prefix {
	const uint32_t *codes;
	size_t levels, upto;
};

static int prefix_cmp(const void *a, const void *b, void *ctx)
{
	const struct by_prefix *p = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	for (size_t l = 0; l < p->upto; l++) {
		uint32_t cx = p->codes[x * p->levels + l];
		uint32_t cy = p->codes[y * p->levels + l];

		if (cx != cy)
			return cx < cy ? -1 : 1;
	}
	return (x > y) - (x < y);
}

static size_t *order_by_prefix(const uint32_t *codes, size_t n, size_t levels,
			       size_t upto)
{
	size_t *order = malloc((n + 1) * sizeof *order);
	struct by_prefix p = {codes, levels, upto};

	if (!order)
		return NULL;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof *order, prefix_cmp, &p);
	return order;
}

static int same_prefix(const uint32_t *codes, size_t levels, size_t upto,
		       size_t a, size_t b)
{
	return memcmp(codes + a * levels, codes + b * levels,
		      upto * sizeof *codes) == 0;
}

struct pair {
	float dist;
	uint32_t item; /* index within the group */
	uint32_t code;
};

static int by_dist(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	if (x->item != y->item)
		return x->item < y->item ? -1 : 1;
	return (x->code > y->code) - (x->code < y->code);
}

/* Assigns the last level within each group of items that share the codes
 * above, giving each code at most ceil(group / k) items: pairs of (item,
 * code) are taken nearest first while the code has room. */
static int balanced_last(const float *r, size_t n, size_t d,
			 const float *codebook, size_t k, uint32_t *codes,
			 size_t levels)
{
	size_t last = levels - 1;
	size_t *order = order_by_prefix(codes, n, levels, last);
	int rc = -1;

	if (!order)
		return -1;
	for (size_t g0 = 0, g1; g0 < n; g0 = g1) {
		size_t g, cap;
		float *x = NULL, *dist = NULL;
		struct pair *pairs = NULL;
		size_t *load = NULL;
		unsigned char *done = NULL;

		for (g1 = g0 + 1; g1 < n && same_prefix(codes, levels, last,
							 order[g0], order[g1]);
		     g1++)
			;
		g = g1 - g0;
		cap = (g + k - 1) / k;
		x = malloc(g * d * sizeof *x);
		dist = malloc(g * k * sizeof *dist);
		pairs = malloc(g * k * sizeof *pairs);
		load = calloc(k, sizeof *load);
		done = calloc(g, 1);
		if (!x || !dist || !pairs || !load || !done) {
			free(x), free(dist), free(pairs), free(load), free(done);
			goto out;
		}
		for (size_t i = 0; i < g; i++)
			memcpy(x + i * d, r + order[g0 + i] * d, d * sizeof *x);
		if (os_kmeans_distances(x, g, d, codebook, k, dist) < 0) {
			free(x), free(dist), free(pairs), free(load), free(done);
			goto out;
		}
		for (size_t i = 0; i < g; i++)
			for (size_t c = 0; c < k; c++)
				pairs[i * k + c] = (struct pair){dist[i * k + c],
								 (uint32_t)i,
								 (uint32_t)c};
		qsort(pairs, g * k, sizeof *pairs, by_dist);
		for (size_t p = 0, left = g; p < g * k && left; p++) {
			struct pair *q = &pairs[p];

			if (done[q->item] || load[q->code] == cap)
				continue;
			codes[order[g0 + q->item] * levels + last] = q->code;
			done[q->item] = 1;
			load[q->code]++;
			left--;
		}
		free(x), free(dist), free(pairs), free(load), free(done);
	}
	rc = 0;
out:
	free(order);
	return rc;
}

static int level_codes(const float *r, size_t n, size_t d,
		       const float *codebook, size_t k, uint32_t *codes,
		       size_t levels, size_t l)
{
	uint32_t *a = malloc((n + 1) * sizeof *a);

	if (!a || os_kmeans_assign(r, n, d, codebook, k, a, NULL) < 0) {
		free(a);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		codes[i * levels + l] = a[i];
	free(a);
	return 0;
}

int os_rq_train(struct os_rq *rq, const float *x, size_t n, size_t items,
		size_t d, const size_t *k, size_t levels, int balance,
		const struct os_kmeans_opts *base, uint32_t *codes,
		struct os_rq_report *report,
		void (*progress)(void *ctx, size_t level), void *ctx)
{
	float *r = malloc(n * d * sizeof *r);
	int rc = -1;

	os_rq_release(rq);
	rq->levels = levels;
	rq->dim = d;
	if (!r)
		return -1;
	memcpy(r, x, n * d * sizeof *r);
	for (size_t l = 0; l < levels; l++) {
		struct os_kmeans_opts o = *base;

		if (progress)
			progress(ctx, l);
		o.k = k[l];
		o.seed = base->seed + l;
		rq->k[l] = k[l];
		rq->codebook[l] = malloc(k[l] * d * sizeof *rq->codebook[l]);
		if (!rq->codebook[l] || os_kmeans_train(r, n, d, &o, rq->codebook[l]) < 0)
			goto out;
		if (balance && l + 1 == levels && levels > 1) {
			/* balanced over the items; other points take the nearest */
			if (balanced_last(r, items, d, rq->codebook[l], k[l], codes,
					  levels) < 0 ||
			    level_codes(r + items * d, n - items, d, rq->codebook[l],
					k[l], codes + items * levels, levels, l) < 0)
				goto out;
		} else if (level_codes(r, n, d, rq->codebook[l], k[l], codes,
				       levels, l) < 0) {
			goto out;
		}
		subtract(r, n, d, rq->codebook[l], codes, levels, l);
	}
	rc = report ? os_rq_measure(rq, x, items, codes, report) : 0;
out:
	free(r);
	return rc;
}

int os_rq_encode(const struct os_rq *rq, const float *x, size_t n,
		 uint32_t *codes)
{
	float *r = malloc((n * rq->dim + 1) * sizeof *r);

	if (!r)
		return -1;
	memcpy(r, x, n * rq->dim * sizeof *r);
	for (size_t l = 0; l < rq->levels; l++) {
		if (level_codes(r, n, rq->dim, rq->codebook[l], rq->k[l], codes,
				rq->levels, l) < 0) {
			free(r);
			return -1;
		}
		subtract(r, n, rq->dim, rq->codebook[l], codes, rq->levels, l);
	}
	free(r);
	return 0;
}

int os_rq_measure(const struct os_rq *rq, const float *x, size_t n,
		  const uint32_t *codes, struct os_rq_report *report)
{
	size_t d = rq->dim, levels = rq->levels, unique = 0;
	float *r = malloc((n * d + 1) * sizeof *r);
	size_t *order;

	memset(report, 0, sizeof *report);
	if (!r)
		return -1;
	memcpy(r, x, n * d * sizeof *r);
	for (size_t l = 0; l < levels; l++) {
		size_t *count = calloc(rq->k[l], sizeof *count);
		double err = 0, entropy = 0;

		if (!count) {
			free(r);
			return -1;
		}
		subtract(r, n, d, rq->codebook[l], codes, levels, l);
		for (size_t i = 0; i < n; i++) {
			for (size_t p = 0; p < d; p++)
				err += (double)r[i * d + p] * r[i * d + p];
			count[codes[i * levels + l]]++;
		}
		for (size_t c = 0; c < rq->k[l]; c++)
			if (count[c]) {
				double p = (double)count[c] / (double)n;

				entropy -= p * log(p);
				report->used[l]++;
			}
		report->error[l] = n ? err / (double)n : 0;
		report->perplexity[l] = exp(entropy);
		free(count);
	}
	free(r);
	if (!(order = order_by_prefix(codes, n, levels, levels)))
		return -1;
	for (size_t g0 = 0, g1; g0 < n; g0 = g1) {
		for (g1 = g0 + 1; g1 < n && same_prefix(codes, levels, levels,
							 order[g0], order[g1]);
		     g1++)
			;
		unique += g1 - g0 == 1;
		if (g1 - g0 > report->largest_bucket)
			report->largest_bucket = g1 - g0;
	}
	report->icr = n ? (double)unique / (double)n : 1;
	free(order);
	return 0;
}

int os_rq_disambiguate(const uint32_t *codes, size_t n, size_t levels,
		       uint32_t *extra)
{
	size_t *order = order_by_prefix(codes, n, levels, levels);

	if (!order)
		return -1;
	for (size_t i = 0; i < n; i++)
		extra[order[i]] = i > 0 && same_prefix(codes, levels, levels,
						       order[i - 1], order[i])
					  ? extra[order[i - 1]] + 1
					  : 0;
	free(order);
	return 0;
}
