/* SPDX-License-Identifier: MIT */
/* tokenize.c: words, numbers, units and CJK characters (see tokenize.h). */
#include "config.h"

#include "tokenize.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "grow.h"

static const struct {
	const char *word;
	const char *canonical;
} units[] = {
	{"in", "in."},	   {"in.", "in."},	{"inch", "in."},
	{"inches", "in."}, {"ft", "ft."},	{"ft.", "ft."},
	{"foot", "ft."},   {"feet", "ft."},	{"yd", "yd."},
	{"yd.", "yd."},	   {"gal", "gal."},	{"gal.", "gal."},
	{"gallon", "gal."}, {"gallons", "gal."}, {"qt", "qt."},
	{"qt.", "qt."},	   {"oz", "oz."},	{"oz.", "oz."},
	{"lb", "lb."},	   {"lb.", "lb."},	{"lbs", "lb."},
	{"lbs.", "lb."},   {"cu", "cu."},	{"cu.", "cu."},
	{"sq", "sq."},	   {"sq.", "sq."},	{"mm", "mm"},
	{"cm", "cm"},	   {"m", "m"},		{"ml", "ml"},
	{"w", "w"},	   {"watt", "w"},	{"watts", "w"},
	{"v", "v"},	   {"volt", "v"},	{"volts", "v"},
	{"amp", "amp"},	   {"amps", "amp"},	{"kw", "kw"},
	{"btu", "btu"},	   {"psi", "psi"},	{"gpm", "gpm"},
	{"cfm", "cfm"},	   {"mph", "mph"},	{"rpm", "rpm"},
	{"ah", "ah"},	   {"mah", "mah"},	{"hp", "hp"},
};

/* Abbreviations other than units that keep their dot. */
static const char *const dotted_words[] = {"no", "dia", "pk", "ct", "pc"};

size_t os_tokens_join(const struct os_tokens *t, size_t from, size_t to,
		      char *buf, size_t size)
{
	size_t len = 0;

	for (size_t i = from; i < to; i++) {
		size_t n = t->v[i].len;

		if (len + n + 2 > size)
			break;
		if (i > from)
			buf[len++] = ' ';
		memcpy(buf + len, os_token_text(t, i), n);
		len += n;
	}
	buf[len] = '\0';
	return len;
}

const char *os_unit_canonical(const char *word, size_t len)
{
	for (size_t i = 0; i < sizeof units / sizeof *units; i++)
		if (strlen(units[i].word) == len &&
		    memcmp(units[i].word, word, len) == 0)
			return units[i].canonical;
	return NULL;
}

static int keeps_dot(const char *word, size_t len)
{
	const char *unit = os_unit_canonical(word, len);

	if (unit)
		return unit[strlen(unit) - 1] == '.';
	for (size_t i = 0; i < sizeof dotted_words / sizeof *dotted_words; i++)
		if (strlen(dotted_words[i]) == len &&
		    memcmp(dotted_words[i], word, len) == 0)
			return 1;
	return 0;
}

void os_tokens_init(struct os_tokens *t)
{
	memset(t, 0, sizeof *t);
}

void os_tokens_release(struct os_tokens *t)
{
	free(t->text);
	free(t->v);
	memset(t, 0, sizeof *t);
}

static int is_cjk(utf8proc_int32_t cp)
{
	return (cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
	       (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff) ||
	       (cp >= 0x20000 && cp <= 0x2fa1f);
}

static int is_word(utf8proc_int32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		       (cp >= '0' && cp <= '9');
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		return !is_cjk(cp);
	default:
		return 0;
	}
}

static int is_digit(utf8proc_int32_t cp)
{
	return cp >= '0' && cp <= '9';
}

/* The tokenizer's state: the list being built and the open word, which
 * is being written at the end of t->text. */
struct state {
	struct os_tokens *t;
	size_t word_start; /* offset of the open word in t->text */
	int failed;
};

static void put_bytes(struct state *s, const char *p, size_t n)
{
	struct os_tokens *t = s->t;
	char *text = os_grow(t->text, &t->text_cap, t->text_len + n + 1, 1, 256);

	if (!text) {
		s->failed = 1;
		return;
	}
	t->text = text;
	memcpy(t->text + t->text_len, p, n);
	t->text_len += n;
}

static void put_cp(struct state *s, utf8proc_int32_t cp)
{
	utf8proc_uint8_t b[4];

	if (cp < 0x80 && s->t->text_len + 2 <= s->t->text_cap) {
		s->t->text[s->t->text_len++] = (char)cp; /* the common case */
		return;
	}
	put_bytes(s, (const char *)b, (size_t)utf8proc_encode_char(cp, b));
}

/* Ends a token of `len` bytes that starts at t->text + off. */
static void push_token(struct state *s, size_t off, size_t len, int kind)
{
	struct os_tokens *t = s->t;
	struct os_token *v;

	if (s->failed)
		return;
	v = os_grow(t->v, &t->cap, t->n + 1, sizeof *v, 32);
	if (!v) {
		s->failed = 1;
		return;
	}
	t->v = v;
	t->v[t->n].offset = (uint32_t)off;
	t->v[t->n].len = (uint32_t)len;
	t->v[t->n].kind = (uint8_t)kind;
	t->n++;
	put_bytes(s, "", 1); /* the terminating NUL */
}

static void push_text(struct state *s, const char *text, int kind)
{
	size_t off = s->t->text_len;

	put_bytes(s, text, strlen(text));
	push_token(s, off, strlen(text), kind);
	s->word_start = s->t->text_len;
}

/* Whether a unit may follow: after a number, or after "cu." / "sq."
 * ("1.9 cu. ft."). */
static int expects_unit(const struct os_tokens *t)
{
	const struct os_token *last = t->n ? &t->v[t->n - 1] : NULL;

	if (!last)
		return 0;
	if (last->kind == OS_TOKEN_NUMBER)
		return 1;
	return last->kind == OS_TOKEN_UNIT &&
	       (strcmp(t->text + last->offset, "cu.") == 0 ||
		strcmp(t->text + last->offset, "sq.") == 0);
}

/* Length of the numeric prefix of w ("1-1/2" in "1-1/2in"): digits and the
 * joiners . / , - between digits; starts with a digit or ".digit". */
static size_t number_prefix(const char *w, size_t len)
{
	size_t i = 0, end = 0;

	if (len && w[0] == '.')
		i = 1;
	if (i >= len || w[i] < '0' || w[i] > '9')
		return 0;
	for (; i < len; i++) {
		if (w[i] >= '0' && w[i] <= '9')
			end = i + 1;
		else if (!strchr("./,-", w[i]))
			break;
	}
	return end;
}

/* Closes the open word: classifies it, splits a glued unit ("3/4in"), and
 * gives a unit after a number its canonical form. */
static void flush(struct state *s)
{
	struct os_tokens *t = s->t;
	size_t off = s->word_start, len = t->text_len - off;
	const char *w;
	size_t num;
	const char *unit;

	if (len == 0 || s->failed)
		return; /* t->text may still be NULL: no pointer arithmetic on it */
	w = t->text + off;
	num = number_prefix(w, len);
	if (num == len) {
		push_token(s, off, len, OS_TOKEN_NUMBER);
	} else if (num > 0 && (unit = os_unit_canonical(w + num, len - num))) {
		t->text_len = off + num;
		push_token(s, off, num, OS_TOKEN_NUMBER);
		push_text(s, unit, OS_TOKEN_UNIT);
	} else if (expects_unit(t) && (unit = os_unit_canonical(w, len))) {
		t->text_len = off;
		push_text(s, unit, OS_TOKEN_UNIT);
	} else {
		push_token(s, off, len, OS_TOKEN_WORD);
	}
	s->word_start = t->text_len;
}

/* Whether the open word is a number, so that " or ' after it is a unit. */
static int open_word_is_number(const struct state *s)
{
	size_t len = s->t->text_len - s->word_start;

	return len > 0 &&
	       number_prefix(s->t->text + s->word_start, len) == len;
}

int os_tokenize(struct os_tokens *t, const char *text, size_t len)
{
	struct state s = {t, 0, 0};
	utf8proc_int32_t small[256];
	utf8proc_int32_t *cps = len < 256 ? small : malloc((len + 1) * sizeof *cps);
	size_t n = 0;

	if (!cps)
		return -1;
	for (size_t i = 0; i < len;) {
		utf8proc_ssize_t k;

		if ((unsigned char)text[i] < 0x80) {
			cps[n++] = (unsigned char)text[i++];
			continue;
		}
		k = utf8proc_iterate(
			(const utf8proc_uint8_t *)text + i,
			(utf8proc_ssize_t)(len - i), &cps[n]);

		if (k <= 0) { /* invalid UTF-8: skip the byte */
			i++;
			continue;
		}
		i += (size_t)k;
		n++;
	}
	t->text_len = 0;
	t->n = 0;
	for (size_t i = 0; i < n && !s.failed; i++) {
		utf8proc_int32_t cp = cps[i], next = i + 1 < n ? cps[i + 1] : 0;
		int in_word = t->text_len > s.word_start;
		utf8proc_int32_t prev = i > 0 ? cps[i - 1] : 0;

		if (is_word(cp)) {
			put_cp(&s, cp);
		} else if (is_cjk(cp)) {
			flush(&s);
			put_cp(&s, cp);
			push_token(&s, s.word_start, t->text_len - s.word_start,
				   OS_TOKEN_CJK);
			s.word_start = t->text_len;
		} else if (cp == '#' && !in_word && is_word(next)) {
			put_cp(&s, cp);
		} else if ((cp == '-' || cp == '/' || cp == '&' || cp == '\'' ||
			    cp == 0x2019) &&
			   in_word && is_word(next)) {
			put_cp(&s, cp == 0x2019 ? '\'' : cp);
		} else if (cp == '.' && is_digit(next) &&
			   (!in_word || is_digit(prev))) {
			put_cp(&s, cp);
		} else if (cp == '.' && in_word && !is_word(next) &&
			   keeps_dot(t->text + s.word_start,
				     t->text_len - s.word_start)) {
			put_cp(&s, cp);
			flush(&s);
		} else if (cp == ',' && in_word && is_digit(prev) &&
			   is_digit(next)) {
			continue; /* a thousands separator */
		} else if ((cp == '"' || cp == 0x201d || cp == '\'' ||
			    cp == 0x2019) &&
			   open_word_is_number(&s)) {
			flush(&s);
			push_text(&s, cp == '"' || cp == 0x201d ? "in." : "ft.",
				  OS_TOKEN_UNIT);
		} else {
			flush(&s);
		}
	}
	flush(&s);
	if (cps != small)
		free(cps);
	return s.failed ? -1 : 0;
}
