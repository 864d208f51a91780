/* SPDX-License-Identifier: MIT */
/* ahocorasick.h: an Aho-Corasick automaton over sequences of 32-bit symbols
 * (token ids), reporting leftmost-longest non-overlapping matches: at each
 * position the longest pattern wins, and a match nested in or overlapping
 * an earlier chosen one is dropped.
 *
 * The automaton owns its tables; patterns are copied in. */
#ifndef OS_AHOCORASICK_H
#define OS_AHOCORASICK_H

#include <stddef.h>
#include <stdint.h>

/* A symbol no pattern contains (for text tokens unknown to the patterns). */
#define OS_AC_NO_SYMBOL UINT32_MAX

struct os_ac;

struct os_ac_match {
	size_t start;   /* first symbol of the match in the text */
	size_t len;     /* symbols matched */
	uint32_t value; /* the pattern's value */
};

struct os_ac *os_ac_new(void);
void os_ac_free(struct os_ac *ac);

/* Adds a pattern (n >= 1). Adding the same sequence again replaces its
 * value. Returns 0, or -1 when out of memory or after os_ac_build(). */
int os_ac_add(struct os_ac *ac, const uint32_t *syms, size_t n,
	      uint32_t value);
/* Computes the failure links; call once after the last os_ac_add(). */
int os_ac_build(struct os_ac *ac);

/* Finds the leftmost-longest matches in text[0..n), writes up to `cap` of
 * them in text order, and returns how many there are. Safe to call from
 * several threads at once. */
size_t os_ac_find(const struct os_ac *ac, const uint32_t *text, size_t n,
		  struct os_ac_match *out, size_t cap);

#endif
