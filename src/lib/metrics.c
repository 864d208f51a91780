/* SPDX-License-Identifier: MIT */
/* metrics.c: per-query retrieval metrics (see metrics.h). */
#include "config.h"

#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const cut_names[OS_METRIC_CUT_COUNT_] = {
	[OS_METRIC_RECALL] = "recall", [OS_METRIC_MRR] = "mrr",
	[OS_METRIC_NDCG] = "ndcg",     [OS_METRIC_HIT] = "hit",
	[OS_METRIC_P] = "p",
};

size_t os_metrics_count(const struct os_metric_set *s)
{
	return OS_METRIC_CUT_COUNT_ * s->ncut + 2;
}

const char *os_metrics_name(const struct os_metric_set *s, size_t i,
			    char *buf, size_t size)
{
	size_t cuts = OS_METRIC_CUT_COUNT_ * s->ncut;

	if (i < cuts)
		snprintf(buf, size, "%s@%ld", cut_names[i / s->ncut],
			 s->cutoffs[i % s->ncut]);
	else
		snprintf(buf, size, "%s", i == cuts ? "map" : "mrr");
	return buf;
}

/* trec_eval's discount: rank 1 counts fully, rank r > 1 by 1 / log2(r). */
static double discount(size_t rank)
{
	return rank == 1 ? 1.0 : 1.0 / log2((double)rank);
}

static int by_gain_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y) - (x > y);
}

void os_metrics_query(const struct os_metric_set *s, const double *gain,
		      const unsigned char *relevant, size_t n,
		      const uint32_t *deep, size_t ndeep, double *judged_gain,
		      size_t njudged, size_t num_rel, double *out)
{
	size_t cuts = OS_METRIC_CUT_COUNT_ * s->ncut;
	size_t first_rel = 0; /* rank of the first relevant item, 0: none */
	size_t rel_seen = 0;
	double ap = 0;

	qsort(judged_gain, njudged, sizeof *judged_gain, by_gain_desc);
	for (size_t i = 0; i < n; i++)
		if (relevant[i]) {
			rel_seen++;
			ap += (double)rel_seen / (double)(i + 1);
			if (!first_rel)
				first_rel = i + 1;
		}
	for (size_t i = 0; i < ndeep; i++) {
		rel_seen++;
		ap += (double)rel_seen / (double)deep[i];
		if (!first_rel)
			first_rel = deep[i];
	}
	for (size_t c = 0; c < s->ncut; c++) {
		size_t k = (size_t)s->cutoffs[c], rel_k = 0;
		double dcg = 0, idcg = 0;

		for (size_t i = 0; i < n && i < k; i++) {
			rel_k += relevant[i];
			if (gain[i] > 0)
				dcg += gain[i] * discount(i + 1);
		}
		for (size_t i = 0; i < njudged && i < k && judged_gain[i] > 0; i++)
			idcg += judged_gain[i] * discount(i + 1);
		out[OS_METRIC_RECALL * s->ncut + c] =
			num_rel ? (double)rel_k / (double)num_rel : 0;
		out[OS_METRIC_MRR * s->ncut + c] =
			first_rel && first_rel <= k ? 1.0 / (double)first_rel : 0;
		out[OS_METRIC_NDCG * s->ncut + c] = idcg > 0 ? dcg / idcg : 0;
		out[OS_METRIC_HIT * s->ncut + c] = rel_k > 0;
		out[OS_METRIC_P * s->ncut + c] = (double)rel_k / (double)k;
	}
	out[cuts] = num_rel ? ap / (double)num_rel : 0;
	out[cuts + 1] = first_rel ? 1.0 / (double)first_rel : 0;
}
