/* SPDX-License-Identifier: MIT */
/* grow.h: growing a malloc'd array by doubling, the one way the library
 * does it, and a text built by appending to one. */
#ifndef OS_GROW_H
#define OS_GROW_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Returns `items` (an array of *cap elements of `size` bytes) with room for
 * at least `need` elements: the same pointer when there is room already,
 * else a reallocated one, with *cap doubled (from `first` when zero) until
 * it fits. Returns NULL when out of memory; `items` and *cap are then
 * unchanged, and the caller still owns `items`. */
static inline void *os_grow(void *items, size_t *cap, size_t need, size_t size,
			    size_t first)
{
	size_t n = *cap ? *cap : first;
	void *p;

	if (items && need <= *cap)
		return items;
	while (n < need)
		n *= 2;
	p = realloc(items, n * size);
	if (p)
		*cap = n;
	return p;
}

/* A malloc'd text that grows as it is appended to; start from {0}, free s.
 * s is NUL-terminated after the first append. */
struct os_text {
	char *s;
	size_t n, cap;
};

/* Appends len bytes of s. Returns 0, or -1 when out of memory (the text
 * is then unchanged). */
static inline int os_text_add(struct os_text *t, const char *s, size_t len)
{
	char *p = os_grow(t->s, &t->cap, t->n + len + 1, 1, 256);

	if (!p)
		return -1;
	t->s = p;
	memcpy(p + t->n, s, len);
	t->n += len;
	p[t->n] = '\0';
	return 0;
}

#endif
