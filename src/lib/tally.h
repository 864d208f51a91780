/* SPDX-License-Identifier: MIT */
/* tally.h: counting how often small ids occur among a few (a user's
 * history items' keywords, their brands), in a caller's array, in the
 * order each id was first met. */
#ifndef OS_TALLY_H
#define OS_TALLY_H

#include <stddef.h>
#include <stdint.h>

struct os_tally {
	uint32_t id;
	uint32_t count;
};

/* Counts one more `id` in t (*n entries, room for cap); an id met first
 * when t is full is not counted. */
static inline void os_tally_add(struct os_tally *t, size_t *n, size_t cap,
				uint32_t id)
{
	for (size_t i = 0; i < *n; i++)
		if (t[i].id == id) {
			t[i].count++;
			return;
		}
	if (*n < cap)
		t[(*n)++] = (struct os_tally){id, 1};
}

#endif
