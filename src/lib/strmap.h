/* SPDX-License-Identifier: MIT */
/* strmap.h: an open-addressing hash map from byte strings to dense ids
 * 0..n-1, in insertion order (an interning table). The map owns copies of
 * its keys, side by side in blocks that never move; os_strmap_key()
 * returns them NUL-terminated until the map is freed. */
#ifndef OS_STRMAP_H
#define OS_STRMAP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct os_strmap_entry {
	char *key;     /* in one of the map's blocks, NUL-terminated */
	size_t len;
	uint64_t hash;
};

/* A slot holds the id and the high bits of the key's hash, so that a probe
 * touches a key only when its hash matches: on maps of millions of keys
 * the cache misses, not the comparisons, are the cost. */
struct os_strmap_slot {
	uint32_t id;  /* id + 1, 0 when empty */
	uint32_t tag; /* hash >> 32 */
};

struct os_strmap {
	struct os_strmap_slot *slots; /* capacity a power of two */
	size_t capacity;
	struct os_strmap_entry *entries; /* entries[id] */
	size_t count;
	size_t entries_cap;
	char **blocks;  /* malloc'd blocks holding the keys */
	size_t nblocks, blocks_cap;
	char *fill;     /* where the next short key goes in its block */
	size_t room;    /* bytes free there */
};

void os_strmap_init(struct os_strmap *m);
void os_strmap_release(struct os_strmap *m);

/* The id of `key`, or -1 when absent. */
long os_strmap_find(const struct os_strmap *m, const char *key, size_t len);
/* As os_strmap_find(), trying id `guess` first: one comparison instead
 * of a probe when keys are looked up in about the order they were added
 * (as the queries of a run and of its judgments). */
static inline long os_strmap_find_near(const struct os_strmap *m,
				       const char *key, size_t len,
				       size_t guess)
{
	if (guess < m->count && m->entries[guess].len == len &&
	    memcmp(m->entries[guess].key, key, len) == 0)
		return (long)guess;
	return os_strmap_find(m, key, len);
}
/* The id of `key`, adding it when absent (then *added is set to 1 when
 * `added` is given). Returns -1 only when out of memory. */
long os_strmap_intern(struct os_strmap *m, const char *key, size_t len,
		      int *added);

static inline const char *os_strmap_key(const struct os_strmap *m, size_t id)
{
	return m->entries[id].key;
}

#endif
