/* SPDX-License-Identifier: MIT */
/* negation.c: cues of exclusion in a token list (see negation.h). */
#include "config.h"

#include "negation.h"

#include <string.h>

/* Cues before what they exclude, as token sequences (CJK characters are
 * one token each). */
static const char *const prefix_cues[][2] = {
	{"without", NULL}, {"no", NULL},  {"not", NULL},    {"except", NULL},
	{"excluding", NULL}, {"w/o", NULL}, {"不", "含"},   {"不", "要"},
	{"不", "带"},      {"没", "有"},  {"无", NULL},     {"非", NULL},
};

static int token_is(const struct os_tokens *t, size_t i, const char *s)
{
	return i < t->n && strcmp(os_token_text(t, i), s) == 0;
}

/* Tokens of the cue that starts at i, or 0. */
static uint32_t prefix_cue(const struct os_tokens *t, size_t i)
{
	for (size_t c = 0; c < sizeof prefix_cues / sizeof *prefix_cues; c++) {
		if (!token_is(t, i, prefix_cues[c][0]))
			continue;
		if (!prefix_cues[c][1])
			return 1;
		if (token_is(t, i + 1, prefix_cues[c][1]))
			return 2;
	}
	return 0;
}

/* Tokens of the longest keyword hit that starts (or, with `ending`, ends
 * just before `at`) at `at`, or 1. */
static uint32_t object_len(const struct os_keyword_hit *hits, size_t nhits,
			   size_t at, int ending)
{
	uint32_t best = 1;

	for (size_t h = 0; h < nhits; h++) {
		const struct os_keyword_hit *k = &hits[h];

		if (ending ? (k->start + k->len == at && k->len > best)
			   : (k->start == at && k->len > best))
			best = k->len;
	}
	return best;
}

static void set_text(const struct os_tokens *t, size_t from, size_t to,
		     struct os_negation *n)
{
	os_tokens_join(t, from, to, n->text, sizeof n->text);
}

/* The negation that starts at i, if any; returns its tokens (0: none). */
static uint32_t negation_at(const struct os_tokens *t,
			    const struct os_keyword_hit *hits, size_t nhits,
			    size_t i, struct os_negation *n)
{
	uint32_t cue = prefix_cue(t, i);
	const char *word = os_token_text(t, i);
	size_t len = t->v[i].len;

	if (cue && i + cue < t->n) {
		uint32_t obj = object_len(hits, nhits, i + cue, 0);

		n->start = (uint32_t)i;
		n->len = cue + obj;
		set_text(t, i + cue, i + cue + obj, n);
		return n->len;
	}
	if (len > 5 && strcmp(word + len - 5, "-free") == 0) {
		size_t keep = len - 5 < sizeof n->text ? len - 5
						       : sizeof n->text - 1;

		n->start = (uint32_t)i;
		n->len = 1;
		memcpy(n->text, word, keep);
		n->text[keep] = '\0';
		return 1;
	}
	/* "X free": X is a keyword that ends here, or the token before */
	if (i + 1 < t->n && token_is(t, i + 1, "free") && !prefix_cue(t, i)) {
		uint32_t obj = object_len(hits, nhits, i + 1, 1);

		if (obj > i + 1)
			obj = (uint32_t)(i + 1);
		n->start = (uint32_t)(i + 1 - obj);
		n->len = obj + 1;
		set_text(t, i + 1 - obj, i + 1, n);
		return obj + 1;
	}
	return 0;
}

size_t os_negations_find(const struct os_tokens *t,
			 const struct os_keyword_hit *hits, size_t nhits,
			 struct os_negation *out, size_t cap)
{
	size_t found = 0;

	for (size_t i = 0; i < t->n;) {
		struct os_negation n;
		uint32_t used = negation_at(t, hits, nhits, i, &n);

		if (!used) {
			i++;
			continue;
		}
		/* "X free" was found at X's last token: drop an earlier
		 * negation it overlaps */
		while (found && found <= cap && out[found - 1].start +
			       out[found - 1].len > n.start)
			found--;
		if (found < cap)
			out[found] = n;
		found++;
		i = n.start + n.len;
	}
	return found;
}
