/* SPDX-License-Identifier: MIT */
/* output.h: an output file that appears whole or not at all. Data goes to
 * a temporary file (created with O_EXCL in the same directory, mode from
 * the umask) that os_output_commit() renames into place; os_output_abort()
 * or a killed process leaves the old file, if any, untouched. With no path
 * or "-" the output is stdout, which os_cli_close_stdout() flushes and
 * checks. A path that exists and is not a regular file (a device such as
 * /dev/null, a FIFO) is written directly: it cannot be replaced. */
#ifndef OS_OUTPUT_H
#define OS_OUTPUT_H

#include <stdio.h>

#include "error.h"

struct os_output {
	FILE *f;    /* where to write */
	char *path; /* final name, or NULL for stdout */
	char *tmp;  /* temporary name, or NULL */
	int direct; /* writing to `path` itself, not a regular file */
};

int os_output_open(struct os_output *o, const char *path, struct os_error *err);
/* Flushes, syncs and renames; returns 0, or -1 with err (status 1) after
 * removing the temporary file. */
int os_output_commit(struct os_output *o, struct os_error *err);
/* Removes the temporary file (no-op for stdout or after commit). */
void os_output_abort(struct os_output *o);
/* After a failed write (errno set) to the output named `path` (NULL or
 * "-": stdout): status 1, "cannot write 'PATH': REASON", or "write error:
 * REASON" for stdout. */
void os_output_write_error(struct os_error *err, const char *path);

#endif
