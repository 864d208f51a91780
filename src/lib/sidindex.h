/* SPDX-License-Identifier: MIT */
/* sidindex.h: the catalog's semantic IDs in memory: every item's id and
 * codes, and the prefix trie that constrained decoding walks, so that
 * each generated SID is one a real item has.
 *
 * Trie nodes are numbered level by level (the root is node 0); the
 * children of a node are consecutive and sorted by code, so a child is
 * found by binary search. A node of the last level is a leaf: it stands
 * for one item. The index owns all its arrays. */
#ifndef OS_SIDINDEX_H
#define OS_SIDINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "error.h"
#include "strmap.h"

#define OS_SID_MAX_LEVELS 8
#define OS_TRIE_NONE UINT32_MAX

struct os_sidindex {
	size_t levels;
	struct os_strmap ids;   /* item id -> item index */
	uint32_t *codes;        /* (items x levels) */
	size_t level_codes[OS_SID_MAX_LEVELS]; /* largest code + 1 */
	char fingerprint[17];   /* the catalog's sid_fingerprint */
	/* the trie */
	size_t nnodes;
	uint32_t *first;        /* (nnodes) first child, OS_TRIE_NONE: leaf */
	uint32_t *count;        /* (nnodes) number of children */
	uint32_t *code;         /* (nnodes) code on the edge into the node */
	uint32_t *parent;       /* (nnodes) the node above (the root: 0) */
	uint32_t *item;         /* (nnodes) leaf's item, else OS_TRIE_NONE */
};

static inline size_t os_sidindex_items(const struct os_sidindex *s)
{
	return s->ids.count;
}

static inline const char *os_sidindex_id(const struct os_sidindex *s,
					 size_t item)
{
	return os_strmap_key(&s->ids, item);
}

/* Loads every item's SID from the catalog and builds the trie. A catalog
 * without SIDs, or with SIDs of unequal length or shared by two items, is
 * refused (status 1). */
int os_sidindex_load(struct os_sidindex *s, struct os_catalog *c,
		     struct os_error *err);
/* Builds an index from n items' codes (n x levels) and ids. */
int os_sidindex_build(struct os_sidindex *s, const char *const *ids,
		      const uint32_t *codes, size_t n, size_t levels,
		      struct os_error *err);
void os_sidindex_release(struct os_sidindex *s);

/* The item index of an id, or -1. */
long os_sidindex_find(const struct os_sidindex *s, const char *id);

/* The child of `node` along `code`, or OS_TRIE_NONE. */
uint32_t os_trie_child(const struct os_sidindex *s, uint32_t node,
		       uint32_t code);

#endif
