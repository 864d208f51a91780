/* SPDX-License-Identifier: MIT */
/* prefix.c: trie nodes with prefix vectors and their rows (see prefix.h). */
#include "config.h"

#include <stdlib.h>

#include "prefix.h"

/* The depth of a node (the root's is 0). */
static size_t node_depth(const struct os_sidindex *s, uint32_t node)
{
	size_t depth = 0;

	for (; node != 0; node = s->parent[node])
		depth++;
	return depth;
}

static int has_vector(const struct os_sidindex *s, uint32_t node)
{
	return node != 0 && node_depth(s, node) >= 2 &&
	       s->count[s->parent[node]] >= 2;
}

long os_prefix_paths(const struct os_sidindex *s, uint32_t **paths)
{
	size_t L = s->levels, rows = 0;
	uint32_t *p;

	*paths = NULL;
	for (uint32_t node = 0; node < s->nnodes; node++)
		rows += (size_t)has_vector(s, node);
	if (rows == 0)
		return 0;
	if (!(p = malloc(rows * L * sizeof *p)))
		return -1;
	for (uint32_t node = 0, r = 0; node < s->nnodes; node++) {
		uint32_t *path = p + (size_t)r * L;
		size_t depth;

		if (!has_vector(s, node))
			continue;
		depth = node_depth(s, node);
		for (size_t l = depth; l < L; l++)
			path[l] = OS_PREFIX_NONE;
		for (uint32_t up = node; up != 0; up = s->parent[up])
			path[--depth] = s->code[up];
		r++;
	}
	*paths = p;
	return (long)rows;
}

int os_prefix_node_rows(const uint32_t *paths, size_t rows, size_t levels,
			const struct os_sidindex *s, uint32_t **node_row)
{
	uint32_t *nr = malloc(s->nnodes * sizeof *nr);

	if (!nr)
		return -1;
	for (size_t i = 0; i < s->nnodes; i++)
		nr[i] = OS_PREFIX_NONE;
	for (size_t r = 0; r < rows; r++) {
		const uint32_t *path = paths + r * levels;
		uint32_t node = 0;

		for (size_t l = 0; l < levels && path[l] != OS_PREFIX_NONE &&
				   node != OS_TRIE_NONE;
		     l++)
			node = os_trie_child(s, node, path[l]);
		if (node != OS_TRIE_NONE && node != 0)
			nr[node] = (uint32_t)r;
	}
	*node_row = nr;
	return 0;
}

void os_prefix_add_logits(os_real *logits, size_t K, const os_real *h,
			  const os_real *nodew, size_t C,
			  const uint32_t *node_row, const uint32_t *code,
			  uint32_t first, uint32_t count)
{
	for (uint32_t node = first; node < first + count; node++) {
		uint32_t r = node_row[node];
		const os_real *v = nodew + (size_t)r * C;
		os_real dot = 0;

		if (r == OS_PREFIX_NONE || code[node] >= K)
			continue;
		for (size_t c = 0; c < C; c++)
			dot += h[c] * v[c];
		logits[code[node]] += dot;
	}
}
