/* SPDX-License-Identifier: MIT */
/* analyze.c: normalize, then tokenize (see analyze.h). */
#include "config.h"

#include "analyze.h"

#include <stdlib.h>
#include <string.h>

#include "normalize.h"

int os_analyze(struct os_tokens *t, const char *text, unsigned norm_flags,
	       struct os_error *err)
{
	size_t len;
	char *norm = os_normalize(text, strlen(text), norm_flags, &len, err);
	int rc;

	if (!norm)
		return -1;
	rc = os_tokenize(t, norm, len);
	free(norm);
	if (rc < 0)
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return rc;
}
