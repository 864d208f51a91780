/* SPDX-License-Identifier: MIT */
/* metrics.h: the per-query retrieval metrics of os-eval (see os-eval(1)
 * for the formulas). A query's ranked list is given as, for each rank, the
 * gain and the relevance of the item there (unjudged items: gain 0, not
 * relevant); its judgments as the gains of every judged item and the
 * number of relevant ones.
 *
 * The values follow trec_eval's definitions: recall_K, P_K, ndcg_cut_K
 * (DCG discount 1 at rank 1 and log2(rank) after), recip_rank cut at K,
 * map; Recall, precision and AP are 0 for a query without relevant items. */
#ifndef OS_METRICS_H
#define OS_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum os_metric {
	OS_METRIC_RECALL, /* recall@K */
	OS_METRIC_MRR,    /* mrr@K: 1 / rank of the first relevant, 0 if none in K */
	OS_METRIC_NDCG,   /* ndcg@K */
	OS_METRIC_HIT,    /* hit@K: 1 if a relevant item is in the top K */
	OS_METRIC_P,      /* p@K */
	OS_METRIC_CUT_COUNT_,
};

struct os_metric_set {
	const long *cutoffs; /* K values, each >= 1 */
	size_t ncut;
};

/* Values per query: OS_METRIC_CUT_COUNT_ * ncut values at index
 * metric * ncut + cutoff, then MAP, then MRR without a cutoff. */
size_t os_metrics_count(const struct os_metric_set *s);
/* The name of value i ("recall@10", "map", "mrr"), written to buf. */
const char *os_metrics_name(const struct os_metric_set *s, size_t i,
			    char *buf, size_t size);

/* Computes the values of one query into out[os_metrics_count(s)].
 * gain[i], relevant[i]: the item at rank i + 1 (n items, distinct, at
 * least the largest cutoff unless the list ends there); deep[0..ndeep):
 * the ranks, ascending and above n, of the relevant items further down
 * the list (only MAP and MRR without a cutoff reach them);
 * judged_gain[0..njudged): every judged item's gain (any order; the array
 * is sorted in place); num_rel: the number of relevant judged items. */
void os_metrics_query(const struct os_metric_set *s, const double *gain,
		      const unsigned char *relevant, size_t n,
		      const uint32_t *deep, size_t ndeep, double *judged_gain,
		      size_t njudged, size_t num_rel, double *out);

#endif
