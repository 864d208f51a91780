/* SPDX-License-Identifier: MIT */
/* catalog.h: the SQLite catalog that the programs share (see
 * os-catalog(5)). This module is the only place with SQL: every statement
 * is prepared once and bound, never built from strings.
 *
 * The catalog runs in WAL mode with foreign keys on and a busy timeout, so
 * readers and one writer work at once. Writers group their changes in
 * os_catalog_begin()/os_catalog_commit(); a killed program leaves the
 * catalog as it was before the open transaction.
 *
 * Strings handed to callbacks belong to SQLite and are valid only during
 * the call. */
#ifndef OS_CATALOG_H
#define OS_CATALOG_H

#include <stddef.h>

#include "error.h"

#define OS_CATALOG_SCHEMA 6

enum {
	OS_CATALOG_READ_ONLY = 1,
	OS_CATALOG_EXISTING = 2, /* writable, but never created */
};

struct os_catalog;

struct os_item {
	const char *id;
	const char *title;
	const char *category; /* or NULL */
	const char *brand;    /* or NULL */
	const char *attrs;    /* a JSON object as text */
	long seq;             /* the catalog's number for the item (set by
			       * os_catalog_item_upsert, given by _each) */
};

struct os_catalog_summary {
	long items, vocab, keywords, item_keywords, cot_cache;
	int schema;
};

/* Opens (creating and migrating unless read-only) the catalog at `path`;
 * with OS_CATALOG_EXISTING a file that does not exist, or is not a
 * catalog yet, is refused instead of created. Refuses, with status 1, a
 * file that is not an SQLite database or whose schema is newer than this
 * program's. */
int os_catalog_open(struct os_catalog **out, const char *path, unsigned flags,
		    struct os_error *err);
void os_catalog_close(struct os_catalog *c);

int os_catalog_begin(struct os_catalog *c, struct os_error *err);
int os_catalog_commit(struct os_catalog *c, struct os_error *err);
void os_catalog_rollback(struct os_catalog *c);

/* Meta values: os_catalog_meta_get returns a malloc'd copy, or NULL when
 * the key is absent (err->status 0) or on error (err->status set). */
char *os_catalog_meta_get(struct os_catalog *c, const char *key,
			  struct os_error *err);
int os_catalog_meta_set(struct os_catalog *c, const char *key,
			const char *value, struct os_error *err);

/* Inserts or updates an item and sets item->seq. *old_title receives the
 * title it had (malloc'd, the caller frees it) or NULL when it is new. */
int os_catalog_item_upsert(struct os_catalog *c, struct os_item *item,
			   char **old_title, struct os_error *err);
/* The title of item `id` (malloc'd), or NULL when there is no such item
 * (err->status 0) or on error. */
char *os_catalog_item_title(struct os_catalog *c, const char *id,
			    struct os_error *err);
/* Calls fn for every item in insertion order; fn returns 0 to go on. */
int os_catalog_items_each(struct os_catalog *c,
			  int (*fn)(void *ctx, const struct os_item *item),
			  void *ctx, struct os_error *err);

/* Calls fn for every token in id order. */
int os_catalog_vocab_each(struct os_catalog *c,
			  int (*fn)(void *ctx, long id, const char *token,
				    long df),
			  void *ctx, struct os_error *err);
/* Adds `delta` to the document frequency of the token with catalog id
 * `id`, or, when id is 0, of `token`, creating it. Returns the token's id
 * (ids are never reused), or -1. */
long os_catalog_vocab_add(struct os_catalog *c, long id, const char *token,
			  long delta, struct os_error *err);

/* Calls fn for every keyword in id order; `only_source`, when not NULL,
 * restricts them to one source. */
int os_catalog_keywords_each(struct os_catalog *c, const char *only_source,
			     int (*fn)(void *ctx, long id, const char *type,
				       const char *text, const char *source,
				       long count),
			     void *ctx, struct os_error *err);
/* Deletes every keyword and every item's keywords. */
int os_catalog_keywords_clear(struct os_catalog *c, struct os_error *err);
/* Inserts a keyword (or finds the existing one); returns its id or -1. */
long os_catalog_keyword_add(struct os_catalog *c, const char *type,
			    const char *text, const char *source, long count,
			    struct os_error *err);
/* Stores the keywords of item `seq`: ids[i] found at token position
 * pos[i]; with `replace` its earlier keywords are deleted first. */
int os_catalog_item_keywords_set(struct os_catalog *c, long seq,
				 const long *ids, const long *pos, size_t n,
				 int replace, struct os_error *err);

/* Calls fn for every keyword of `type` that an item's title holds, with
 * the item's id and the keyword's text, item by item in insertion order
 * and, within an item, in title order. */
int os_catalog_item_keywords_each(struct os_catalog *c, const char *type,
				  int (*fn)(void *ctx, const char *item,
					    const char *text),
				  void *ctx, struct os_error *err);

/* Calls fn for every item that has a semantic ID, with the item's id and
 * its SID as "a,b,c,d". */
int os_catalog_sids_each(struct os_catalog *c,
			 int (*fn)(void *ctx, const char *item, const char *sid),
			 void *ctx, struct os_error *err);

/* Deletes every item's SID. */
int os_catalog_sids_clear(struct os_catalog *c, struct os_error *err);
/* Sets the SID ("a,b,c,d") of item `seq`. */
int os_catalog_sid_set(struct os_catalog *c, long seq, const char *sid,
		       struct os_error *err);
/* Deletes the codebooks. */
int os_catalog_codebooks_clear(struct os_catalog *c, struct os_error *err);
/* Stores the centroid of `code` at `level` (little-endian float32). */
int os_catalog_codebook_add(struct os_catalog *c, int level, long code,
			    const void *centroid, size_t bytes,
			    struct os_error *err);
/* Calls fn for every centroid, by level then code. */
int os_catalog_codebooks_each(struct os_catalog *c,
			      int (*fn)(void *ctx, int level, long code,
					const void *centroid, size_t bytes),
			      void *ctx, struct os_error *err);

/* Stores a large value under `name`, replacing it. */
int os_catalog_blob_set(struct os_catalog *c, const char *name,
			const void *data, size_t bytes, struct os_error *err);
/* A malloc'd copy of the value stored under `name` and its size, or NULL
 * when there is none (err->status 0) or on error. */
void *os_catalog_blob_get(struct os_catalog *c, const char *name,
			  size_t *bytes, struct os_error *err);

/* Ranks the items by the BM25 score of their titles for a query that
 * any of `terms` matches, and calls fn for the best `k`, best first (ties
 * in seq order), with the item's seq, its id and its score, -bm25() of
 * SQLite's FTS5 (larger is better). Titles and terms are tokenized as
 * os-catalog(5) says of items_fts: case and accents folded, English words
 * stemmed ("drills" finds "drill"); a term of several tokens matches them
 * as a phrase, a term of none matches nothing. Any text is a term: it is
 * quoted, never read as FTS5 query syntax. No terms, or k 0, give no
 * calls. Returns 0, -1 on error, or the first non-zero value fn returns,
 * which stops the ranking; fn must not call os_catalog_bm25 itself. */
int os_catalog_bm25(struct os_catalog *c, const char *const *terms,
		    size_t nterms, size_t k,
		    int (*fn)(void *ctx, long seq, const char *id,
			      double score),
		    void *ctx, struct os_error *err);

/* os-cot's cache. os_catalog_cot_get returns a malloc'd copy of the CoT
 * (JSON text) stored under `key`, or NULL when there is none (err->status
 * 0) or on error. os_catalog_cot_put stores or replaces one;
 * os_catalog_cot_clear deletes those of `backend` (all when NULL). */
char *os_catalog_cot_get(struct os_catalog *c, const char *key,
			 struct os_error *err);
int os_catalog_cot_put(struct os_catalog *c, const char *key,
		       const char *backend, const char *cot,
		       struct os_error *err);
int os_catalog_cot_clear(struct os_catalog *c, const char *backend,
			 struct os_error *err);

/* A 64-bit fingerprint (16 hex digits) of the items' ids and text. */
int os_catalog_items_fingerprint(struct os_catalog *c, char out[17],
				 struct os_error *err);
int os_catalog_summary(struct os_catalog *c, struct os_catalog_summary *s,
		       struct os_error *err);
/* Calls fn for each keyword type with its number of keywords. */
int os_catalog_keyword_types_each(struct os_catalog *c,
				  int (*fn)(void *ctx, const char *type,
					    long count),
				  void *ctx, struct os_error *err);

#endif
