/* SPDX-License-Identifier: MIT */
/* number.h: the fields of a text line (TREC lines) and the numbers in
 * them, none of them NUL-terminated where it ends. */
#ifndef OS_NUMBER_H
#define OS_NUMBER_H

#include <stddef.h>

/* Up to `max` fields of the `size` bytes at `line`, separated by spaces
 * and tabs: their starts and lengths; returns how many there are in all. */
size_t os_split_fields(const char *line, size_t size, const char **start,
		       size_t *len, size_t max);
/* The finite double that strtod() reads from all `len` bytes of `s`;
 * 0, or -1 when the field is not one. Plain decimals take a fast path
 * with the same, correctly rounded, result. */
int os_parse_double(const char *s, size_t len, double *out);
/* The long that strtol() reads from all `len` bytes of `s`; 0 or -1. */
int os_parse_long(const char *s, size_t len, long *out);

#endif
