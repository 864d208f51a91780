/* SPDX-License-Identifier: MIT */
/* cotstats.h: os-cot's embedded backend, "stats": a keyword chain-of-
 * thought inferred from the catalog and the training pairs, deterministic
 * and without any model.
 *
 * Building (cotstats.c) reads the catalog's keyword dictionary, finds the
 * keywords of every item title, and counts, over the training queries,
 * which keywords the relevant items of the queries with a given word (or
 * pair of adjacent words) carry: for a word w and a keyword k,
 *
 *   c(w,k) = sum over training queries q with w of share(q,k),
 *   share(q,k) = the share of q's relevant items that carry k,
 *
 * and n(w), the number of training queries with w. Inference
 * (cotinfer.c) scores a keyword for a query by its best word,
 *
 *   score(k) = max over w of (c(w,k) + a p(k)) / (n(w) + a),
 *
 * p(k) the share of catalog items with k and `a` the smoothing, and keeps
 * the keywords whose score reaches a threshold and whose lift
 * score(k) / p(k) is large enough. A query that is itself among the
 * training queries has its own pairs taken out of c and n first (leave-one-
 * out), so that its CoT holds what could be inferred from the query, never
 * its answer.
 *
 * The statistics own all of their memory; once built, os_cot_stats_infer()
 * may run in several threads at once. */
#ifndef OS_COTSTATS_H
#define OS_COTSTATS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "error.h"
#include "keywords.h"
#include "strmap.h"
#include "tokenize.h"

struct os_cot_stats_options {
	double min_grade;     /* relevant items of the training files: NaN
			       * for os-eval's rule, see os_record_relevant */
	long min_support;     /* other training queries a word needs */
	double smoothing;     /* the `a` above */
	double min_score;     /* for category and substitutes */
	double min_attribute; /* for an inferred attribute */
	double min_lift;      /* score(k) / p(k) at least */
	double min_personal;  /* share of the user's history */
	long history;         /* most recent history items looked at */
	int max_category, max_substitutes, max_keywords;
	int leave_one_out;
	size_t max_line;
};

/* The defaults of os-cot(1). */
void os_cot_stats_defaults(struct os_cot_stats_options *o);

/* One row of a sparse table: a keyword and its weight. */
struct os_cot_cell {
	uint32_t keyword; /* index in the dictionary */
	float weight;
};

/* Rows of cells, CSR: row r is cells[start[r] .. start[r + 1]). */
struct os_cot_table {
	uint32_t *start;
	struct os_cot_cell *cells;
	size_t rows;
};

struct os_cot_stats {
	struct os_cot_stats_options opt;
	unsigned norm_flags;
	struct os_dict dict;
	const char *category_type; /* "category" when the dictionary has
				    * any, else "product" */
	/* items */
	struct os_strmap items;     /* id -> item index */
	struct os_cot_table item_keywords; /* weights 1 */
	float *prior;               /* by keyword: share of items with it */
	float *price;               /* by item; NaN when unknown */
	float price_low, price_high; /* the catalog's price terciles */
	/* training pairs */
	struct os_strmap features;  /* a word, or two words joined by ' ' */
	uint32_t *feature_queries;  /* n(w) */
	struct os_cot_table feature_keywords; /* c(w,k) */
	struct os_strmap queries;   /* normalized query text */
	uint32_t *query_count;      /* training records with that text */
	struct os_cot_table query_keywords; /* sum of their share(q,k) */
	long train_records, train_skipped;
};

/* Builds the statistics from the catalog and the query records of
 * `paths` (n of them; "query" and the judgments of os_record_relevant).
 * Records whose relevant items are none of the catalog's are counted in
 * train_skipped. Returns 0, or -1 with err (status 3 naming FILE:LINE for
 * a bad record, 1 for the catalog or memory). */
int os_cot_stats_build(struct os_cot_stats *s, struct os_catalog *c,
		       char *const *paths, size_t n,
		       const struct os_cot_stats_options *o,
		       struct os_error *err);
void os_cot_stats_release(struct os_cot_stats *s);

/* A fingerprint (16 hex digits) of everything the statistics depend on:
 * the catalog's items and keywords, the bytes of the training files and
 * the options; os-cot keys its cache with it, without building. */
int os_cot_stats_fingerprint(struct os_catalog *c, char *const *paths,
			     size_t n, const struct os_cot_stats_options *o,
			     char out[17], struct os_error *err);

/* The ids of the features of the tokens (each word and each pair of
 * adjacent words, leaving out tokens with skip[i] set when skip is not
 * NULL), each once: found in `find`, or, when `add` is given, interned
 * there. Returns how many (at most cap), or -1 when out of memory. */
long os_cot_feature_ids(const struct os_strmap *find, struct os_strmap *add,
			const struct os_tokens *t, const uint8_t *skip,
			long *ids, size_t cap);

/* The CoT of `query` for `user` (a query record's "user", or NULL): a new
 * "cot" object (see cot.h). With `explain`, *explain receives an array
 * saying where each keyword came from. Returns NULL with err (status 3
 * for invalid UTF-8 or a bad "user", 1 for memory). */
cJSON *os_cot_stats_infer(const struct os_cot_stats *s, const char *query,
			  const cJSON *user, cJSON **explain,
			  struct os_error *err);

#endif
