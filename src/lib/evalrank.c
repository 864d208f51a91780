/* SPDX-License-Identifier: MIT */
/* evalrank.c: ranking one query's results (see evalrank.h). Lists usually
 * come ranked or nearly so, and are checked, or insertion-sorted, before
 * a merge sort is tried; repeats are looked for with a set of hashes
 * before the exact search. */
#include "config.h"

#include "evalrank.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

/* How results compare: their ids in `text`, by key alone when by_rank. */
struct order {
	const char *text;
	int by_rank;
};

/* Whether result a ranks above b: by score descending, equal scores by
 * item id in descending byte order (trec_eval); or, in a run read by
 * rank, by rank (equal ranks keep their input order: the sorts are
 * stable). */
static inline int above(const struct order *o, const struct os_result *a,
			const struct os_result *b)
{
	if (a->key != b->key)
		return a->key > b->key;
	return !o->by_rank && strcmp(o->text + a->text, o->text + b->text) > 0;
}

/* Moves r[i] down among r[lo..i-1], ranked already, to its place (after
 * those it does not rank above: the order of equal results is kept);
 * returns how many places it moved. */
static inline size_t insert(const struct order *o, struct os_result *r,
			    size_t lo, size_t i)
{
	struct os_result x = r[i];
	size_t j = i;

	for (; j > lo && above(o, &x, &r[j - 1]); j--)
		r[j] = r[j - 1];
	r[j] = x;
	return i - j;
}

/* Ranks r[0..n-1], whose first `from` are ranked, by inserting the others
 * one by one, as long as that takes at most `budget` moves: returns 1
 * when ranked, 0 after giving up (equal results still in input order).
 * Runs often come nearly ranked (a rank column that the scores mostly
 * follow), and then this does a fraction of a full sort's work. */
static int rank_by_insertion(const struct order *o, struct os_result *r,
			     size_t n, size_t from, size_t budget)
{
	size_t moves = 0;

	for (size_t i = from; i < n; i++)
		if ((moves += insert(o, r, 0, i)) >= budget)
			return i + 1 == n;
	return 1;
}

/* Ranks r[0..n-1] (a stable merge sort over insertion-sorted runs of 16;
 * the comparison inlined, which qsort_r() cannot do), with `tmp` (n
 * results) as scratch. */
static void rank_by_merging(const struct order *o, struct os_result *r,
			    size_t n, struct os_result *tmp)
{
	const size_t run_len = 16;
	struct os_result *from = r, *to = tmp;

	for (size_t lo = 0; lo < n; lo += run_len) {
		size_t hi = lo + run_len < n ? lo + run_len : n;

		for (size_t i = lo + 1; i < hi; i++)
			insert(o, r, lo, i);
	}
	for (size_t width = run_len; width < n; width *= 2) {
		struct os_result *swap;

		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t a = lo, b = mid, k = lo;

			while (a < mid && b < hi)
				to[k++] = above(o, &from[b], &from[a])
						  ? from[b++]
						  : from[a++];
			while (a < mid)
				to[k++] = from[a++];
			while (b < hi)
				to[k++] = from[b++];
		}
		swap = from;
		from = to;
		to = swap;
	}
	if (from != r)
		memcpy(r, from, n * sizeof *r);
}

/* The places of a query's results, ordered by item id (hash first) and
 * then place, to find repeats. */
struct places {
	const char *text;
	const struct os_result *r;
};

static int by_id_then_place(const void *a, const void *b, void *ctx)
{
	const struct places *pl = ctx;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	const struct os_result *x = &pl->r[i], *y = &pl->r[j];
	int c;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if ((c = strcmp(pl->text + x->text, pl->text + y->text)) != 0)
		return c;
	return (i > j) - (i < j);
}

/* Whether two of r[0..n-1] share a hash (an open-addressing set of the
 * hashes); most lists have no repeats and stop here. */
static int may_repeat(const struct os_result *r, size_t n)
{
	uint64_t small[512], *set; /* each a hash | 1 << 32: 0 is empty */
	size_t cap = 16, mask;
	int same = 0;

	while (cap < 2 * n)
		cap *= 2;
	set = cap <= 512 ? small : malloc(cap * sizeof *set);
	if (!set)
		return 1; /* the exact path decides */
	memset(set, 0, cap * sizeof *set);
	mask = cap - 1;
	for (size_t i = 0; i < n && !same; i++) {
		uint64_t h = r[i].hash | UINT64_C(1) << 32;
		size_t k = (size_t)(h >> 7) & mask;

		while (set[k] && set[k] != h)
			k = (k + 1) & mask;
		same = set[k] == h;
		set[k] = h;
	}
	if (set != small)
		free(set);
	return same;
}

/* Drops the results of r[0..out->n-1] whose item stands higher already,
 * counting them in *out. Returns -1 when out of memory. */
static int drop_repeats(const char *text, struct os_result *r, size_t depth,
			struct os_ranked *out)
{
	struct places pl = {text, r};
	size_t n = out->n, kept = 0;
	unsigned char *drop;
	uint32_t *place;

	if (n < 2 || !may_repeat(r, n))
		return 0;
	drop = calloc(n, 1);
	place = malloc(n * sizeof *place);
	if (!drop || !place) {
		free(drop);
		free(place);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		place[i] = (uint32_t)i;
	qsort_r(place, n, sizeof *place, by_id_then_place, &pl);
	for (size_t i = 1; i < n; i++)
		if (r[place[i]].hash == r[place[i - 1]].hash &&
		    strcmp(text + r[place[i]].text, text + r[place[i - 1]].text) == 0)
			drop[place[i]] = 1;
	for (size_t i = 0; i < n; i++) {
		if (drop[i]) {
			out->duplicates++;
			out->duplicates_top += i < depth;
			continue;
		}
		r[kept++] = r[i];
	}
	out->n = kept;
	free(drop);
	free(place);
	return 0;
}

int os_rank_results(const char *text, int by_rank, struct os_result *r,
		    size_t n, size_t depth, struct os_rank_scratch *s,
		    struct os_ranked *out)
{
	const struct order o = {text, by_rank};
	size_t k = 1;

	*out = (struct os_ranked){n, 0, 0};
	/* runs usually come ranked already: check first */
	while (k < n && !above(&o, &r[k], &r[k - 1]))
		k++;
	if (k < n && !rank_by_insertion(&o, r, n, k, 4 * n)) {
		struct os_result *t = os_grow(s->tmp, &s->cap, n, sizeof *t, 256);

		if (!t)
			return -1;
		s->tmp = t;
		rank_by_merging(&o, r, n, s->tmp);
	}
	return drop_repeats(text, r, depth, out);
}

size_t os_rank_deep_bound(const struct os_qrels *q, long qi)
{
	return qi < 0 ? 0 : q->q[qi].n;
}

size_t os_rank_deep(const struct os_qrels *q, long qi, const char *text,
		    const struct os_result *r, size_t n, size_t keep,
		    uint32_t *ranks)
{
	size_t count = 0;

	if (qi < 0)
		return 0;
	for (size_t i = keep; i < n; i++) {
		const struct os_judgment *j =
			os_qrels_find(q, (size_t)qi, r[i].hash, text + r[i].text);

		if (j && j->relevant)
			ranks[count++] = (uint32_t)(i + 1);
	}
	return count;
}

void os_rank_scratch_release(struct os_rank_scratch *s)
{
	free(s->tmp);
	s->tmp = NULL;
	s->cap = 0;
}
