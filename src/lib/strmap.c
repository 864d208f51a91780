/* SPDX-License-Identifier: MIT */
/* strmap.c: the interning hash map (see strmap.h). Linear probing, load
 * factor at most 1/2. */
#include "config.h"

#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"

void os_strmap_init(struct os_strmap *m)
{
	memset(m, 0, sizeof *m);
}

void os_strmap_release(struct os_strmap *m)
{
	for (size_t i = 0; i < m->count; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->lens);
	free(m->hashes);
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

	for (;;) {
		uint32_t s = m->slots[i];

		if (s == 0)
			return i;
		s--;
		if (m->hashes[s] == h && m->lens[s] == len &&
		    memcmp(m->keys[s], key, len) == 0)
			return i;
		i = (i + 1) & mask;
	}
}

long os_strmap_find(const struct os_strmap *m, const char *key, size_t len)
{
	size_t i;

	if (m->capacity == 0)
		return -1;
	i = probe(m, key, len, key_hash(key, len));
	return m->slots[i] ? (long)m->slots[i] - 1 : -1;
}

static int grow_slots(struct os_strmap *m)
{
	size_t cap = m->capacity ? m->capacity * 2 : 64;
	uint32_t *slots = calloc(cap, sizeof *slots);

	if (!slots)
		return -1;
	free(m->slots);
	m->slots = slots;
	m->capacity = cap;
	for (size_t id = 0; id < m->count; id++) {
		size_t i = probe(m, m->keys[id], m->lens[id], m->hashes[id]);
		m->slots[i] = (uint32_t)id + 1;
	}
	return 0;
}

static int grow_keys(struct os_strmap *m)
{
	size_t cap = m->keys_cap ? m->keys_cap * 2 : 32;
	char **keys = realloc(m->keys, cap * sizeof *keys);
	size_t *lens;
	uint64_t *hashes;

	if (!keys)
		return -1;
	m->keys = keys;
	lens = realloc(m->lens, cap * sizeof *lens);
	if (!lens)
		return -1;
	m->lens = lens;
	hashes = realloc(m->hashes, cap * sizeof *hashes);
	if (!hashes)
		return -1;
	m->hashes = hashes;
	m->keys_cap = cap;
	return 0;
}

long os_strmap_intern(struct os_strmap *m, const char *key, size_t len,
		      int *added)
{
	uint64_t h = key_hash(key, len);
	size_t i;
	char *copy;

	if (added)
		*added = 0;
	if ((m->count + 1) * 2 > m->capacity && grow_slots(m) < 0)
		return -1;
	i = probe(m, key, len, h);
	if (m->slots[i])
		return (long)m->slots[i] - 1;
	if (m->count == m->keys_cap && grow_keys(m) < 0)
		return -1;
	copy = malloc(len + 1);
	if (!copy)
		return -1;
	memcpy(copy, key, len);
	copy[len] = '\0';
	m->keys[m->count] = copy;
	m->lens[m->count] = len;
	m->hashes[m->count] = h;
	m->slots[i] = (uint32_t)m->count + 1;
	if (added)
		*added = 1;
	return (long)m->count++;
}
