/* SPDX-License-Identifier: MIT */
/* evalrank.h: ranking one query's results of a run (evaldata.h) as
 * trec_eval does, dropping repeated items, and the ranks of the relevant
 * results below the head of the list that os-eval keeps. The results'
 * item ids are NUL-terminated strings at their `text` offsets in a text
 * the caller owns; struct os_rank_scratch owns its buffer. */
#ifndef OS_EVALRANK_H
#define OS_EVALRANK_H

#include <stddef.h>
#include <stdint.h>

#include "evaldata.h"

/* Scratch space that ranking reuses from query to query. */
struct os_rank_scratch {
	struct os_result *tmp;
	size_t cap;
};

/* What ranking a query's results found. */
struct os_ranked {
	size_t n;              /* results left: distinct items */
	size_t duplicates;     /* results dropped as repeats of a higher one */
	size_t duplicates_top; /* of those, how many were in the first
				* `depth` places of the ranking */
};

/* Ranks r[0..n-1], whose ids are in `text`, by score descending, equal
 * scores by item id in descending byte order, or with by_rank by key
 * alone (equal keys in input order), and moves each item's first place
 * up over its repeats. Sets *out; -1 when out of memory. */
int os_rank_results(const char *text, int by_rank, struct os_result *r,
		    size_t n, size_t depth, struct os_rank_scratch *s,
		    struct os_ranked *out);
/* The most results of a query that os_rank_deep() can give: the number
 * of judgments of query `qi` of q (-1: not judged). */
size_t os_rank_deep_bound(const struct os_qrels *q, long qi);
/* The ranks (1 for r[0]) of the distinct results r[keep..n-1] that query
 * `qi` of q judges relevant, ascending, into `ranks` (room for
 * os_rank_deep_bound()); returns how many there are. */
size_t os_rank_deep(const struct os_qrels *q, long qi, const char *text,
		    const struct os_result *r, size_t n, size_t keep,
		    uint32_t *ranks);
void os_rank_scratch_release(struct os_rank_scratch *s);

#endif
