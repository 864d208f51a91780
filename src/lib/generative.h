/* SPDX-License-Identifier: MIT */
/* generative.h: what training (os-distill) and search (os-search) share:
 * the catalog's text normalization, vocabulary and SID index, a model
 * checked against them, and texts turned into model input the one same
 * way. The context owns its vocabulary and index; the catalog stays the
 * caller's. */
#ifndef OS_GENERATIVE_H
#define OS_GENERATIVE_H

#include <cjson/cJSON.h>

#include "catalog.h"
#include "error.h"
#include "model.h"
#include "sequence.h"
#include "sidindex.h"
#include "strmap.h"
#include "tokenize.h"
#include "vocab.h"

struct os_generative {
	unsigned norm_flags;
	struct os_vocab vocab;
	size_t words;              /* largest vocabulary id + 1 */
	struct os_sidindex index;
	struct os_tokens tokens;   /* scratch for one text */
	/* after os_generative_load_brands: brand_of[i] is the id in `brands`
	 * of index item i's brand (the first brand keyword of its title), or
	 * OS_NO_BRAND */
	struct os_strmap brands;
	uint32_t *brand_of;
};

#define OS_NO_BRAND UINT32_MAX

/* Loads the catalog's normalization, vocabulary and SIDs. Returns 0, or -1
 * with err (status 1: a catalog without SIDs). */
int os_generative_load(struct os_generative *g, struct os_catalog *c,
		       struct os_error *err);
void os_generative_release(struct os_generative *g);
/* For a model with user tokens (cfg->user_history), loads the brand of
 * every item with a SID; for another, nothing. Returns 0, or -1 with err. */
int os_generative_load_brands(struct os_generative *g, struct os_catalog *c,
			      const struct os_model_config *cfg,
			      struct os_error *err);

/* Appends the tokens of `text` (at most what fits the model's context) to
 * the pool; *start receives the first. Returns the number of tokens, or
 * -1 with err (status 3: invalid UTF-8; 1: memory). Not thread-safe: one
 * context per thread, or a lock. */
long os_generative_text(struct os_generative *g,
			const struct os_model_config *cfg,
			struct os_text_pool *pool, const char *text,
			uint32_t *start, struct os_error *err);

/* A query's input, appended to the pool as one text cut to the model's
 * context (*start receives its first token): with cfg->user_history and
 * a "user" in the record (which may be NULL), the user's tokens first
 * (the first two codes of the SIDs of the first cfg->user_history items
 * of user.history that have one; the words of those items' brands, each
 * brand once, the most frequent first; the words of user.profile's string
 * values; at most half the context) and [SEP]; then the tokens of
 * `query`; then, when `keywords` (a CoT's keywords joined, see cot.h) is
 * not empty, [THINK] and their tokens, the teacher's view. Returns its
 * length, or -1 with err (status 3: a bad "user" or invalid UTF-8; 1:
 * memory). */
long os_generative_query_text(struct os_generative *g,
			      const struct os_model_config *cfg,
			      struct os_text_pool *pool, const cJSON *record,
			      const char *query, const char *keywords,
			      uint32_t *start, struct os_error *err);

/* Reads the query records of `paths` (n of them; n == 0: standard input)
 * and calls fn with each record, its "query" and the SID index numbers of
 * its relevant items (os_record_relevant() with min_grade; each once).
 * Relevant ids that are not catalog items with a SID are counted in
 * *unknown. A bad record stops with err (status 3, its file and line);
 * fn returns 0 to go on, else -1 with err. */
int os_generative_queries(struct os_generative *g, char *const *paths,
			  size_t n, size_t max_line, double min_grade,
			  int (*fn)(void *ctx, const cJSON *record,
				    const char *query, const long *items,
				    size_t nitems),
			  void *ctx, long *unknown, struct os_error *err);

/* Refuses (status 1) a model trained against other codebooks than the
 * catalog's or for longer SIDs; `path` names it in the message. */
int os_generative_check(const struct os_generative *g,
			const struct os_model *m, const char *path,
			struct os_error *err);

#endif
