/* SPDX-License-Identifier: MIT */
/* validate.c: measuring a model on judged queries (see validate.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "metrics.h"
#include "validate.h"

struct os_validator {
	struct os_generative *g;
	struct os_text_pool pool;
	uint32_t *start, *len;  /* (n) each query's text in the pool */
	size_t *rel_first;      /* (n + 1) into rel */
	uint32_t *rel;          /* relevant item index numbers */
	size_t n, cap, nrel, rel_cap;
	const struct os_model_config *cfg;
};

static int add_query(void *ctx, const cJSON *record, const char *query,
		     const long *items, size_t nitems, struct os_error *err)
{
	struct os_validator *v = ctx;
	uint32_t start;
	long n;

	if (nitems == 0)
		return 0;
	if (v->n + 1 >= v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 256;
		uint32_t *s = realloc(v->start, cap * sizeof *s);
		uint32_t *l = s ? realloc(v->len, cap * sizeof *l) : NULL;
		size_t *f = l ? realloc(v->rel_first, (cap + 1) * sizeof *f) : NULL;

		if (s)
			v->start = s;
		if (l)
			v->len = l;
		if (!f)
			goto oom;
		v->rel_first = f;
		v->cap = cap;
	}
	if (v->nrel + nitems > v->rel_cap) {
		size_t cap = 2 * (v->nrel + nitems);
		uint32_t *r = realloc(v->rel, cap * sizeof *r);

		if (!r)
			goto oom;
		v->rel = r;
		v->rel_cap = cap;
	}
	if ((n = os_generative_query_text(v->g, v->cfg, &v->pool, record, query, "",
					  &start, err)) < 0)
		return -1;
	v->start[v->n] = start;
	v->len[v->n] = (uint32_t)n;
	v->rel_first[v->n] = v->nrel;
	for (size_t i = 0; i < nitems; i++)
		v->rel[v->nrel++] = (uint32_t)items[i];
	v->n++;
	v->rel_first[v->n] = v->nrel;
	return 0;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return -1;
}

struct reading {
	struct os_validator *v;
	struct os_error *err;
};

static int read_one(void *ctx, const cJSON *record, const char *query,
		    const long *items, size_t nitems)
{
	struct reading *r = ctx;

	return add_query(r->v, record, query, items, nitems, r->err);
}

void os_validator_free(struct os_validator *v)
{
	if (!v)
		return;
	os_text_pool_release(&v->pool);
	free(v->start);
	free(v->len);
	free(v->rel_first);
	free(v->rel);
	free(v);
}

struct os_validator *os_validator_load(const char *path, size_t max_line,
				       double min_grade,
				       struct os_generative *g,
				       const struct os_model_config *cfg,
				       struct os_error *err)
{
	struct os_validator *v = calloc(1, sizeof *v);
	char *paths[] = {(char *)path};
	struct reading r = {v, err};
	long unknown = 0;

	if (!v) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return NULL;
	}
	v->g = g;
	v->cfg = cfg;
	os_text_pool_init(&v->pool);
	if (os_generative_queries(g, paths, 1, max_line, min_grade, read_one, &r,
				  &unknown, err) < 0) {
		os_validator_free(v);
		return NULL;
	}
	return v;
}

int os_validate(struct os_validator *v, const struct os_model *m,
		size_t beam, struct os_valid_result *r, struct os_error *err)
{
	const long cut[] = {10};
	const struct os_metric_set set = {cut, 1};
	size_t nvalues = os_metrics_count(&set);
	double recall = 0, mrr = 0;
	int failed = 0;

	memset(r, 0, sizeof *r);
#pragma omp parallel reduction(+ : recall, mrr) reduction(| : failed)
	{
		struct os_decoder d;
		struct os_hit hits[10];
		double gain[10], *judged = NULL, *values = malloc(nvalues * sizeof *values);
		unsigned char relevant[10];
		size_t judged_cap = 0;

		if (!values || os_decoder_init(&d, m, &v->g->index, beam) < 0)
			failed = 1;
#pragma omp for schedule(dynamic, 8)
		for (size_t q = 0; q < v->n; q++) {
			size_t nrel = v->rel_first[q + 1] - v->rel_first[q];
			const uint32_t *rel = v->rel + v->rel_first[q];
			long n;

			if (failed)
				continue;
			n = os_decoder_search(&d, &v->pool, v->start[q], v->len[q], beam,
					      10, hits, NULL);
			if (n < 0 || (nrel > judged_cap &&
				      !(judged = realloc(judged, (judged_cap = nrel) *
							 sizeof *judged)))) {
				failed = 1;
				continue;
			}
			for (long i = 0; i < n; i++) {
				relevant[i] = 0;
				for (size_t j = 0; j < nrel; j++)
					relevant[i] |= hits[i].item == rel[j];
				gain[i] = relevant[i];
			}
			for (size_t j = 0; j < nrel; j++)
				judged[j] = 1;
			os_metrics_query(&set, gain, relevant, (size_t)n, NULL, 0,
					 judged, nrel, nrel, values);
			recall += values[OS_METRIC_RECALL];
			mrr += values[OS_METRIC_MRR];
		}
		if (values)
			os_decoder_release(&d);
		free(values);
		free(judged);
	}
	if (failed) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	r->queries = v->n;
	r->recall = v->n ? recall / (double)v->n : 0;
	r->mrr = v->n ? mrr / (double)v->n : 0;
	return 0;
}
