/* SPDX-License-Identifier: MIT */
/* test-strmap: the interning map against a plain list of its keys: ids in
 * insertion order, keys found again byte for byte (embedded NULs, the
 * empty key, keys longer than a block), and key pointers that stay where
 * they were while the map grows. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rng.h"
#include "lib/strmap.h"
#include "tap.h"

#define KEYS 200000

/* Key number i: 1 to 40 bytes, some with NULs; every 5000th is 70 kB
 * (past a 64 kB block) or 20 kB (a block of its own); key 7 is empty. */
static size_t make_key(size_t i, char *buf)
{
	struct os_rng rng;
	size_t len;

	os_rng_seed(&rng, (uint64_t)i + 1);
	len = i == 7 ? 0 : i % 5000 == 3 ? 70000 : i % 5000 == 4 ? 20000
						 : 1 + (size_t)os_rng_below(&rng, 40);
	for (size_t b = 0; b < len; b++)
		buf[b] = (char)os_rng_below(&rng, 256);
	if (len >= 8)
		memcpy(buf, &i, sizeof i); /* distinct */
	return len;
}

int main(void)
{
	static char buf[70000];
	struct os_strmap m;
	const char **first = malloc(KEYS * sizeof *first);
	int ids = 1, stable = 1, found = 1, again = 1, added = 0;
	size_t distinct = 0;

	os_strmap_init(&m);
	ok(os_strmap_find(&m, "x", 1) == -1, "an empty map finds nothing");
	for (size_t i = 0; i < KEYS && first; i++) {
		size_t len = make_key(i, buf);
		long before = os_strmap_find(&m, buf, len);
		long id = os_strmap_intern(&m, buf, len, &added);

		if (before < 0) {
			ids &= added && id == (long)distinct;
			first[distinct++] = os_strmap_key(&m, (size_t)id);
		} else {
			ids &= !added && id == before;
		}
	}
	for (size_t i = 0; i < KEYS && first; i++) {
		size_t len = make_key(i, buf);
		long id = os_strmap_find(&m, buf, len);

		found &= id >= 0 && m.entries[id].len == len &&
			 memcmp(os_strmap_key(&m, (size_t)id), buf, len) == 0 &&
			 os_strmap_key(&m, (size_t)id)[len] == '\0';
		stable &= id >= 0 && os_strmap_key(&m, (size_t)id) == first[id];
		again &= os_strmap_intern(&m, buf, len, &added) == id && !added;
	}
	ok(first && m.count == distinct && distinct > KEYS / 2,
	   "more than half of the keys are distinct, each counted once");
	ok(ids, "new keys get the next id, known keys their own");
	ok(found, "every key is found again, byte for byte, NUL-terminated");
	ok(stable, "no key moved while the map grew");
	ok(again, "interning a known key adds nothing");
	ok(os_strmap_find(&m, "not a key of the map at all, surely", 35) == -1,
	   "an absent key is not found");
	os_strmap_release(&m);
	free(first);
	return tap_done();
}
