/* SPDX-License-Identifier: MIT */
/* error.h: the error record that library functions fill instead of printing.
 *
 * A function that can fail takes a `struct os_error *` last and returns -1
 * (or NULL) after filling it; the program's main() prints it with
 * os_cli_report() and picks the exit status from `status`. The record owns
 * no memory. */
#ifndef OS_ERROR_H
#define OS_ERROR_H

#include <stdarg.h>

/* Exit statuses shared by every program (see onesearch(7)). */
enum os_exit {
	OS_EXIT_OK = 0,        /* success, also on empty input */
	OS_EXIT_FAILURE = 1,   /* I/O, catalog, memory: the run could not finish */
	OS_EXIT_USAGE = 2,     /* bad option or argument */
	OS_EXIT_BAD_INPUT = 3, /* a bad input record */
};

struct os_error {
	int status;         /* one of enum os_exit; 0 when no error */
	char where[512];    /* file name, or "" when the error has no position */
	long line;          /* 1-based line in `where`, 0 when none */
	char message[1024]; /* lower case, no final period */
};

void os_error_clear(struct os_error *err);
void os_error_set(struct os_error *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void os_error_set_at(struct os_error *err, int status, const char *where,
		     long line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Adds a position to an error already set (keeping its message). */
void os_error_locate(struct os_error *err, const char *where, long line);
void os_error_vset(struct os_error *err, int status, const char *fmt,
		   va_list ap) __attribute__((format(printf, 3, 0)));

#endif
