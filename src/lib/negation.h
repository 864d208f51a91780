/* SPDX-License-Identifier: MIT */
/* negation.h: the negative constraints of a query, what a shopper says
 * the item must not have: "without flux", "no bpa", "lead-free",
 * "sugar free", "不含铅", "无糖".
 *
 * A cue is one of the words without, no, not, except, excluding, w/o or
 * the Chinese 不含, 不要, 不带, 没有, 无, 非, followed by what it excludes:
 * the longest dictionary keyword that starts there, else one token; or a
 * word ending in "-free" (what comes before the hyphen is excluded), or
 * the word "free" after a keyword or a token (excluded). Tokens are those
 * of os_analyze(), so the cues are matched normalized (case folded). */
#ifndef OS_NEGATION_H
#define OS_NEGATION_H

#include <stddef.h>
#include <stdint.h>

#include "keywords.h"
#include "tokenize.h"

struct os_negation {
	uint32_t start, len; /* the tokens of cue and excluded text together */
	char text[128];      /* the excluded text, tokens joined by ' ' */
};

/* Finds the negations of `t`, given its dictionary hits (os_dict_find()),
 * left to right, none overlapping. Writes up to `cap` and returns how
 * many there are in all. */
size_t os_negations_find(const struct os_tokens *t,
			 const struct os_keyword_hit *hits, size_t nhits,
			 struct os_negation *out, size_t cap);

#endif
