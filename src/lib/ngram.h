/* SPDX-License-Identifier: MIT */
/* ngram.h: hashed character n-grams of a token, the features that give
 * unknown words and typos a representation ("steele" shares most of its
 * n-grams with "steel"). The token is framed as "<token>" and every run of
 * min..max code points is hashed (FNV-1a, mixed) into `buckets`. The hash
 * is part of the catalog format. */
#ifndef OS_NGRAM_H
#define OS_NGRAM_H

#include <stddef.h>
#include <stdint.h>

#define OS_NGRAM_MIN 3
#define OS_NGRAM_MAX 5
#define OS_NGRAM_BUCKETS_DEFAULT (1u << 20)

/* Writes up to `cap` bucket ids of the n-grams of `token` (valid UTF-8) to
 * `out` and returns how many there are in all (which may exceed cap). */
size_t os_ngrams(const char *token, size_t len, uint32_t buckets,
		 uint32_t *out, size_t cap);

#endif
