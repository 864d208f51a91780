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

int os_prefix_item_means(const struct os_sidindex *s, const uint32_t *node_row,
			 size_t rows, const float *item_vec,
			 const unsigned char *has_vec, size_t D,
			 os_real *nodevec)
{
	double *sum = calloc(rows * D + 1, sizeof *sum);
	size_t *count = calloc(rows + 1, sizeof *count);

	if (!sum || !count) {
		free(sum);
		free(count);
		return -1;
	}
	for (size_t i = 0; i < os_sidindex_items(s); i++) {
		const uint32_t *code = s->codes + i * s->levels;
		uint32_t node = 0;

		if (!has_vec[i])
			continue;
		for (size_t l = 0; l < s->levels; l++) {
			uint32_t r;

			node = os_trie_child(s, node, code[l]);
			if ((r = node_row[node]) == OS_PREFIX_NONE)
				continue;
			for (size_t j = 0; j < D; j++)
				sum[(size_t)r * D + j] += item_vec[i * D + j];
			count[r]++;
		}
	}
	for (size_t r = 0; r < rows; r++)
		for (size_t j = 0; j < D; j++)
			nodevec[r * D + j] =
			    count[r]
				? (os_real)(sum[r * D + j] / (double)count[r])
				: 0;
	free(sum);
	free(count);
	return 0;
}
