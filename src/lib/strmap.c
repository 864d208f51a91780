/* SPDX-License-Identifier: MIT */
/* strmap.c: the interning hash map (see strmap.h). Linear probing, load
 * factor at most 1/2. Keys are copied into blocks of 64 kB (a key of more
 * than 16 kB into a block of its own): one allocation for many keys, and
 * keys added one after the other lie side by side for the caches. */
#include "config.h"

#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "hash.h"

#define KEY_BLOCK ((size_t)64 << 10)

void os_strmap_init(struct os_strmap *m)
{
	memset(m, 0, sizeof *m);
}

void os_strmap_release(struct os_strmap *m)
{
	for (size_t i = 0; i < m->nblocks; i++)
		free(m->blocks[i]);
	free(m->blocks);
	free(m->entries);
	free(m->slots);
	memset(m, 0, sizeof *m);
}

static uint64_t key_hash(const char *key, size_t len)
{
	return os_hash_mix(os_hash_bytes(OS_FNV_OFFSET, key, len));
}

static size_t probe(const struct os_strmap *m, const char *key, size_t len,
		    uint64_t h)
{
	size_t mask = m->capacity - 1;
	size_t i = (size_t)h & mask;

	uint32_t tag = (uint32_t)(h >> 32);

	for (;;) {
		const struct os_strmap_slot *s = &m->slots[i];
		const struct os_strmap_entry *e;

		if (s->id == 0)
			return i;
		if (s->tag == tag) {
			e = &m->entries[s->id - 1];
			if (e->hash == h && e->len == len &&
			    memcmp(e->key, key, len) == 0)
				return i;
		}
		i = (i + 1) & mask;
	}
}

long os_strmap_find(const struct os_strmap *m, const char *key, size_t len)
{
	size_t i;

	if (m->capacity == 0)
		return -1;
	i = probe(m, key, len, key_hash(key, len));
	return m->slots[i].id ? (long)m->slots[i].id - 1 : -1;
}

static int grow_slots(struct os_strmap *m)
{
	size_t cap = m->capacity ? m->capacity * 2 : 64;
	struct os_strmap_slot *slots = calloc(cap, sizeof *slots);

	if (!slots)
		return -1;
	free(m->slots);
	m->slots = slots;
	m->capacity = cap;
	for (size_t id = 0; id < m->count; id++) {
		const struct os_strmap_entry *e = &m->entries[id];

		m->slots[probe(m, e->key, e->len, e->hash)] =
			(struct os_strmap_slot){(uint32_t)id + 1,
						(uint32_t)(e->hash >> 32)};
	}
	return 0;
}

/* A copy of key (len bytes, then a NUL) in the map's blocks; NULL when
 * out of memory. */
static char *copy_key(struct os_strmap *m, const char *key, size_t len)
{
	size_t need = len + 1;
	int own = need > KEY_BLOCK / 4; /* a long key: a block of its own */
	char **blocks, *copy;

	if (own || need > m->room) {
		size_t size = own ? need : KEY_BLOCK;

		if (!(blocks = os_grow(m->blocks, &m->blocks_cap, m->nblocks + 1,
				       sizeof *blocks, 16)))
			return NULL;
		m->blocks = blocks;
		if (!(copy = malloc(size)))
			return NULL;
		blocks[m->nblocks++] = copy;
		if (!own) {
			m->fill = copy;
			m->room = size;
		}
	}
	if (!own) {
		copy = m->fill;
		m->fill += need;
		m->room -= need;
	}
	memcpy(copy, key, len);
	copy[len] = '\0';
	return copy;
}

long os_strmap_intern(struct os_strmap *m, const char *key, size_t len,
		      int *added)
{
	uint64_t h = key_hash(key, len);
	struct os_strmap_entry *entries;
	size_t i;
	char *copy;

	if (added)
		*added = 0;
	if ((m->count + 1) * 2 > m->capacity && grow_slots(m) < 0)
		return -1;
	i = probe(m, key, len, h);
	if (m->slots[i].id)
		return (long)m->slots[i].id - 1;
	entries = os_grow(m->entries, &m->entries_cap, m->count + 1,
			  sizeof *entries, 32);
	if (!entries)
		return -1;
	m->entries = entries;
	if (!(copy = copy_key(m, key, len)))
		return -1;
	m->entries[m->count] = (struct os_strmap_entry){copy, len, h};
	m->slots[i] = (struct os_strmap_slot){(uint32_t)m->count + 1,
					      (uint32_t)(h >> 32)};
	if (added)
		*added = 1;
	return (long)m->count++;
}
