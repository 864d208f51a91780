/* SPDX-License-Identifier: MIT */
/* mine.c: brands, product types, colors and categories from the catalog
 * (see mine.h). One pass over the items counts the candidates; a second
 * pass over the counts (and the per-item brand prefixes) chooses. */
#include "config.h"

#include "mine.h"

#include <stdlib.h>
#include <string.h>

#include "normalize.h"
#include "grow.h"
#include "strmap.h"

/* A multiset of strings. */
struct counter {
	struct os_strmap keys;
	long *count;
	size_t cap;
};

static void counter_init(struct counter *c)
{
	memset(c, 0, sizeof *c);
	os_strmap_init(&c->keys);
}

static void counter_release(struct counter *c)
{
	os_strmap_release(&c->keys);
	free(c->count);
}

/* Adds one to `key`; returns its index, or -1 when out of memory. */
static long counter_add(struct counter *c, const char *key, size_t len)
{
	int added;
	long i = os_strmap_intern(&c->keys, key, len, &added);

	long *n;

	if (i < 0 || !(n = os_grow(c->count, &c->cap, (size_t)i + 1, sizeof *n, 1024)))
		return -1;
	c->count = n;
	if (added)
		c->count[i] = 0;
	c->count[i]++;
	return i;
}

static const char *const stopwords[] = {
	"and", "or", "the", "of", "a", "an", "to", "in", "with", "for", "on",
	"by", "at", "only", "not", "no", "w", "x", "per", "each", "included",
	"includes", "from", "&",
};

static int is_stopword(const char *w)
{
	for (size_t i = 0; i < sizeof stopwords / sizeof *stopwords; i++)
		if (strcmp(w, stopwords[i]) == 0)
			return 1;
	return 0;
}

/* A word of letters (any script), hyphens and apostrophes, at least two
 * bytes, not a stopword. */
static int is_plain_word(const struct os_tokens *t, size_t i)
{
	const char *w = os_token_text(t, i);

	if (t->v[i].kind != OS_TOKEN_WORD || t->v[i].len < 2 || is_stopword(w))
		return 0;
	for (; *w; w++)
		if ((*w >= '0' && *w <= '9') || *w == '#' || *w == '.' ||
		    *w == '/')
			return 0;
	return 1;
}

struct mine {
	const struct os_mine_opts *o;
	const struct os_vocab *v;
	struct os_dict *d;
	struct os_error *err;
	struct os_tokens t;
	struct counter prefix[3];   /* leading 1, 2, 3 words */
	struct counter product;
	struct counter color;
	struct counter field_brand;
	struct counter category;
	long (*item_prefix)[3];     /* per item without a brand field */
	size_t nitems, items_cap;
	int failed;
};

static const char *const separators[] = {" - ", " (", ", ", " with ",
					 " for ", " in ", " w/ "};

/* The first separator in s at or after `from`, or strlen(s). */
static size_t first_separator(const char *s, size_t from)
{
	size_t cut = strlen(s);

	for (size_t i = 0; i < sizeof separators / sizeof *separators; i++) {
		const char *p = strstr(s + from, separators[i]);

		if (p && (size_t)(p - s) < cut)
			cut = (size_t)(p - s);
	}
	return cut;
}

static int count_brand_prefixes(struct mine *m)
{
	long ids[3] = {-1, -1, -1};
	long(*p)[3];
	char buf[512];

	for (size_t k = 0; k < 3 && k < m->t.n && is_plain_word(&m->t, k); k++) {
		size_t len = os_tokens_join(&m->t, 0, k + 1, buf, sizeof buf);

		if ((ids[k] = counter_add(&m->prefix[k], buf, len)) < 0)
			return -1;
	}
	p = os_grow(m->item_prefix, &m->items_cap, m->nitems + 1, sizeof *p, 4096);
	if (!p)
		return -1;
	m->item_prefix = p;
	memcpy(m->item_prefix[m->nitems++], ids, sizeof ids);
	return 0;
}

/* Counts the head noun (last one or two plain words of the title's head)
 * and the color phrase after the last " in ". */
static int count_head_and_color(struct mine *m, const char *norm)
{
	size_t cut = first_separator(norm, 0);
	char buf[512];
	const char *in = NULL;

	if (os_tokenize(&m->t, norm, cut) < 0)
		return -1;
	if (m->t.n >= 2 && is_plain_word(&m->t, m->t.n - 1)) {
		size_t n = m->t.n, len = os_tokens_join(&m->t, n - 1, n, buf, sizeof buf);

		if (counter_add(&m->product, buf, len) < 0)
			return -1;
		if (n >= 3 && is_plain_word(&m->t, n - 2)) {
			len = os_tokens_join(&m->t, n - 2, n, buf, sizeof buf);
			if (counter_add(&m->product, buf, len) < 0)
				return -1;
		}
	}
	for (const char *p = strstr(norm, " in "); p; p = strstr(p + 1, " in "))
		in = p;
	if (in) {
		size_t from = (size_t)(in - norm) + 4;
		size_t end = first_separator(norm, from);
		int plain = 1;

		if (os_tokenize(&m->t, norm + from, end - from) < 0)
			return -1;
		for (size_t i = 0; i < m->t.n; i++)
			plain = plain && is_plain_word(&m->t, i);
		if (plain && m->t.n >= 1 && m->t.n <= 3) {
			size_t len = os_tokens_join(&m->t, 0, m->t.n, buf, sizeof buf);

			if (counter_add(&m->color, buf, len) < 0)
				return -1;
		}
	}
	return 0;
}

/* Counts the canonical form of a field's text; a text without words
 * counts nothing. Returns -1 only when out of memory. */
static int count_canonical(struct mine *m, struct counter *c, const char *text)
{
	struct os_error e;
	char *phrase = os_dict_canonical(m->d, text, &e);
	long rc;

	if (!phrase)
		return e.status == OS_EXIT_FAILURE ? -1 : 0;
	rc = counter_add(c, phrase, strlen(phrase));
	free(phrase);
	return rc < 0 ? -1 : 0;
}

static int mine_item(void *ctx, const struct os_item *item)
{
	struct mine *m = ctx;
	size_t len;
	char *norm = os_normalize(item->title, strlen(item->title),
				  m->d->norm_flags, &len, m->err);

	if (!norm)
		return 0; /* titles in the catalog were checked at ingest */
	if (item->brand && item->brand[0]) {
		if (count_canonical(m, &m->field_brand, item->brand) < 0)
			goto oom;
	} else {
		if (os_tokenize(&m->t, norm, len) < 0 ||
		    count_brand_prefixes(m) < 0)
			goto oom;
	}
	if (item->category && item->category[0]) {
		const char *leaf = strrchr(item->category, '>');

		leaf = leaf ? leaf + 1 : item->category;
		if (count_canonical(m, &m->category, leaf) < 0)
			goto oom;
	}
	if (count_head_and_color(m, norm) < 0)
		goto oom;
	free(norm);
	return 0;
oom:
	free(norm);
	m->failed = 1;
	return 1;
}

static int choose_brands(struct mine *m, struct counter *chosen)
{
	const struct os_mine_opts *o = m->o;

	for (size_t k = 0; k < m->nitems; k++) {
		const long *p = m->item_prefix[k];
		long best = -1;
		size_t level = 0;
		long n1, df;

		if (p[0] < 0)
			continue;
		n1 = m->prefix[0].count[p[0]];
		df = os_vocab_df(m->v, os_strmap_key(&m->prefix[0].keys, (size_t)p[0]),
				 m->prefix[0].keys.entries[p[0]].len);
		if (n1 < o->min_brand || (df > 0 && (double)n1 < o->brand_lead * (double)df))
			continue;
		best = p[0];
		for (size_t l = 1; l < 3 && p[l] >= 0; l++) {
			long prev = m->prefix[l - 1].count[p[l - 1]];
			long cur = m->prefix[l].count[p[l]];

			if (cur < o->min_brand || (double)cur < o->brand_extend * (double)prev)
				break;
			best = p[l];
			level = l;
		}
		{
			const char *b = os_strmap_key(&m->prefix[level].keys, (size_t)best);

			if (counter_add(chosen, b, strlen(b)) < 0)
				return -1;
		}
	}
	return 0;
}

/* Whether `text` is already in the dictionary from the lexicon ("chrome"
 * and "wood" end many titles but are colors and materials, not products). */
static int in_lexicon(const struct os_dict *d, const char *text)
{
	long p = os_strmap_find(&d->phrases, text, strlen(text));

	for (size_t k = 0; p >= 0 && k < d->phrase_kw[p].n; k++)
		if (strcmp(d->kw[d->phrase_kw[p].kw[k]].source, "lexicon") == 0)
			return 1;
	return 0;
}

static int add_counted(struct mine *m, const struct counter *c,
		       const char *type, long min)
{
	for (size_t i = 0; i < c->keys.count; i++) {
		if (c->count[i] < min ||
		    in_lexicon(m->d, os_strmap_key(&c->keys, i)))
			continue;
		if (os_dict_add(m->d, type, os_strmap_key(&c->keys, i), "mined",
				c->count[i], m->err) < 0) {
			if (m->err->status == OS_EXIT_BAD_INPUT)
				continue; /* a candidate without words */
			return -1;
		}
	}
	return 0;
}

void os_mine_opts_default(struct os_mine_opts *o)
{
	o->min_brand = 3;
	o->min_product = 5;
	o->min_color = 5;
	o->brand_lead = 0.5;
	o->brand_extend = 0.6;
}

int os_mine_keywords(struct os_dict *d, struct os_catalog *c,
		     const struct os_vocab *v, const struct os_mine_opts *o,
		     struct os_error *err)
{
	struct mine m;
	struct counter chosen;
	int rc = -1;

	memset(&m, 0, sizeof m);
	m.o = o;
	m.v = v;
	m.d = d;
	m.err = err;
	os_tokens_init(&m.t);
	for (int i = 0; i < 3; i++)
		counter_init(&m.prefix[i]);
	counter_init(&m.product);
	counter_init(&m.color);
	counter_init(&m.field_brand);
	counter_init(&m.category);
	counter_init(&chosen);
	if (os_catalog_items_each(c, mine_item, &m, err) != 0 || m.failed) {
		if (m.failed)
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		goto out;
	}
	if (choose_brands(&m, &chosen) < 0) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		goto out;
	}
	if (add_counted(&m, &chosen, "brand", o->min_brand) < 0 ||
	    add_counted(&m, &m.field_brand, "brand", 1) < 0 ||
	    add_counted(&m, &m.product, "product", o->min_product) < 0 ||
	    add_counted(&m, &m.color, "color", o->min_color) < 0 ||
	    add_counted(&m, &m.category, "category", 1) < 0)
		goto out;
	rc = 0;
out:
	os_tokens_release(&m.t);
	for (int i = 0; i < 3; i++)
		counter_release(&m.prefix[i]);
	counter_release(&m.product);
	counter_release(&m.color);
	counter_release(&m.field_brand);
	counter_release(&m.category);
	counter_release(&chosen);
	free(m.item_prefix);
	return rc;
}
