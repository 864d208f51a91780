/* SPDX-License-Identifier: MIT */
/* normalize.h: the text normalization every program applies before
 * tokenizing, so that items and queries meet in one form: HTML character
 * references decoded (shop titles carry "&amp;"), Unicode NFKC (full-width
 * forms, ligatures, superscripts to their plain letters), case folding,
 * default-ignorable characters (zero-width spaces, soft hyphens) removed,
 * and diacritics taken off Latin letters ("café" matches "cafe") unless
 * OS_NORM_KEEP_ACCENTS is given. */
#ifndef OS_NORMALIZE_H
#define OS_NORMALIZE_H

#include <stddef.h>

#include "error.h"

enum { OS_NORM_KEEP_ACCENTS = 1 };

/* The names of the normalizations in the catalog's meta table
 * ("normalization"), and back. */
#define OS_NORM_NAME_KEEP_ACCENTS "nfkc-casefold"
#define OS_NORM_NAME_FOLD_ACCENTS "nfkc-casefold-fold-accents"

static inline unsigned os_norm_flags_of(const char *name)
{
	return name && __builtin_strcmp(name, OS_NORM_NAME_KEEP_ACCENTS) == 0
		       ? OS_NORM_KEEP_ACCENTS
		       : 0;
}

/* Returns the normalized text (malloc'd, NUL-terminated; the caller frees
 * it) and its length in *out_len, or NULL with err: status 3 for invalid
 * UTF-8, 1 when out of memory. */
char *os_normalize(const char *text, size_t len, unsigned flags,
		   size_t *out_len, struct os_error *err);

#endif
