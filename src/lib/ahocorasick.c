/* SPDX-License-Identifier: MIT */
/* ahocorasick.c: the automaton (see ahocorasick.h). Goto edges live in one
 * open-addressing table keyed by (node, symbol); each node keeps its
 * failure link and the longest pattern that ends there (its own, or the
 * one reached through failure links). */
#include "config.h"

#include "ahocorasick.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "hash.h"

struct node {
	uint32_t fail;
	uint32_t depth;
	uint32_t out;    /* node whose pattern is the longest ending here, or 0 */
	uint32_t value;
	int terminal;
};

struct edge {
	uint64_t key;   /* (node << 32 | symbol) + 1, 0 when empty */
	uint32_t child;
};

struct os_ac {
	struct node *nodes;
	size_t nnodes, nodes_cap;
	struct edge *edges;
	size_t nedges, edges_cap; /* edges_cap a power of two */
	int built;
};

static uint64_t edge_key(uint32_t node, uint32_t sym)
{
	return (((uint64_t)node << 32) | sym) + 1;
}

static size_t edge_slot(const struct os_ac *ac, uint64_t key)
{
	size_t mask = ac->edges_cap - 1, i = (size_t)os_hash_mix(key) & mask;

	while (ac->edges[i].key && ac->edges[i].key != key)
		i = (i + 1) & mask;
	return i;
}

static long child_of(const struct os_ac *ac, uint32_t node, uint32_t sym)
{
	size_t i = edge_slot(ac, edge_key(node, sym));

	return ac->edges[i].key ? (long)ac->edges[i].child : -1;
}

static int grow_edges(struct os_ac *ac)
{
	size_t cap = ac->edges_cap * 2;
	struct edge *old = ac->edges, *edges = calloc(cap, sizeof *edges);
	size_t old_cap = ac->edges_cap;

	if (!edges)
		return -1;
	ac->edges = edges;
	ac->edges_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key)
			ac->edges[edge_slot(ac, old[i].key)] = old[i];
	free(old);
	return 0;
}

static long add_node(struct os_ac *ac, uint32_t depth)
{
	struct node *nodes = os_grow(ac->nodes, &ac->nodes_cap, ac->nnodes + 1,
				     sizeof *nodes, 64);

	if (!nodes)
		return -1;
	ac->nodes = nodes;
	memset(&ac->nodes[ac->nnodes], 0, sizeof *ac->nodes);
	ac->nodes[ac->nnodes].depth = depth;
	return (long)ac->nnodes++;
}

struct os_ac *os_ac_new(void)
{
	struct os_ac *ac = calloc(1, sizeof *ac);

	if (!ac)
		return NULL;
	ac->edges_cap = 128;
	ac->edges = calloc(ac->edges_cap, sizeof *ac->edges);
	if (!ac->edges || add_node(ac, 0) < 0) {
		os_ac_free(ac);
		return NULL;
	}
	return ac;
}

void os_ac_free(struct os_ac *ac)
{
	if (!ac)
		return;
	free(ac->nodes);
	free(ac->edges);
	free(ac);
}

int os_ac_add(struct os_ac *ac, const uint32_t *syms, size_t n,
	      uint32_t value)
{
	uint32_t node = 0;

	if (ac->built || n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		long child = child_of(ac, node, syms[i]);

		if (child < 0) {
			size_t slot;

			if ((ac->nedges + 1) * 2 > ac->edges_cap &&
			    grow_edges(ac) < 0)
				return -1;
			child = add_node(ac, (uint32_t)i + 1);
			if (child < 0)
				return -1;
			slot = edge_slot(ac, edge_key(node, syms[i]));
			ac->edges[slot].key = edge_key(node, syms[i]);
			ac->edges[slot].child = (uint32_t)child;
			ac->nedges++;
		}
		node = (uint32_t)child;
	}
	ac->nodes[node].terminal = 1;
	ac->nodes[node].value = value;
	return 0;
}

/* Follows failure links from `node` until a node with an edge on `sym`. */
static uint32_t step(const struct os_ac *ac, uint32_t node, uint32_t sym)
{
	for (;;) {
		long child = sym == OS_AC_NO_SYMBOL ? -1 : child_of(ac, node, sym);

		if (child >= 0)
			return (uint32_t)child;
		if (node == 0)
			return 0;
		node = ac->nodes[node].fail;
	}
}

int os_ac_build(struct os_ac *ac)
{
	/* Breadth-first order: nodes sorted by depth. Children are found
	 * by scanning the edge table once and bucketing by parent. */
	size_t n = ac->nnodes;
	uint32_t *order = malloc(n * sizeof *order);
	uint32_t *parent = malloc(n * sizeof *parent);
	uint32_t *sym = malloc(n * sizeof *sym);
	size_t *start = calloc(n + 2, sizeof *start);

	if (!order || !parent || !sym || !start) {
		free(order), free(parent), free(sym), free(start);
		return -1;
	}
	parent[0] = 0;
	for (size_t i = 0; i < ac->edges_cap; i++) {
		if (!ac->edges[i].key)
			continue;
		uint64_t k = ac->edges[i].key - 1;

		parent[ac->edges[i].child] = (uint32_t)(k >> 32);
		sym[ac->edges[i].child] = (uint32_t)k;
	}
	/* counting sort by depth */
	for (size_t v = 0; v < n; v++)
		start[ac->nodes[v].depth + 1]++;
	for (size_t d = 1; d <= n; d++)
		start[d] += start[d - 1];
	for (size_t v = 0; v < n; v++)
		order[start[ac->nodes[v].depth]++] = (uint32_t)v;
	for (size_t i = 0; i < n; i++) {
		uint32_t v = order[i];
		struct node *nd = &ac->nodes[v];

		if (nd->depth <= 1)
			nd->fail = 0;
		else
			nd->fail = step(ac, ac->nodes[parent[v]].fail, sym[v]);
		nd->out = nd->terminal ? v : ac->nodes[nd->fail].out;
	}
	free(order), free(parent), free(sym), free(start);
	ac->built = 1;
	return 0;
}

size_t os_ac_find(const struct os_ac *ac, const uint32_t *text, size_t n,
		  struct os_ac_match *out, size_t cap)
{
	/* best[i] = length of the longest pattern starting at i (0: none),
	 * from the longest pattern ending at each position. */
	size_t count = 0, i = 0;
	uint32_t node = 0;
	uint32_t small[64], *best = n <= 64 ? small : calloc(n, sizeof *best);
	uint32_t small_val[64], *val = n <= 64 ? small_val : calloc(n, sizeof *val);

	if (!best || !val) {
		if (best != small)
			free(best);
		if (val != small_val)
			free(val);
		return 0;
	}
	memset(best, 0, n * sizeof *best);
	for (size_t k = 0; k < n; k++) {
		node = step(ac, node, text[k]);
		/* every pattern ending at k, through the output chain */
		for (uint32_t o = ac->nodes[node].out; o;
		     o = ac->nodes[ac->nodes[o].fail].out) {
			uint32_t len = ac->nodes[o].depth;
			size_t s = k + 1 - len;

			if (len > best[s]) {
				best[s] = len;
				val[s] = ac->nodes[o].value;
			}
		}
	}
	while (i < n) {
		if (!best[i]) {
			i++;
			continue;
		}
		if (count < cap) {
			out[count].start = i;
			out[count].len = best[i];
			out[count].value = val[i];
		}
		count++;
		i += best[i];
	}
	if (best != small)
		free(best);
	if (val != small_val)
		free(val);
	return count;
}
