/* SPDX-License-Identifier: MIT */
/* dict.c: the typed keyword dictionary and the annotator (see keywords.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "keywords.h"
#include "normalize.h"

void os_dict_init(struct os_dict *d, unsigned norm_flags)
{
	memset(d, 0, sizeof *d);
	os_strmap_init(&d->types);
	os_strmap_init(&d->index);
	os_strmap_init(&d->symbols);
	os_strmap_init(&d->phrases);
	d->norm_flags = norm_flags;
}

void os_dict_release(struct os_dict *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->kw[i].text);
	free(d->kw);
	for (size_t i = 0; i < d->phrases.count; i++)
		free(d->phrase_kw[i].kw);
	free(d->phrase_kw);
	os_strmap_release(&d->types);
	os_strmap_release(&d->index);
	os_strmap_release(&d->symbols);
	os_strmap_release(&d->phrases);
	os_ac_free(d->ac);
	memset(d, 0, sizeof *d);
}

char *os_dict_canonical(const struct os_dict *d, const char *text,
			struct os_error *err)
{
	unsigned flags = d->norm_flags;
	struct os_tokens t;
	size_t nlen, len;
	char *norm = os_normalize(text, strlen(text), flags, &nlen, err);
	char *phrase;

	if (!norm)
		return NULL;
	os_tokens_init(&t);
	if (os_tokenize(&t, norm, nlen) < 0) {
		free(norm);
		os_tokens_release(&t);
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return NULL;
	}
	free(norm);
	phrase = malloc(t.text_len + 1);
	if (!phrase) {
		os_tokens_release(&t);
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return NULL;
	}
	len = os_tokens_join(&t, 0, t.n, phrase, t.text_len + 1);
	os_tokens_release(&t);
	if (len == 0) {
		free(phrase);
		os_error_set(err, OS_EXIT_BAD_INPUT, "keyword '%s' has no words",
			     text);
		return NULL;
	}
	return phrase;
}

static int add_to_phrase(struct os_dict *d, const char *phrase, size_t kw)
{
	int added;
	long p = os_strmap_intern(&d->phrases, phrase, strlen(phrase), &added);
	uint32_t *list;

	struct os_phrase_keywords *pk;

	if (p < 0)
		return -1;
	pk = os_grow(d->phrase_kw, &d->phrases_cap, (size_t)p + 1, sizeof *pk, 64);
	if (!pk)
		return -1;
	d->phrase_kw = pk;
	if (added)
		pk[p] = (struct os_phrase_keywords){NULL, 0};
	list = realloc(pk[p].kw, (pk[p].n + 1) * sizeof *list);
	if (!list)
		return -1;
	list[pk[p].n++] = (uint32_t)kw;
	pk[p].kw = list;
	return 0;
}

long os_dict_add(struct os_dict *d, const char *type, const char *text,
		 const char *source, long count, struct os_error *err)
{
	struct os_keyword *kw;
	char *phrase, *key;
	long t, idx;
	int added;
	size_t klen;

	if (d->ac) {
		os_error_set(err, OS_EXIT_FAILURE,
			     "keyword added after the dictionary was built");
		return -1;
	}
	phrase = os_dict_canonical(d, text, err);
	if (!phrase)
		return -1;
	klen = strlen(type) + 1 + strlen(phrase);
	key = malloc(klen + 1);
	if (!key)
		goto oom;
	snprintf(key, klen + 1, "%s\t%s", type, phrase);
	idx = os_strmap_intern(&d->index, key, klen, &added);
	free(key);
	if (idx < 0)
		goto oom;
	if (!added) {
		free(phrase);
		if (count > d->kw[idx].count)
			d->kw[idx].count = count;
		return idx;
	}
	kw = os_grow(d->kw, &d->cap, d->n + 1, sizeof *kw, 256);
	if (!kw)
		goto oom;
	d->kw = kw;
	t = os_strmap_intern(&d->types, type, strlen(type), NULL);
	if (t < 0 || add_to_phrase(d, phrase, d->n) < 0)
		goto oom;
	d->kw[d->n].type = os_strmap_key(&d->types, (size_t)t);
	d->kw[d->n].text = phrase;
	d->kw[d->n].source = source;
	d->kw[d->n].count = count;
	return (long)d->n++;
oom:
	free(phrase);
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return -1;
}

int os_dict_load_tsv(struct os_dict *d, const char *path, const char *source,
		     struct os_error *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	ssize_t n;
	int rc = 0;

	if (!f) {
		os_error_set(err, OS_EXIT_FAILURE, "cannot read '%s': %s", path,
			     strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *tab, *text;

		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		tab = strchr(line, '\t');
		if (!tab || tab == line || !tab[1]) {
			os_error_set_at(err, OS_EXIT_BAD_INPUT, path, lineno,
					"expected 'type<TAB>keyword'");
			rc = -1;
			break;
		}
		*tab = '\0';
		text = tab + 1;
		text[strcspn(text, "\t")] = '\0'; /* later columns: ignored */
		if (os_dict_add(d, line, text, source, 0, err) < 0) {
			if (err->status == OS_EXIT_BAD_INPUT)
				os_error_locate(err, path, lineno);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		os_error_set(err, OS_EXIT_FAILURE, "cannot read '%s': %s", path,
			     strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

int os_dict_build(struct os_dict *d)
{
	uint32_t syms[256];

	os_ac_free(d->ac);
	d->ac = os_ac_new();
	if (!d->ac || os_strmap_intern(&d->types, "spec", 4, NULL) < 0)
		return -1;
	for (size_t p = 0; p < d->phrases.count; p++) {
		const char *s = os_strmap_key(&d->phrases, p);
		size_t n = 0;

		while (*s && n < 256) {
			size_t len = strcspn(s, " ");
			long sym = os_strmap_intern(&d->symbols, s, len, NULL);

			if (sym < 0)
				return -1;
			syms[n++] = (uint32_t)sym;
			s += len;
			s += *s == ' ';
		}
		if (os_ac_add(d->ac, syms, n, (uint32_t)p) < 0)
			return -1;
	}
	return os_ac_build(d->ac);
}

/* "12-gauge", "3-prong", "2-light": digits (a decimal allowed), a hyphen,
 * then letters. */
static int is_number_word(const char *w)
{
	const char *p = w;

	while (*p >= '0' && *p <= '9')
		p++;
	if (p == w)
		return 0;
	if (*p == '.' && p[1] >= '0' && p[1] <= '9')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p++ != '-' || !*p)
		return 0;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z')))
			return 0;
	return 1;
}

/* Whether `text` is tokens [start, start+len) joined by spaces. */
static int tokens_spell(const struct os_tokens *t, uint32_t start,
			uint32_t len, const char *text)
{
	for (uint32_t i = 0; i < len; i++) {
		const struct os_token *tok = &t->v[start + i];

		if (i && *text++ != ' ')
			return 0;
		if (strncmp(text, t->text + tok->offset, tok->len) != 0)
			return 0;
		text += tok->len;
	}
	return *text == '\0';
}

/* Same (type, text)? A pattern hit may repeat a dictionary keyword (a
 * user's "1/2 in." spec), so texts are compared, not only indices. */
static int same_hit(const struct os_dict *d, const struct os_tokens *t,
		    const struct os_keyword_hit *a,
		    const struct os_keyword_hit *b)
{
	if (a->type != b->type)
		return 0;
	if (a->keyword >= 0 && b->keyword >= 0)
		return a->keyword == b->keyword;
	if (a->keyword >= 0)
		return tokens_spell(t, b->start, b->len, d->kw[a->keyword].text);
	if (b->keyword >= 0)
		return tokens_spell(t, a->start, a->len, d->kw[b->keyword].text);
	if (a->len != b->len)
		return 0;
	for (uint32_t i = 0; i < a->len; i++)
		if (strcmp(os_token_text(t, a->start + i),
			   os_token_text(t, b->start + i)) != 0)
			return 0;
	return 1;
}

/* Appends a hit unless the same (type, text) is already there. */
static void push_hit(const struct os_dict *d, const struct os_tokens *t,
		     struct os_keyword_hit *out, size_t cap, size_t *count,
		     struct os_keyword_hit hit)
{
	size_t n = *count < cap ? *count : cap;

	for (size_t i = 0; i < n; i++)
		if (same_hit(d, t, &out[i], &hit))
			return;
	if (*count < cap)
		out[*count] = hit;
	(*count)++;
}

long os_dict_find(const struct os_dict *d, const struct os_tokens *t,
		  struct os_keyword_hit *out, size_t cap)
{
	/* most texts are short: their arrays live on the stack */
	uint32_t syms_small[64], *syms = syms_small;
	struct os_ac_match m_small[64], *m = m_small;
	const char *spec = NULL;
	size_t count = 0, nm = 0, mi = 0;
	long type_id = os_strmap_find(&d->types, "spec", 4);

	if (t->n >= 64) {
		syms = malloc((t->n + 1) * sizeof *syms);
		m = malloc((t->n + 1) * sizeof *m);
		if (!syms || !m) {
			free(syms);
			free(m);
			return -1;
		}
	}
	if (type_id >= 0)
		spec = os_strmap_key(&d->types, (size_t)type_id);
	if (d->ac) {
		for (size_t i = 0; i < t->n; i++) {
			long s = os_strmap_find(&d->symbols, os_token_text(t, i),
						t->v[i].len);

			syms[i] = s < 0 ? OS_AC_NO_SYMBOL : (uint32_t)s;
		}
		nm = os_ac_find(d->ac, syms, t->n, m, t->n + 1);
	}
	/* Merge the dictionary matches with the spec pattern, in order. */
	for (size_t i = 0; i <= t->n; i++) {
		for (; mi < nm && m[mi].start == i; mi++)
			for (size_t k = 0; k < d->phrase_kw[m[mi].value].n; k++) {
				uint32_t kw = d->phrase_kw[m[mi].value].kw[k];
				struct os_keyword_hit h = {
					(long)kw, d->kw[kw].type, (uint32_t)i,
					(uint32_t)m[mi].len};

				push_hit(d, t, out, cap, &count, h);
			}
		if (i == t->n || !spec)
			continue;
		if (t->v[i].kind == OS_TOKEN_NUMBER && i + 1 < t->n &&
		    t->v[i + 1].kind == OS_TOKEN_UNIT) {
			uint32_t len = 2;

			if (i + 2 < t->n && t->v[i + 2].kind == OS_TOKEN_UNIT)
				len = 3; /* "1.9 cu. ft." */
			push_hit(d, t, out, cap, &count,
				 (struct os_keyword_hit){-1, spec, (uint32_t)i, len});
		} else if (t->v[i].kind == OS_TOKEN_WORD &&
			   is_number_word(os_token_text(t, i))) {
			push_hit(d, t, out, cap, &count,
				 (struct os_keyword_hit){-1, spec, (uint32_t)i, 1});
		}
	}
	if (syms != syms_small) {
		free(syms);
		free(m);
	}
	return (long)count;
}

const char *os_keyword_hit_text(const struct os_dict *d,
				const struct os_tokens *t,
				const struct os_keyword_hit *hit, char *buf,
				size_t size)
{
	if (hit->keyword >= 0)
		return d->kw[hit->keyword].text;
	os_tokens_join(t, hit->start, hit->start + hit->len, buf, size);
	return buf;
}
