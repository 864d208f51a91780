/* SPDX-License-Identifier: MIT */
/* test-metrics: every per-query metric against values worked out by hand
 * from the definitions (trec_eval's), including graded gains, unjudged
 * items, no relevant items, an empty ranking, and a ranking cut after its
 * head with the ranks of the relevant items below. */
#include "config.h"

#include <math.h>
#include <stdint.h>

#include "lib/metrics.h"
#include "tap.h"

static int near(double got, double want, const char *name)
{
	if (!ok(fabs(got - want) < 1e-12, name))
		printf("#   got:  %.17g\n#   want: %.17g\n", got, want);
	return fabs(got - want) < 1e-12;
}

int main(void)
{
	static const long cutoffs[] = {1, 3, 5, 10};
	struct os_metric_set s = {cutoffs, 4};
	double out[32];
	char name[32];

	/* Ranked: a judged 0, a 3 (relevant), a 1, an unjudged item, a 2
	 * (relevant). Judged: 3, 2, 1, 0 and a relevant 3 not retrieved;
	 * relevant means grade >= 2, so 3 relevant items. */
	double gain[] = {0, 3, 1, 0, 2};
	unsigned char rel[] = {0, 1, 0, 0, 1};
	double judged[] = {3, 2, 1, 0, 3};

	is_long((long)os_metrics_count(&s), 22, "5 metrics x 4 cutoffs + map + mrr");
	is_str(os_metrics_name(&s, 0, name, sizeof name), "recall@1", "first name");
	is_str(os_metrics_name(&s, OS_METRIC_NDCG * 4 + 2, name, sizeof name), "ndcg@5", "ndcg@5 name");
	is_str(os_metrics_name(&s, 20, name, sizeof name), "map", "map name");
	is_str(os_metrics_name(&s, 21, name, sizeof name), "mrr", "mrr name");

	os_metrics_query(&s, gain, rel, 5, NULL, 0, judged, 5, 3, out);
	near(out[OS_METRIC_RECALL * 4 + 0], 0, "recall@1 = 0/3");
	near(out[OS_METRIC_RECALL * 4 + 1], 1.0 / 3, "recall@3 = 1/3");
	near(out[OS_METRIC_RECALL * 4 + 2], 2.0 / 3, "recall@5 = 2/3");
	near(out[OS_METRIC_RECALL * 4 + 3], 2.0 / 3, "recall@10 = 2/3 (list shorter than K)");
	near(out[OS_METRIC_MRR * 4 + 0], 0, "mrr@1 = 0");
	near(out[OS_METRIC_MRR * 4 + 1], 0.5, "mrr@3 = 1/2");
	near(out[OS_METRIC_HIT * 4 + 0], 0, "hit@1 = 0");
	near(out[OS_METRIC_HIT * 4 + 1], 1, "hit@3 = 1");
	near(out[OS_METRIC_P * 4 + 1], 1.0 / 3, "p@3 = 1/3");
	near(out[OS_METRIC_P * 4 + 2], 2.0 / 5, "p@5 = 2/5");
	near(out[OS_METRIC_P * 4 + 3], 2.0 / 10, "p@10 = 2/10 (divides by K)");
	/* DCG: rank 2 gain 3 (discount 1/log2 2 = 1), rank 3 gain 1, rank 5
	 * gain 2; ideal: 3, 3, 2, 1. */
	near(out[OS_METRIC_NDCG * 4 + 0], 0, "ndcg@1 = 0 / 3");
	near(out[OS_METRIC_NDCG * 4 + 1],
	     (3 + 1 / log2(3)) / (3 + 3 + 2 / log2(3)), "ndcg@3");
	near(out[OS_METRIC_NDCG * 4 + 2],
	     (3 + 1 / log2(3) + 2 / log2(5)) / (3 + 3 + 2 / log2(3) + 1 / log2(4)),
	     "ndcg@5");
	near(out[20], (1.0 / 2 + 2.0 / 5) / 3, "map = (1/2 + 2/5) / 3");
	near(out[21], 0.5, "mrr without cutoff");

	/* A query whose judgments hold nothing relevant, and an empty run. */
	{
		double g[] = {1}, j[] = {1};
		unsigned char r[] = {0};

		os_metrics_query(&s, g, r, 1, NULL, 0, j, 1, 0, out);
		near(out[OS_METRIC_RECALL * 4 + 3], 0, "no relevant items: recall 0");
		near(out[20], 0, "no relevant items: map 0");
		near(out[OS_METRIC_NDCG * 4 + 0], 1, "but a graded item at rank 1: ndcg@1 1");
		os_metrics_query(&s, g, r, 0, NULL, 0, j, 1, 1, out);
		near(out[OS_METRIC_NDCG * 4 + 3], 0, "empty ranking: ndcg 0");
		near(out[21], 0, "empty ranking: mrr 0");
	}
	/* The same ranking cut after rank 3, the relevant item at rank 5
	 * given by its rank: with cutoffs up to 3, every value is the same. */
	{
		static const long head_cutoffs[] = {1, 3};
		struct os_metric_set h = {head_cutoffs, 2};
		static const uint32_t deep[] = {5};
		double whole[12], cut[12], j1[] = {3, 2, 1, 0, 3},
					   j2[] = {3, 2, 1, 0, 3};
		int same = 1;

		os_metrics_query(&h, gain, rel, 5, NULL, 0, j1, 5, 3, whole);
		os_metrics_query(&h, gain, rel, 3, deep, 1, j2, 5, 3, cut);
		for (size_t i = 0; i < os_metrics_count(&h); i++)
			same &= whole[i] == cut[i];
		ok(same, "a list cut after its head, with the ranks of relevant items below, gives the same values");
		near(cut[10], (1.0 / 2 + 2.0 / 5) / 3, "map reaches the rank below the cut");
		os_metrics_query(&h, gain, (const unsigned char[]){0, 0, 0}, 3,
				 deep, 1, j2, 5, 3, cut);
		near(cut[11], 1.0 / 5, "mrr without cutoff finds a first relevant item below the cut");
	}
	return tap_done();
}
