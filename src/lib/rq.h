/* SPDX-License-Identifier: MIT */
/* rq.h: residual quantization (RQ-KMeans) of item vectors into
 * hierarchical semantic IDs. Level 1 clusters the vectors, each next level
 * clusters what the levels above left (the residuals); the last level is
 * assigned in a balanced way within each parent (the items that share the
 * codes above), which spreads siblings over codes; a final disambiguation
 * code makes every item's SID unique.
 *
 * The quantizer owns its codebooks. */
#ifndef OS_RQ_H
#define OS_RQ_H

#include <stddef.h>
#include <stdint.h>

#include "kmeans.h"

#define OS_RQ_MAX_LEVELS 8

struct os_rq {
	size_t levels, dim;
	size_t k[OS_RQ_MAX_LEVELS];
	float *codebook[OS_RQ_MAX_LEVELS]; /* k[l] x dim */
};

struct os_rq_report {
	double error[OS_RQ_MAX_LEVELS];      /* mean squared residual after */
	double perplexity[OS_RQ_MAX_LEVELS]; /* exp(entropy) of code usage */
	size_t used[OS_RQ_MAX_LEVELS];       /* codes used */
	double icr;                          /* items with a unique SID before
					      * disambiguation, a share */
	size_t largest_bucket;               /* most items on one SID */
};

void os_rq_init(struct os_rq *rq);
void os_rq_release(struct os_rq *rq);

/* Trains `levels` levels of k[l] codes on x (n x d) and writes each row's
 * codes to codes[i * levels + l]. The first `items` rows are the items:
 * the others (queries, clustered with them into one codebook) only train.
 * With `balance` the items' last level is assigned in a balanced way within
 * each parent, else to the nearest code. The report covers the items.
 * `base`
 * gives iterations, tolerance, sample size and seed (level l uses seed +
 * l). `progress`, when given, is called before each level. Returns 0, or
 * -1 when out of memory. */
int os_rq_train(struct os_rq *rq, const float *x, size_t n, size_t items,
		size_t d, const size_t *k, size_t levels, int balance,
		const struct os_kmeans_opts *base, uint32_t *codes,
		struct os_rq_report *report,
		void (*progress)(void *ctx, size_t level), void *ctx);

/* Codes of new vectors from the trained codebooks, the nearest code at each
 * level. Returns 0 or -1. */
int os_rq_encode(const struct os_rq *rq, const float *x, size_t n,
		 uint32_t *codes);

/* Per-level error, usage and perplexity of `codes` for x, and the share of
 * items alone on their codes (ICR) with the largest bucket. */
int os_rq_measure(const struct os_rq *rq, const float *x, size_t n,
		  const uint32_t *codes, struct os_rq_report *report);

/* The disambiguation code of each item: 0, 1, 2, ... among the items with
 * the same codes, in item order. */
int os_rq_disambiguate(const uint32_t *codes, size_t n, size_t levels,
		       uint32_t *extra);

#endif
