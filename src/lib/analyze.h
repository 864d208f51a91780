/* SPDX-License-Identifier: MIT */
/* analyze.h: text to tokens in one call (normalize, then tokenize), the
 * path every item title and query takes. */
#ifndef OS_ANALYZE_H
#define OS_ANALYZE_H

#include <stddef.h>

#include "error.h"
#include "tokenize.h"

/* Replaces the contents of `t` with the tokens of `text`. Returns 0, or -1
 * with err (status 3 for invalid UTF-8, 1 for memory). */
int os_analyze(struct os_tokens *t, const char *text, unsigned norm_flags,
	       struct os_error *err);

#endif
