/* SPDX-License-Identifier: MIT */
/* generative.c: the context shared by training and search (see
 * generative.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "jsonl.h"
#include "generative.h"
#include "normalize.h"
#include "record.h"
#include "tally.h"

int os_generative_load(struct os_generative *g, struct os_catalog *c,
		       struct os_error *err)
{
	char *norm;

	memset(g, 0, sizeof *g);
	os_vocab_init(&g->vocab);
	os_tokens_init(&g->tokens);
	os_strmap_init(&g->brands);
	norm = os_catalog_meta_get(c, "normalization", err);
	if (!norm && err->status)
		goto fail;
	g->norm_flags = os_norm_flags_of(norm);
	free(norm);
	if (os_vocab_load(&g->vocab, c, err) < 0 ||
	    os_sidindex_load(&g->index, c, err) < 0)
		goto fail;
	g->words = 1;
	for (size_t i = 0; i < g->vocab.tokens.count; i++)
		if ((size_t)g->vocab.entries[i].id + 1 > g->words)
			g->words = (size_t)g->vocab.entries[i].id + 1;
	return 0;
fail:
	os_generative_release(g);
	return -1;
}

void os_generative_release(struct os_generative *g)
{
	os_vocab_release(&g->vocab);
	os_sidindex_release(&g->index);
	os_tokens_release(&g->tokens);
	os_strmap_release(&g->brands);
	free(g->brand_of);
	memset(g, 0, sizeof *g);
}

struct brand_reading {
	struct os_generative *g;
	struct os_error *err;
};

/* One item's brand keyword: the first of its title is its brand. */
static int read_brand(void *ctx, const char *item, const char *text)
{
	struct brand_reading *r = ctx;
	struct os_generative *g = r->g;
	long i = os_sidindex_find(&g->index, item), id;

	if (i < 0 || g->brand_of[i] != OS_NO_BRAND)
		return 0;
	if ((id = os_strmap_intern(&g->brands, text, strlen(text), NULL)) < 0) {
		os_error_set(r->err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	g->brand_of[i] = (uint32_t)id;
	return 0;
}

int os_generative_load_brands(struct os_generative *g, struct os_catalog *c,
			      const struct os_model_config *cfg,
			      struct os_error *err)
{
	size_t n = os_sidindex_items(&g->index);
	struct brand_reading r = {g, err};

	if (!cfg->user_history)
		return 0;
	if (!(g->brand_of = malloc((n ? n : 1) * sizeof *g->brand_of))) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		g->brand_of[i] = OS_NO_BRAND;
	return os_catalog_item_keywords_each(c, "brand", read_brand, &r, err) < 0
		   ? -1
		   : 0;
}

long os_generative_text(struct os_generative *g,
			const struct os_model_config *cfg,
			struct os_text_pool *pool, const char *text,
			uint32_t *start, struct os_error *err)
{
	long n;

	if (os_analyze(&g->tokens, text, g->norm_flags, err) < 0)
		return -1;
	n = os_text_pool_add(pool, cfg, &g->vocab, &g->tokens,
			     os_sequence_max_text(cfg), start);
	if (n < 0)
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return n;
}

/* Appends row `row` (no n-grams) to the pool; -1 with err (memory). */
static int add_row(struct os_text_pool *pool, uint32_t row, struct os_error *err)
{
	if (os_text_pool_add_special(pool, row) < 0) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return 0;
}

/* Appends the tokens of `text`, at most `room`, to the pool. Returns
 * their number, or -1 with err. */
static long add_words(struct os_generative *g,
		      const struct os_model_config *cfg,
		      struct os_text_pool *pool, const char *text, size_t room,
		      struct os_error *err)
{
	uint32_t at;
	long k;

	if (os_analyze(&g->tokens, text, g->norm_flags, err) < 0)
		return -1;
	if ((k = os_text_pool_add(pool, cfg, &g->vocab, &g->tokens, room, &at)) < 0)
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return k;
}

/* More items first, then the one met first (the more recent): a stable
 * sort of the few brands of a history. */
static void rank_brands(struct os_tally *b, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && b[j].count > b[j - 1].count; j--) {
			struct os_tally t = b[j];

			b[j] = b[j - 1];
			b[j - 1] = t;
		}
}

/* Appends the words of the brands of history items `item` (n of them),
 * each brand once, the most frequent first, at most `room` tokens.
 * Returns their number, or -1 with err. */
static long brand_words(struct os_generative *g,
			const struct os_model_config *cfg,
			struct os_text_pool *pool, const long *item, size_t n,
			size_t room, struct os_error *err)
{
	struct os_tally b[OS_USER_HISTORY_MAX];
	size_t nb = 0, added = 0;

	for (size_t i = 0; i < n; i++)
		if (g->brand_of[item[i]] != OS_NO_BRAND)
			os_tally_add(b, &nb, OS_USER_HISTORY_MAX, g->brand_of[item[i]]);
	rank_brands(b, nb);
	for (size_t j = 0; j < nb && added < room; j++) {
		long k = add_words(g, cfg, pool, os_strmap_key(&g->brands, b[j].id),
				   room - added, err);

		if (k < 0)
			return -1;
		added += (size_t)k;
	}
	return (long)added;
}

/* The user's tokens and [SEP] (see os_generative_query_text), at most
 * `room` of them before the [SEP]. Returns their number, or -1 with err. */
static long user_tokens(struct os_generative *g,
			const struct os_model_config *cfg,
			struct os_text_pool *pool, const cJSON *user,
			size_t room, struct os_error *err)
{
	const cJSON *history = cJSON_GetObjectItemCaseSensitive(user, "history");
	const cJSON *profile = cJSON_GetObjectItemCaseSensitive(user, "profile");
	size_t codes = cfg->levels < 2 ? cfg->levels : 2, n = 0, items = 0;
	long item[OS_USER_HISTORY_MAX], k;
	const cJSON *v;

	if ((history && !cJSON_IsArray(history)) ||
	    (profile && !cJSON_IsObject(profile))) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "field 'user' must have an array 'history' and an "
			     "object 'profile'");
		return -1;
	}
	cJSON_ArrayForEach(v, history)
	{
		char id[OS_RECORD_ID_MAX];

		if (!os_record_id(v, "user.history", id, sizeof id, err))
			return -1;
		if (items == cfg->user_history || n + codes > room)
			break;
		if ((item[items] = os_sidindex_find(&g->index, id)) < 0)
			continue;
		for (size_t l = 0; l < codes; l++)
			if (add_row(pool,
				    (uint32_t)(os_model_sid_row(cfg, l) +
					       g->index.codes[(size_t)item[items] *
								  cfg->levels +
							      l]),
				    err) < 0)
				return -1;
		n += codes;
		items++;
	}
	if ((k = brand_words(g, cfg, pool, item, items, room - n, err)) < 0)
		return -1;
	n += (size_t)k;
	cJSON_ArrayForEach(v, profile)
	{
		if (!cJSON_IsString(v) || n >= room)
			continue;
		if ((k = add_words(g, cfg, pool, v->valuestring, room - n, err)) < 0)
			return -1;
		n += (size_t)k;
	}
	return add_row(pool, OS_MODEL_SEP, err) < 0 ? -1 : (long)n + 1;
}

long os_generative_query_text(struct os_generative *g,
			      const struct os_model_config *cfg,
			      struct os_text_pool *pool, const cJSON *record,
			      const char *query, const char *keywords,
			      uint32_t *start, struct os_error *err)
{
	const cJSON *user = cJSON_GetObjectItemCaseSensitive(record, "user");
	size_t max = os_sequence_max_text(cfg);
	uint32_t first = (uint32_t)pool->n, at;
	long n = 0, k;

	if (user && !cJSON_IsObject(user)) {
		os_error_set(err, OS_EXIT_BAD_INPUT, "field 'user' must be an object");
		return -1;
	}
	if (cfg->user_history && user &&
	    (n = user_tokens(g, cfg, pool, user, max / 2, err)) < 0)
		return -1;
	if ((k = os_generative_text(g, cfg, pool, query, &at, err)) < 0)
		return -1;
	n += k;
	if (keywords[0]) {
		if (add_row(pool, OS_MODEL_THINK, err) < 0 ||
		    (k = os_generative_text(g, cfg, pool, keywords, &at, err)) < 0)
			return -1;
		n += 1 + k;
	}
	*start = first;
	return (size_t)n > max ? (long)max : n;
}

int os_generative_check(const struct os_generative *g,
			const struct os_model *m, const char *path,
			struct os_error *err)
{
	if (strcmp(m->fingerprint, g->index.fingerprint) != 0) {
		os_error_set(err, OS_EXIT_FAILURE,
			     "%s: the model was trained against other codebooks "
			     "(model %s, catalog %s); train it again on this catalog",
			     path, *m->fingerprint ? m->fingerprint : "none",
			     *g->index.fingerprint ? g->index.fingerprint : "none");
		return -1;
	}
	if (m->cfg.levels != g->index.levels) {
		os_error_set(err, OS_EXIT_FAILURE,
			     "%s: the model generates SIDs of %zu levels, the catalog's have %zu",
			     path, m->cfg.levels, g->index.levels);
		return -1;
	}
	return 0;
}

/* The index numbers of one query's relevant items, without repeats. */
struct relevant {
	const struct os_sidindex *index;
	long *item;
	size_t n, cap;
	long unknown;
};

static int collect(void *ctx, const char *id)
{
	struct relevant *r = ctx;
	long idx = os_sidindex_find(r->index, id);

	if (idx < 0) {
		r->unknown++;
		return 0;
	}
	for (size_t i = 0; i < r->n; i++)
		if (r->item[i] == idx)
			return 0;
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		long *p = realloc(r->item, cap * sizeof *p);

		if (!p)
			return 1;
		r->item = p;
		r->cap = cap;
	}
	r->item[r->n++] = idx;
	return 0;
}

struct queries {
	struct relevant rel;
	double min_grade;
	int (*fn)(void *ctx, const cJSON *record, const char *query,
		  const long *items, size_t nitems);
	void *ctx;
};

static int one_query(void *ctx, const cJSON *obj, long line,
		     struct os_error *err)
{
	struct queries *qs = ctx;
	const char *q = os_record_query(obj, err);
	int rc;

	(void)line;
	qs->rel.n = 0;
	rc = q ? os_record_relevant(obj, qs->min_grade, collect, &qs->rel, err) : -1;
	if (rc > 0)
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	if (rc == 0)
		rc = qs->fn(qs->ctx, obj, q, qs->rel.item, qs->rel.n);
	return rc ? -1 : 0;
}

int os_generative_queries(struct os_generative *g, char *const *paths,
			  size_t n, size_t max_line, double min_grade,
			  int (*fn)(void *ctx, const cJSON *record,
				    const char *query, const long *items,
				    size_t nitems),
			  void *ctx, long *unknown, struct os_error *err)
{
	struct queries qs = {{.index = &g->index}, min_grade, fn, ctx};
	int rc = os_jsonl_each(paths, n, max_line, one_query, &qs, err);

	*unknown += qs.rel.unknown;
	free(qs.rel.item);
	return rc;
}
