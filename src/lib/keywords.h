/* SPDX-License-Identifier: MIT */
/* keywords.h: the typed keyword dictionary (the first step of KHQE) and
 * the annotator that finds its keywords in a token list.
 *
 * A keyword is a (type, text) pair; its text is stored normalized and
 * tokenized, tokens joined by one space, so that it matches the tokens of
 * any item or query whatever their spelling. Types are free strings; the
 * suite uses brand, product, material, color, spec, style, function,
 * audience and category. Besides the dictionary the annotator recognizes
 * one pattern: a number and its unit ("1/2 in.", "1.9 cu. ft.") or a number
 * joined to a word ("12-gauge", "3-prong", "4-pack") is a `spec`.
 *
 * The dictionary owns all of its strings. os_dict_find() is safe to call
 * from several threads once os_dict_build() has returned. */
#ifndef OS_KEYWORDS_H
#define OS_KEYWORDS_H

#include <stddef.h>
#include <stdint.h>

#include "ahocorasick.h"
#include "error.h"
#include "strmap.h"
#include "tokenize.h"

struct os_keyword {
	const char *type; /* interned in os_dict.types */
	char *text;       /* normalized tokens joined by ' ' */
	const char *source; /* "lexicon", "mined", "user", "pattern" */
	long count;       /* items that carry it (mined) or 0 */
};

struct os_dict {
	struct os_keyword *kw;
	size_t n, cap;
	struct os_strmap types;   /* type names */
	struct os_strmap index;   /* "type\ttext" -> keyword index */
	struct os_strmap symbols; /* token text -> automaton symbol */
	struct os_strmap phrases; /* text -> phrase id (automaton value) */
	struct os_phrase_keywords {
		uint32_t *kw;      /* indices into `kw`, malloc'd */
		size_t n;
	} *phrase_kw;             /* by phrase id */
	size_t phrases_cap;
	struct os_ac *ac;
	unsigned norm_flags;      /* passed to os_normalize() */
};

/* One keyword found in a token list: tokens [start, start+len). For a
 * pattern hit `keyword` is -1 and the text is the tokens themselves. */
struct os_keyword_hit {
	long keyword;
	const char *type;
	uint32_t start, len;
};

void os_dict_init(struct os_dict *d, unsigned norm_flags);
void os_dict_release(struct os_dict *d);

/* The canonical form of a keyword text: normalized, tokenized, tokens
 * joined by one space (malloc'd). NULL with err: status 3 for a text
 * without any token, 1 for memory. */
char *os_dict_canonical(const struct os_dict *d, const char *text,
			struct os_error *err);
/* Adds a keyword, normalizing and tokenizing `text`. Returns its index
 * (an existing one for a repeated pair), or -1 with err: status 3 for
 * text without any token or invalid UTF-8, 1 for memory. `source` must
 * be a string literal or outlive the dictionary. */
long os_dict_add(struct os_dict *d, const char *type, const char *text,
		 const char *source, long count, struct os_error *err);
/* Loads `type<TAB>keyword` lines ('#' comments and blank lines skipped;
 * further tab-separated columns, such as those of --dump-keywords, are
 * ignored). Errors name FILE:LINE (status 3) or the file (status 1). */
int os_dict_load_tsv(struct os_dict *d, const char *path, const char *source,
		     struct os_error *err);
/* Adds the built-in lexicon of colors, materials, styles, functions and
 * audiences (lexicon.c). */
int os_dict_add_lexicon(struct os_dict *d, struct os_error *err);
/* Builds the matcher; call after the last os_dict_add(). */
int os_dict_build(struct os_dict *d);

/* Finds the keywords of `t`: leftmost-longest dictionary phrases (each
 * phrase with all of its types) and the spec pattern, in token order, at
 * most one hit per (type, text). Writes up to `cap` hits and returns how
 * many there are in all, or -1 when out of memory. */
long os_dict_find(const struct os_dict *d, const struct os_tokens *t,
		  struct os_keyword_hit *out, size_t cap);

/* The text of a hit: the keyword's, or the tokens of a pattern hit joined
 * by spaces, written to buf (NUL-terminated, cut to size). */
const char *os_keyword_hit_text(const struct os_dict *d,
				const struct os_tokens *t,
				const struct os_keyword_hit *hit, char *buf,
				size_t size);

#endif
