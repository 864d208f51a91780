/* SPDX-License-Identifier: MIT */
/* tap.h: a minimal Test Anything Protocol producer for the C unit tests:
 * ok()/is_str()/is_long() print one test line each; tap_done() prints the
 * plan and returns the exit status. Header-only, for test programs. */
#ifndef OS_TAP_H
#define OS_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

static inline int ok(int cond, const char *name)
{
	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_count, name);
	return cond;
}

static inline int is_str(const char *got, const char *want, const char *name)
{
	int same = got && want ? strcmp(got, want) == 0 : got == want;

	if (!ok(same, name))
		printf("#   got:  '%s'\n#   want: '%s'\n", got ? got : "(null)",
		       want ? want : "(null)");
	return same;
}

static inline int is_long(long got, long want, const char *name)
{
	if (!ok(got == want, name))
		printf("#   got:  %ld\n#   want: %ld\n", got, want);
	return got == want;
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
