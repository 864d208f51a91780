/* SPDX-License-Identifier: MIT */
/* vocab.c: the vocabulary in memory (see vocab.h). */
#include "config.h"

#include "vocab.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

void os_vocab_init(struct os_vocab *v)
{
	memset(v, 0, sizeof *v);
	os_strmap_init(&v->tokens);
}

void os_vocab_release(struct os_vocab *v)
{
	os_strmap_release(&v->tokens);
	free(v->entries);
	free(v->dirty);
	memset(v, 0, sizeof *v);
}

/* The index of `token`, added when new (id 0, df 0). */
static long slot(struct os_vocab *v, const char *token, size_t len)
{
	int added;
	long i = os_strmap_intern(&v->tokens, token, len, &added);
	struct os_vocab_entry *e;

	if (i < 0 || !added)
		return i;
	e = os_grow(v->entries, &v->cap, (size_t)i + 1, sizeof *e, 1024);
	if (!e)
		return -1;
	v->entries = e;
	e[i] = (struct os_vocab_entry){0, 0, 0};
	return i;
}

static int mark_dirty(struct os_vocab *v, size_t i)
{
	size_t *d = os_grow(v->dirty, &v->dirty_cap, v->ndirty + 1, sizeof *d,
			    1024);

	if (!d)
		return -1;
	v->dirty = d;
	v->dirty[v->ndirty++] = i;
	return 0;
}

static int load_row(void *ctx, long id, const char *token, long df)
{
	struct os_vocab *v = ctx;
	long i = slot(v, token, strlen(token));

	if (i < 0)
		return -1;
	v->entries[i].id = id;
	v->entries[i].df = df;
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

	return i < 0 ? 0 : v->entries[i].id;
}

long os_vocab_df(const struct os_vocab *v, const char *token, size_t len)
{
	long i = os_strmap_find(&v->tokens, token, len);

	return i < 0 ? 0 : v->entries[i].df;
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
		if (v->entries[i].pending == 0 && mark_dirty(v, (size_t)i) < 0)
			return -1;
		v->entries[i].pending += sign;
	}
	return 0;
}

int os_vocab_flush(struct os_vocab *v, struct os_catalog *c,
		   struct os_error *err)
{
	for (size_t k = 0; k < v->ndirty; k++) {
		struct os_vocab_entry *e = &v->entries[v->dirty[k]];
		long id;

		if (e->pending == 0 && e->id != 0)
			continue; /* listed twice, or its changes cancelled */
		id = os_catalog_vocab_add(c, e->id,
					  os_strmap_key(&v->tokens, v->dirty[k]),
					  e->pending, err);
		if (id < 0)
			return -1;
		e->id = id;
		e->df += e->pending;
		e->pending = 0;
	}
	v->ndirty = 0;
	return 0;
}
