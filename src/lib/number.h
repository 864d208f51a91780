/* SPDX-License-Identifier: MIT */
/* number.h: numbers in text fields (TREC lines) that are not
 * NUL-terminated where they end. */
#ifndef OS_NUMBER_H
#define OS_NUMBER_H

#include <stddef.h>

/* The finite double that strtod() reads from all `len` bytes of `s`;
 * 0, or -1 when the field is not one. Plain decimals take a fast path
 * with the same, correctly rounded, result. */
int os_parse_double(const char *s, size_t len, double *out);
/* The long that strtol() reads from all `len` bytes of `s`; 0 or -1. */
int os_parse_long(const char *s, size_t len, long *out);

#endif
