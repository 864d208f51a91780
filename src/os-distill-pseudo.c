/* SPDX-License-Identifier: MIT */
/* os-distill-pseudo.c: dense labels (see os-distill.h). --dense-labels
 * draws pseudo-queries once from every item's title, each an example of
 * its own item's SID and of the SIDs of the items the dense ranking puts
 * first for it (--dense-top of them), so that the model learns the
 * encoder's neighbourhoods; --dense-queries labels each training query
 * also with its dense ranking's first items (down-weighted). The ranking
 * is the catalog's encoder against the vectors of a file, as os-search
 * --dense ranks. The texts waiting for their labels are the caller's
 * dense_texts; vectors and scores are freed before dense_label returns,
 * and the examples go to the data like every other. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/dense.h"
#include "lib/dense_index.h"
#include "lib/grow.h"
#include "lib/parallel.h"
#include "lib/rng.h"
#include "os-distill.h"

/* The most words a pseudo-query takes from its title. */
#define PSEUDO_WORDS 3
/* Pseudo-queries encoded at a time, and ranked at a time by one thread. */
#define CHUNK 4096
#define BLOCK 64

/* What drawing the pseudo-queries needs. */
struct drawing {
	struct dense_texts *dt;
	const struct plan *plan;
	const struct os_sidindex *index;
	struct os_rng rng;
};

void dense_texts_release(struct dense_texts *dt)
{
	free(dt->text.s);
	free(dt->t);
	free(dt->rel);
	memset(dt, 0, sizeof *dt);
}

/* A new text of dt, begun after the previous one's NUL, with `item`;
 * NULL when out of memory. */
static struct dense_text *new_text(struct dense_texts *dt, long item)
{
	struct dense_text *t =
	    os_grow(dt->t, &dt->cap, dt->n + 1, sizeof *t, 4096);

	if (!t)
		return NULL;
	dt->t = t;
	dt->text.n += dt->n > 0;
	t += dt->n++;
	*t = (struct dense_text){.start = dt->text.n, .item = item};
	return t;
}

/* One pseudo-query of `title`: 1 to PSEUDO_WORDS of its words (runs of
 * non-blanks), in their order, joined by spaces. */
static int draw_one(struct drawing *dr, const char *title, long item)
{
	struct dense_texts *dt = dr->dt;
	const char *word[64];
	size_t wlen[64], nw = 0, k;

	for (const char *s = title; *s && nw < 64;) {
		size_t n;

		s += strspn(s, " \t\r\n");
		if (!(n = strcspn(s, " \t\r\n")))
			break;
		word[nw] = s;
		wlen[nw++] = n;
		s += n;
	}
	if (nw == 0)
		return 0;
	if (!new_text(dt, item))
		return -1;
	k = 1 + (size_t)os_rng_below(&dr->rng,
				     nw < PSEUDO_WORDS ? nw : PSEUDO_WORDS);
	/* selection sampling: word i is taken with probability
	 * (still needed) / (still left) */
	for (size_t i = 0, need = k; i < nw && need > 0; i++) {
		if (os_rng_below(&dr->rng, nw - i) >= need)
			continue;
		if ((need-- < k && os_text_add(&dt->text, " ", 1) < 0) ||
		    os_text_add(&dt->text, word[i], wlen[i]) < 0)
			return -1;
	}
	return 0;
}

static int draw_item(void *ctx, const struct os_item *item)
{
	struct drawing *dr = ctx;
	long idx = os_sidindex_find(dr->index, item->id);

	if (idx < 0)
		return 0; /* an item without a SID */
	for (long r = 0; r < dr->plan->pseudo; r++)
		if (draw_one(dr, item->title, idx) < 0)
			return 1;
	return 0;
}

int dense_draw_pseudo(const struct options *o, struct os_catalog *cat,
		      const struct os_sidindex *index, struct dense_texts *dt,
		      struct os_error *err)
{
	struct drawing dr = {.dt = dt, .plan = &o->plan, .index = index};
	int rc;

	os_rng_seed(&dr.rng, o->plan.seed * 0x2545f4914f6cdd1dULL + 17);
	rc = os_catalog_items_each(cat, draw_item, &dr, err);
	if (rc > 0)
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return rc ? -1 : 0;
}

int dense_add_query(struct dense_texts *dt, const char *query, uint32_t start,
		    uint32_t len, struct example_more more, const long *rel,
		    size_t nrel)
{
	struct dense_text *t;
	long *r =
	    os_grow(dt->rel, &dt->rel_cap, dt->nrel + nrel, sizeof *r, 4096);

	if (!r)
		return -1;
	dt->rel = r;
	if (!(t = new_text(dt, -1)) ||
	    os_text_add(&dt->text, query, strlen(query)) < 0)
		return -1;
	t->pool = start;
	t->len = len;
	t->more = more;
	t->rel = dt->nrel;
	t->nrel = nrel;
	memcpy(r + dt->nrel, rel, nrel * sizeof *r);
	dt->nrel += nrel;
	return 0;
}

/* The dense ranking's best `top` rows for texts [first, first + n) of
 * dt: their vectors (q, n rows), the rows into best (top a text), on all
 * threads. */
static int rank_chunk(struct os_dense_index *dx, const struct dense_texts *dt,
		      size_t first, size_t n, size_t top, float *q,
		      float *scores, struct os_dense_hit *best,
		      struct os_error *err)
{
	struct os_tokens tokens;
	size_t blocks = (n + BLOCK - 1) / BLOCK;
	int rc = 0;

	os_tokens_init(&tokens);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = os_dense_query_vector(dx, NULL,
					   dt->text.s + dt->t[first + i].start,
					   &tokens, q + i * dx->dim, err);
	os_tokens_release(&tokens);
	if (rc < 0)
		return -1;
#pragma omp parallel for schedule(dynamic, 1)
	for (size_t b = 0; b < blocks; b++) {
		size_t th = 0,
		       m = n - b * BLOCK < BLOCK ? n - b * BLOCK : BLOCK;

#ifdef _OPENMP
		th = (size_t)omp_get_thread_num();
#endif
		os_dense_top_many(
		    dx->x, dx->n, dx->dim, q + b * BLOCK * dx->dim, m, top,
		    scores + th * BLOCK * dx->n, best + b * BLOCK * top);
	}
	return 0;
}

/* Whether `item` is already an example of text t: its own item, or one of
 * its relevant items. */
static int own_item(const struct dense_texts *dt, const struct dense_text *t,
		    long item)
{
	if (item == t->item)
		return 1;
	for (size_t r = 0; r < t->nrel; r++)
		if (dt->rel[t->rel + r] == item)
			return 1;
	return 0;
}

/* The examples of texts [first, first + n) of dt, whose dense best rows
 * are best[0..n * top). */
static int add_chunk(const struct options *o, struct os_generative *g,
		     struct data *d, const struct os_dense_index *dx,
		     const struct dense_texts *dt, size_t first, size_t n,
		     size_t top, const struct os_dense_hit *best,
		     struct os_error *err)
{
	for (size_t i = 0; i < n; i++) {
		const struct dense_text *t = &dt->t[first + i];
		const struct os_dense_hit *hit = best + i * top;
		uint32_t start = t->pool;
		long len = t->len, rows = o->plan.dense_queries;
		float weight = (float)o->plan.dense_query_weight;
		size_t *added = &d->dense_query;

		if (t->item >= 0) { /* a pseudo-query: its tokens, its item */
			len = os_generative_text(g, &o->plan.cfg, &d->pool,
						 dt->text.s + t->start, &start,
						 err);
			if (len < 0)
				return -1;
			if (len == 0)
				continue;
			if (add_example(d, &g->index, start, (uint32_t)len,
					t->item, 1, 1, t->more) < 0)
				goto oom;
			d->dense_pseudo++;
			rows = o->plan.dense_labels;
			weight = 1;
			added = &d->dense_other;
		}
		for (size_t r = 0; r < (size_t)rows && r < top; r++) {
			long near = os_sidindex_find(
			    &g->index, os_dense_index_id(dx, hit[r].row));

			if (near < 0 || own_item(dt, t, near))
				continue;
			if (add_example(d, &g->index, start, (uint32_t)len,
					near, 1, weight, t->more) < 0)
				goto oom;
			(*added)++;
		}
	}
	return 0;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return -1;
}

int dense_label(const struct options *o, struct os_catalog *cat,
		struct os_generative *g, struct data *d,
		const struct dense_texts *dt, struct os_error *err)
{
	struct os_dense_index dx;
	float *q = NULL, *scores = NULL;
	struct os_dense_hit *best = NULL;
	size_t top, threads = (size_t)os_parallel_threads();
	int rc = -1;

	os_dense_index_init(&dx);
	if (os_dense_index_load(&dx, cat, o->dense_labels,
				(size_t)o->cli.max_line, err) < 0)
		goto done;
	if (!dx.have_encoder) {
		os_error_set(
		    err, OS_EXIT_FAILURE,
		    "--dense-labels: the catalog has no encoder of the "
		    "vectors' size (%zu values; os-tokenize "
		    "--train-encoder)",
		    dx.dim);
		goto done;
	}
	top = (size_t)(o->plan.dense_labels > o->plan.dense_queries
			   ? o->plan.dense_labels
			   : o->plan.dense_queries);
	if (top > dx.n)
		top = dx.n;
	if (!(q = malloc(CHUNK * dx.dim * sizeof *q)) ||
	    !(scores = malloc(threads * BLOCK * dx.n * sizeof *scores)) ||
	    !(best = malloc(CHUNK * top * sizeof *best))) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		goto done;
	}
	for (size_t first = 0; first < dt->n; first += CHUNK) {
		size_t n = dt->n - first < CHUNK ? dt->n - first : CHUNK;

		if (rank_chunk(&dx, dt, first, n, top, q, scores, best, err) <
			0 ||
		    add_chunk(o, g, d, &dx, dt, first, n, top, best, err) < 0)
			goto done;
	}
	rc = 0;
done:
	free(q);
	free(scores);
	free(best);
	os_dense_index_release(&dx);
	return rc;
}
