/* SPDX-License-Identifier: MIT */
/* grow.h: growing a malloc'd array by doubling, the one way the library
 * does it. */
#ifndef OS_GROW_H
#define OS_GROW_H

#include <stddef.h>
#include <stdlib.h>

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

#endif
