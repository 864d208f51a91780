/* SPDX-License-Identifier: MIT */
/* os-distill-pseudo.c: --dense-labels (see os-distill.h): pseudo-queries
 * drawn once from every item's title, each an example of its own item's
 * SID and of the SIDs of the items the dense ranking puts first for it
 * (--dense-top of them; the catalog's encoder against the vectors of a
 * file, as os-search --dense ranks), so that the model learns the
 * encoder's neighbourhoods. The
 * drawn texts, their vectors and the scores are freed before returning;
 * the examples go to the data like every other. */
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

/* A drawn pseudo-query: where its text begins, and its title's item (in
 * the SID index). */
struct pseudo {
	size_t start;
	long item;
};

/* The drawn pseudo-queries: their texts one after another, each with its
 * NUL. */
struct drawn {
	struct os_text text;
	struct pseudo *q;
	size_t n, cap;
	const struct plan *plan;
	const struct os_sidindex *index;
	struct os_rng rng;
};

/* One pseudo-query of `title`: 1 to PSEUDO_WORDS of its words (runs of
 * non-blanks), in their order, joined by spaces. */
static int draw_one(struct drawn *dr, const char *title, long item)
{
	const char *word[64];
	size_t wlen[64], nw = 0, k;
	struct pseudo *q;

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
	if (!(q = os_grow(dr->q, &dr->cap, dr->n + 1, sizeof *q, 4096)))
		return -1;
	dr->q = q;
	/* the previous text's NUL is kept: this one begins after it */
	dr->text.n += dr->n > 0;
	q[dr->n++] = (struct pseudo){dr->text.n, item};
	k = 1 + (size_t)os_rng_below(&dr->rng,
				     nw < PSEUDO_WORDS ? nw : PSEUDO_WORDS);
	/* selection sampling: word i is taken with probability
	 * (still needed) / (still left) */
	for (size_t i = 0, need = k; i < nw && need > 0; i++) {
		if (os_rng_below(&dr->rng, nw - i) >= need)
			continue;
		if ((need-- < k && os_text_add(&dr->text, " ", 1) < 0) ||
		    os_text_add(&dr->text, word[i], wlen[i]) < 0)
			return -1;
	}
	return 0;
}

static int draw_item(void *ctx, const struct os_item *item)
{
	struct drawn *dr = ctx;
	long idx = os_sidindex_find(dr->index, item->id);

	if (idx < 0)
		return 0; /* an item without a SID */
	for (long r = 0; r < dr->plan->pseudo; r++)
		if (draw_one(dr, item->title, idx) < 0)
			return 1;
	return 0;
}

/* The dense ranking's best `top` rows for pseudo-queries [first,
 * first + n): their vectors (q, n rows), the rows into best (top a
 * pseudo-query), on all threads. */
static int rank_chunk(struct os_dense_index *dx, const struct drawn *dr,
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
					   dr->text.s + dr->q[first + i].start,
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

/* The examples of pseudo-queries [first, first + n), whose dense best rows
 * are best[0..n * top). */
static int add_chunk(const struct options *o, struct os_generative *g,
		     struct data *d, const struct os_dense_index *dx,
		     const struct drawn *dr, size_t first, size_t n, size_t top,
		     const struct os_dense_hit *best, struct os_error *err)
{
	for (size_t i = 0; i < n; i++) {
		long own = dr->q[first + i].item;
		uint32_t start;
		long len = os_generative_text(
		    g, &o->plan.cfg, &d->pool,
		    dr->text.s + dr->q[first + i].start, &start, err);

		if (len < 0)
			return -1;
		if (len == 0)
			continue;
		if (add_example(d, &g->index, start, (uint32_t)len, own, 1,
				(struct example_more){0}) < 0)
			goto oom;
		d->dense_pseudo++;
		for (size_t r = 0; r < top; r++) {
			long near = os_sidindex_find(
			    &g->index,
			    os_dense_index_id(dx, best[i * top + r].row));

			if (near < 0 || near == own)
				continue;
			if (add_example(d, &g->index, start, (uint32_t)len,
					near, 1, (struct example_more){0}) < 0)
				goto oom;
			d->dense_other++;
		}
	}
	return 0;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return -1;
}

int dense_pseudo_queries(const struct options *o, struct os_catalog *cat,
			 struct os_generative *g, struct data *d,
			 struct os_error *err)
{
	struct os_dense_index dx;
	struct drawn dr;
	float *q = NULL, *scores = NULL;
	struct os_dense_hit *best = NULL;
	size_t top, threads = (size_t)os_parallel_threads();
	int rc = -1;

	memset(&dr, 0, sizeof dr);
	dr.plan = &o->plan;
	dr.index = &g->index;
	os_rng_seed(&dr.rng, o->plan.seed * 0x2545f4914f6cdd1dULL + 17);
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
	top = (size_t)o->plan.dense_labels < dx.n ? (size_t)o->plan.dense_labels
						  : dx.n;
	rc = os_catalog_items_each(cat, draw_item, &dr, err);
	if (rc > 0)
		goto oom;
	if (rc < 0)
		goto done;
	rc = -1;
	if (!(q = malloc(CHUNK * dx.dim * sizeof *q)) ||
	    !(scores = malloc(threads * BLOCK * dx.n * sizeof *scores)) ||
	    !(best = malloc(CHUNK * top * sizeof *best)))
		goto oom;
	for (size_t first = 0; first < dr.n; first += CHUNK) {
		size_t n = dr.n - first < CHUNK ? dr.n - first : CHUNK;

		if (rank_chunk(&dx, &dr, first, n, top, q, scores, best, err) <
			0 ||
		    add_chunk(o, g, d, &dx, &dr, first, n, top, best, err) < 0)
			goto done;
	}
	rc = 0;
	goto done;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
done:
	free(q);
	free(scores);
	free(best);
	free(dr.text.s);
	free(dr.q);
	os_dense_index_release(&dx);
	return rc;
}
