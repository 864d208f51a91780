/* SPDX-License-Identifier: MIT */
/* os-distill-data.c: os-distill's training examples (see os-distill.h):
 * every catalog title, the pseudo-query sources (or, with --dense-labels,
 * os-distill-pseudo.c's pseudo-queries), every judged query's
 * relevant items (and with --dense-queries its dense ranking's first
 * items), and for --stage distill the teacher's text of a query with CoT
 * keywords; a fingerprint of them all for --resume. */
#include "config.h"

#include <stdlib.h>

#include "lib/cot.h"
#include "lib/hash.h"
#include "os-distill.h"

int add_example(struct data *d, const struct os_sidindex *s, uint32_t text,
		uint32_t len, long item, long repeat, float weight,
		struct example_more more)
{
	struct os_example e = {.text = text, .len = len, .weight = weight};

	for (size_t l = 0; l < s->levels; l++)
		e.code[l] = s->codes[(size_t)item * s->levels + l];
	for (long r = 0; r < repeat; r++) {
		if (d->nex == d->cap) {
			size_t cap = d->cap ? 2 * d->cap : 4096;
			struct os_example *ex =
			    realloc(d->ex, cap * sizeof *ex);
			struct example_more *mo;

			if (!ex)
				return -1;
			d->ex = ex;
			if (!(mo = realloc(d->more, cap * sizeof *mo)))
				return -1;
			d->more = mo;
			d->cap = cap;
		}
		d->more[d->nex] = more;
		d->ex[d->nex++] = e;
	}
	return 0;
}

/* What the catalog's items and the query records are read into. */
struct load_ctx {
	struct os_generative *g;
	const struct plan *plan;
	struct data *d;
	struct dense_texts *dense; /* the texts waiting for dense labels */
	struct os_error *err;
};

static int add_item(void *ctx, const struct os_item *item)
{
	struct load_ctx *ic = ctx;
	long idx = os_sidindex_find(&ic->g->index, item->id), n;
	uint32_t start;

	if (idx < 0)
		return 0; /* an item without a SID yet */
	n = os_generative_text(ic->g, &ic->plan->cfg, &ic->d->pool, item->title,
			       &start, ic->err);
	if (n < 0)
		return -1;
	ic->d->items++;
	if (add_example(ic->d, &ic->g->index, start, (uint32_t)n, idx,
			ic->plan->item_repeat, 1,
			(struct example_more){0}) < 0 ||
	    (!ic->plan->dense_labels &&
	     add_example(ic->d, &ic->g->index, start, (uint32_t)n, idx,
			 ic->plan->pseudo, 1,
			 (struct example_more){.pseudo = 1}) < 0))
		return 1;
	return 0;
}

/* The teacher's text of a query record with CoT keywords (distill), with
 * the user of `user` (the record, or NULL: none). */
static int add_teacher(struct load_ctx *qc, const cJSON *record,
		       const cJSON *user, const char *query,
		       struct example_more *more)
{
	char keywords[1024];
	long n;

	if (qc->plan->stage != STAGE_DISTILL)
		return 0;
	if (os_cot_keyword_text(record, keywords, sizeof keywords, qc->err) < 0)
		return -1;
	if (!keywords[0])
		return 0;
	n = os_generative_query_text(qc->g, &qc->plan->cfg, &qc->d->pool,
				     user, query, keywords, &more->teacher,
				     qc->err);
	if (n < 0)
		return -1;
	more->teacher_len = (uint32_t)n;
	return 0;
}

/* The examples of a query record's relevant items, read with the record's
 * user (`user` the record) or without (NULL). */
static int add_pairs(struct load_ctx *qc, const cJSON *record,
		     const cJSON *user, const char *query, const long *items,
		     size_t nitems)
{
	struct example_more more = {0};
	uint32_t start;
	long n;

	n = os_generative_query_text(qc->g, &qc->plan->cfg, &qc->d->pool, user,
				     query, "", &start, qc->err);
	if (n < 0 || add_teacher(qc, record, user, query, &more) < 0)
		return -1;
	for (size_t i = 0; i < nitems; i++) {
		if (add_example(qc->d, &qc->g->index, start, (uint32_t)n,
				items[i], qc->plan->query_repeat, 1,
				more) < 0) {
			os_error_set(qc->err, OS_EXIT_FAILURE, "out of memory");
			return -1;
		}
		qc->d->taught += more.teacher_len > 0;
	}
	/* the dense labels are a query's, with its user if it has one */
	if (qc->plan->dense_queries && user == record &&
	    dense_add_query(qc->dense, query, start, (uint32_t)n, more, items,
			    nitems) < 0) {
		os_error_set(qc->err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return 0;
}

/* A query record's examples; with user tokens, a record with a "user"
 * gives them twice, read with its user and without, so that the model
 * learns the query's own meaning as well as what the user adds to it. */
static int add_query(void *ctx, const cJSON *record, const char *query,
		     const long *items, size_t nitems)
{
	struct load_ctx *qc = ctx;

	if (nitems == 0)
		return 0;
	if (add_pairs(qc, record, record, query, items, nitems) < 0)
		return -1;
	qc->d->queries++;
	qc->d->pairs += nitems;
	if (qc->plan->cfg.user_history &&
	    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(record, "user"))) {
		if (add_pairs(qc, record, NULL, query, items, nitems) < 0)
			return -1;
		qc->d->user_free += nitems;
	}
	return 0;
}

int load_data(const struct options *o, struct os_catalog *cat,
	      struct os_generative *g, struct data *d, struct os_error *err)
{
	struct dense_texts dense = {0};
	struct load_ctx ctx = {g, &o->plan, d, &dense, err};
	int rc = -1;

	if (o->plan.item_repeat > 0 || o->plan.pseudo > 0) {
		int each = os_catalog_items_each(cat, add_item, &ctx, err);

		if (each > 0)
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		if (each)
			goto done;
	}
	if ((o->plan.dense_labels &&
	     dense_draw_pseudo(o, cat, &g->index, &dense, err) < 0) ||
	    os_generative_queries(g, o->inputs, o->ninputs,
				  (size_t)o->cli.max_line, o->plan.min_grade,
				  add_query, &ctx, &d->unknown, err) < 0 ||
	    (o->plan.dense_labels &&
	     dense_label(o, cat, g, d, &dense, err) < 0))
		goto done;
	rc = 0;
done:
	dense_texts_release(&dense);
	if (rc < 0)
		return -1;
	if (d->nex == 0) {
		os_error_set(
		    err, OS_EXIT_BAD_INPUT,
		    "no training examples (no item with a SID, no query "
		    "with a relevant catalog item)");
		return -1;
	}
	d->fingerprint = OS_FNV_OFFSET;
	for (size_t i = 0; i < d->nex; i++) {
		const struct os_example *e = &d->ex[i];

		d->fingerprint =
		    os_hash_bytes(d->fingerprint, e->code, sizeof e->code);
		d->fingerprint =
		    os_hash_bytes(d->fingerprint, &e->weight, sizeof e->weight);
		d->fingerprint =
		    os_hash_bytes(d->fingerprint, d->pool.row + e->text,
				  e->len * sizeof *d->pool.row);
		d->fingerprint = os_hash_bytes(
		    d->fingerprint, d->pool.row + d->more[i].teacher,
		    d->more[i].teacher_len * sizeof *d->pool.row);
	}
	return 0;
}
