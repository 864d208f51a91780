/* SPDX-License-Identifier: MIT */
/* tokenize.h: splitting normalized text (see normalize.h) into tokens.
 *
 * Latin and other alphabetic scripts give words of letters and digits that
 * keep the inner punctuation shop text relies on: fractions and decimals
 * ("1/2", "1.9", ".105", "1-1/2"), hyphenated words and codes ("3-prong",
 * "strong-tie", "#sc-141"), apostrophes ("men's"), and the dotted unit
 * abbreviations ("in.", "ft.", "cu."). A unit right after a number takes its
 * canonical dotted form, so "1/2in", "1/2 in", '1/2"' and "1/2 in." all
 * give "1/2" "in.". CJK ideographs and kana are one token per character.
 * Other punctuation, symbols and emoji separate tokens.
 *
 * A token list owns its text; tokens point into it. */
#ifndef OS_TOKENIZE_H
#define OS_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

enum os_token_kind {
	OS_TOKEN_WORD = 0,
	OS_TOKEN_NUMBER = 1, /* digits with . / , - only: "1/2", "1.9" */
	OS_TOKEN_UNIT = 2,   /* a canonical unit after a number: "in." */
	OS_TOKEN_CJK = 3,
};

struct os_token {
	uint32_t offset; /* into os_tokens.text; the token is NUL-terminated */
	uint32_t len;
	uint8_t kind;
};

struct os_tokens {
	char *text;
	size_t text_len, text_cap;
	struct os_token *v;
	size_t n, cap;
};

void os_tokens_init(struct os_tokens *t);
void os_tokens_release(struct os_tokens *t);

/* Replaces the contents of `t` with the tokens of `text` (normalized,
 * valid UTF-8). Returns 0, or -1 when out of memory. */
int os_tokenize(struct os_tokens *t, const char *text, size_t len);

static inline const char *os_token_text(const struct os_tokens *t, size_t i)
{
	return t->text + t->v[i].offset;
}

/* Writes tokens [from, to) joined by single spaces to buf (NUL-terminated;
 * tokens that do not fit are left out; t->text_len + 1 bytes hold all) and
 * returns the length. */
size_t os_tokens_join(const struct os_tokens *t, size_t from, size_t to,
		      char *buf, size_t size);

/* The canonical form of a unit word ("in", "in.", "inch" -> "in."), or NULL
 * when `word` is not a unit. */
const char *os_unit_canonical(const char *word, size_t len);

#endif
