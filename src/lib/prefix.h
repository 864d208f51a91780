/* SPDX-License-Identifier: MIT */
/* prefix.h: which trie nodes get a prefix vector of their own.
 *
 * Every prefix shares its level's code vectors (the model's headw), so
 * "code 17" must mean a different item under each prefix and the model
 * has to bend its hidden state to each one. A model with prefix vectors
 * (nodew) also has one vector per trie node, added to its code's vector
 * when the node's parent is the prefix being extended. Only nodes below
 * the first level whose parent has a choice to make get one (a first-level
 * node's vector would only repeat its code's; an only child is always
 * taken).
 *
 * The model file names each row by its node's path of codes, so a trie
 * that has changed since training (new items given SIDs with
 * `os-quantize --assign`) maps rows by path: a node the training trie did
 * not have gets no vector, a node it had keeps its own. Callers own the
 * arrays these functions allocate. */
#ifndef OS_PREFIX_H
#define OS_PREFIX_H

#include <stddef.h>
#include <stdint.h>

#include "nn.h"
#include "sidindex.h"

/* Pads a path after its node's depth, and marks a node without a row. */
#define OS_PREFIX_NONE UINT32_MAX

/* The paths of the nodes of `s` that get a vector, in node order: one row
 * of s->levels codes each, padded with OS_PREFIX_NONE. *paths is
 * malloc'd (NULL when there are none). Returns their number, or -1
 * (memory). */
long os_prefix_paths(const struct os_sidindex *s, uint32_t **paths);

/* Each node's row among `rows` paths (levels codes each), or
 * OS_PREFIX_NONE: *node_row is malloc'd with s->nnodes entries. Paths that
 * lead nowhere in `s` are skipped. Returns 0 or -1 (memory). */
int os_prefix_node_rows(const uint32_t *paths, size_t rows, size_t levels,
			const struct os_sidindex *s, uint32_t **node_row);

/* Fills `nodevec` (rows of D values, one a prefix vector) with the mean
 * of the vectors of the items below each node that has a row: item i's
 * vector is row i of `item_vec` (items x D, in the index's item order)
 * when has_vec[i] is set. A row none of whose items has a vector is 0.
 * Returns 0 or -1 (memory). */
int os_prefix_item_means(const struct os_sidindex *s, const uint32_t *node_row,
			 size_t rows, const float *item_vec,
			 const unsigned char *has_vec, size_t D,
			 os_real *nodevec);

/* Adds to `logits` (one row of K codes) the product of the state `h` (C
 * values) with the prefix vector (row of `nodew`) of each of the trie
 * nodes first .. first + count - 1 that has one (node_row), at its code
 * (code[node]; codes from K on, which the model does not have, are
 * skipped). Training and search both use it, so their scores agree. */
void os_prefix_add_logits(os_real *logits, size_t K, const os_real *h,
			  const os_real *nodew, size_t C,
			  const uint32_t *node_row, const uint32_t *code,
			  uint32_t first, uint32_t count);

#endif
