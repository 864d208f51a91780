/* SPDX-License-Identifier: MIT */
/* evaldata.h: the judgments (qrels) and runs that os-eval reads, in
 * memory. Both accept two formats, told apart by the first line of each
 * file: JSON lines (a line starting with '{') or TREC text.
 *
 * - Judgments, JSONL: query records with "qid", and "relevant" (item ids)
 *   and/or "graded" ({item id: grade}); "query" and "segment" are kept.
 *   TREC: `qid 0 docid grade` lines.
 * - Runs, JSONL: {"qid", "query"?, "results": [{"id", "score", "rank"?,
 *   "sid"?}]}; TREC: `qid Q0 docid rank score tag` lines.
 *
 * A run's results are kept in one array, each query's together, and
 * their item ids as text in one arena, each with its 32-bit hash: a run
 * of ten million lines then costs no hash-table lookup per line. A TREC
 * run is read on all threads, and each query is ranked as soon as its
 * lines are read and cut to the head of its list that os-eval looks at,
 * plus the ranks of the relevant results below it: memory then grows
 * with the queries, not with the lines. Structures own everything they
 * point to. */
#ifndef OS_EVALDATA_H
#define OS_EVALDATA_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "strmap.h"

struct os_judgment {
	uint32_t hash;         /* os_eval_hash() of the item id */
	uint32_t text;         /* offset of the item id in os_qrels.text */
	double grade;          /* grade of the item (>= 0) */
	unsigned char relevant;
};

struct os_judged_query {
	struct os_judgment *j; /* sorted by hash once loaded */
	size_t n, cap;
	uint64_t filter;       /* bit hash >> 26 set for each judgment */
	char *query;           /* text, or NULL */
	char *segment;         /* "segment" of the record, or NULL */
};

struct os_qrels {
	char *text;                    /* the judged item ids, NUL-terminated,
					* one after the other */
	size_t text_len, text_cap;
	struct os_strmap qids;         /* qid -> index into q */
	struct os_judged_query *q;
	size_t cap;
	size_t without_judgments;      /* JSONL records that judged nothing */
	const char *last_qid;          /* the query of the last TREC line */
	size_t last_len, last_index;
};

/* How a judgment becomes relevant: with `min_grade` set (not NAN), an item
 * is relevant when its grade is at least min_grade; otherwise a JSONL
 * record's "relevant" list decides when it has one, and else a grade of at
 * least 1 does (trec_eval's default level). Items in "relevant" without a
 * grade in "graded" get grade 1. */
struct os_qrels_opts {
	double min_grade;
	size_t max_line;
};

void os_qrels_init(struct os_qrels *q);
void os_qrels_release(struct os_qrels *q);
/* Loads judgments from `path` (compressed or not). Errors: status 3 with
 * FILE:LINE for a bad line or a repeated (query, item) judgment in TREC
 * form, 1 for I/O. */
int os_qrels_load(struct os_qrels *q, const char *path,
		  const struct os_qrels_opts *o, struct os_error *err);
/* The judgment in query `qi` of the item `id` (whose os_eval_hash() is
 * `hash`), or NULL; most unjudged items are told apart by the query's
 * filter without a search. */
const struct os_judgment *os_qrels_search(const struct os_qrels *q,
					  size_t qi, uint32_t hash,
					  const char *id);
static inline const struct os_judgment *
os_qrels_find(const struct os_qrels *q, size_t qi, uint32_t hash,
	      const char *id)
{
	if (!(q->q[qi].filter & (UINT64_C(1) << (hash >> 26))))
		return NULL;
	return os_qrels_search(q, qi, hash, id);
}

/* The hash that tells item ids in judgments and runs apart (equal ids,
 * equal hashes; the ids themselves decide between equal hashes). */
uint32_t os_eval_hash(const char *id, size_t len);

struct os_result {        /* 16 bytes: a run may hold ten million */
	double key;      /* what ranks it: its score, or minus its rank in
			  * a run read by rank (os_run.by_rank) */
	uint32_t hash;   /* os_eval_hash() of the item id */
	uint32_t text;   /* offset of the item id in os_run.text */
};

struct os_run_query {
	struct os_result *r; /* its results, ranked, distinct, at most
			      * os_run_opts.keep: in os_run.res once
			      * loaded */
	size_t n;
	char *query;     /* text, or NULL */
	size_t raw;      /* results read, repeats included */
	size_t duplicates;     /* results dropped as repeats of a higher one */
	size_t duplicates_top; /* of those, how many were in the first
				* os_run_opts.depth places of the ranking */
	size_t deep, ndeep; /* os_run.deep[deep..deep+ndeep-1]: the ranks of
			     * its relevant results below r[n-1] */
	size_t start;    /* offset of r in os_run.res */
	int ranked;      /* ranked and cut: while reading, or at the end */
};

/* Results of a query read apart from its first ones, while loading. */
struct os_run_span {
	size_t query, start, n;
};

struct os_run {
	char *name;              /* the file name it came from */
	char *text;              /* the item ids, NUL-terminated, one after
				  * the other; in a JSON lines run each
				  * NUL is followed by 4 bytes: 1 + the
				  * index of the result's "sid" in sids,
				  * or 0 */
	size_t text_len, text_cap;
	struct os_result *res;   /* the results of all queries, each query's
				  * together */
	size_t nres, res_cap;
	uint32_t *deep;          /* ranks of relevant results, by query */
	size_t ndeep, deep_cap;
	struct os_strmap sids;   /* the SIDs of the results, as "a,b,c" */
	struct os_strmap qids;   /* qid -> index into q */
	struct os_run_query *q;
	size_t cap;
	size_t results;          /* lines or results read */
	struct os_run_span *apart;
	size_t napart, apart_cap;
	int by_rank;             /* ranked by the rank field, not by score */
	int with_sids;           /* a JSON lines run: the ids carry SIDs */
};

/* How a run is read. Each query's results are ranked as trec_eval does
 * (score descending, equal scores by item id in descending byte order)
 * or, with by_rank, by the rank field (then input order); repeated items
 * after the first are dropped, and counted. Then the first `keep`
 * results stay, and of the others the ranks of those that query of
 * `qrels` judges relevant. */
struct os_run_opts {
	size_t max_line;     /* 0: OS_MAX_LINE_DEFAULT */
	int by_rank;
	size_t depth;        /* duplicates_top counts repeats above it */
	size_t keep;         /* at least depth */
	const struct os_qrels *qrels; /* loaded; used while loading only */
};

void os_run_init(struct os_run *run);
void os_run_release(struct os_run *run);
/* Loads and ranks a run from `path`. Errors as os_qrels_load(). */
int os_run_load(struct os_run *run, const char *path,
		const struct os_run_opts *o, struct os_error *err);

/* The item id of a result. */
static inline const char *os_result_id(const struct os_run *run,
				       const struct os_result *r)
{
	return run->text + r->text;
}
/* The SID of a result: 1 + its index in os_run.sids, or 0 for none. */
static inline uint32_t os_result_sid(const struct os_run *run,
				     const struct os_result *r)
{
	const char *id = os_result_id(run, r);
	uint32_t sid;

	if (!run->with_sids)
		return 0;
	memcpy(&sid, id + strlen(id) + 1, sizeof sid);
	return sid;
}

#endif
