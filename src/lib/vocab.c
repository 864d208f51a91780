/* SPDX-License-Identifier: MIT */
/* vocab.c: the vocabulary in memory (see vocab.h). */
#include "config.h"

#include "vocab.h"

#include <stdlib.h>
#include <string.h>

void os_vocab_init(struct os_vocab *v)
{
	memset(v, 0, sizeof *v);
	os_strmap_init(&v->tokens);
}

void os_vocab_release(struct os_vocab *v)
{
	os_strmap_release(&v->tokens);
	free(v->id);
	free(v->df);
	free(v->pending);
	free(v->dirty);
	memset(v, 0, sizeof *v);
}

/* The index of `token`, added when new (id 0, df 0). */
static long slot(struct os_vocab *v, const char *token, size_t len)
{
	int added;
	long i = os_strmap_intern(&v->tokens, token, len, &added);

	if (i < 0 || !added)
		return i;
	if ((size_t)i >= v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 1024;
		long *id = realloc(v->id, cap * sizeof *id);

		if (!id)
			return -1;
		v->id = id;
		if (!(id = realloc(v->df, cap * sizeof *id)))
			return -1;
		v->df = id;
		if (!(id = realloc(v->pending, cap * sizeof *id)))
			return -1;
		v->pending = id;
		v->cap = cap;
	}
	v->id[i] = v->df[i] = v->pending[i] = 0;
	return i;
}

static int mark_dirty(struct os_vocab *v, size_t i)
{
	if (v->ndirty == v->dirty_cap) {
		size_t cap = v->dirty_cap ? v->dirty_cap * 2 : 1024;
		size_t *d = realloc(v->dirty, cap * sizeof *d);

		if (!d)
			return -1;
		v->dirty = d;
		v->dirty_cap = cap;
	}
	v->dirty[v->ndirty++] = i;
	return 0;
}

static int load_row(void *ctx, long id, const char *token, long df)
{
	struct os_vocab *v = ctx;
	long i = slot(v, token, strlen(token));

	if (i < 0)
		return -1;
	v->id[i] = id;
	v->df[i] = df;
	return 0;
}

int os_vocab_load(struct os_vocab *v, struct os_catalog *c,
		  struct os_error *err)
{
	int rc = os_catalog_vocab_each(c, load_row, v, err);

	if (rc > 0)
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return rc ? -1 : 0;
}

long os_vocab_id(const struct os_vocab *v, const char *token, size_t len)
{
	long i = os_strmap_find(&v->tokens, token, len);

	return i < 0 ? 0 : v->id[i];
}

int os_vocab_count(struct os_vocab *v, const struct os_tokens *t, int sign)
{
	for (size_t k = 0; k < t->n; k++) {
		const char *tok = os_token_text(t, k);
		long i;
		int repeated = 0;

		/* document frequency: each token once per title */
		for (size_t j = 0; j < k && !repeated; j++)
			repeated = t->v[j].len == t->v[k].len &&
				   memcmp(os_token_text(t, j), tok, t->v[k].len) == 0;
		if (repeated)
			continue;
		i = slot(v, tok, t->v[k].len);
		if (i < 0)
			return -1;
		if (v->pending[i] == 0 && mark_dirty(v, (size_t)i) < 0)
			return -1;
		v->pending[i] += sign;
	}
	return 0;
}

int os_vocab_flush(struct os_vocab *v, struct os_catalog *c,
		   struct os_error *err)
{
	for (size_t k = 0; k < v->ndirty; k++) {
		size_t i = v->dirty[k];
		long id;

		if (v->pending[i] == 0 && v->id[i] != 0)
			continue; /* listed twice, or its changes cancelled */
		id = os_catalog_vocab_add(c, v->id[i], os_strmap_key(&v->tokens, i),
					  v->pending[i], err);
		if (id < 0)
			return -1;
		v->id[i] = id;
		v->df[i] += v->pending[i];
		v->pending[i] = 0;
	}
	v->ndirty = 0;
	return 0;
}
