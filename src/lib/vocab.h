/* SPDX-License-Identifier: MIT */
/* vocab.h: the catalog's vocabulary in memory: token text to its catalog id
 * and document frequency (the number of items whose title has it), with
 * pending changes gathered per batch and written in one go.
 *
 * Ids come from the catalog and never change; 0 is the id of every token
 * the vocabulary does not know. After a failed os_vocab_flush() the
 * structure no longer matches the catalog: release it. */
#ifndef OS_VOCAB_H
#define OS_VOCAB_H

#include <stddef.h>

#include "catalog.h"
#include "error.h"
#include "strmap.h"
#include "tokenize.h"

struct os_vocab_entry {
	long id;      /* catalog id, 0 while not yet stored */
	long df;
	long pending; /* df change not yet written */
};

struct os_vocab {
	struct os_strmap tokens;        /* token -> index into `entries` */
	struct os_vocab_entry *entries;
	size_t cap;
	size_t *dirty;                  /* indices with pending changes */
	size_t ndirty, dirty_cap;
};

void os_vocab_init(struct os_vocab *v);
void os_vocab_release(struct os_vocab *v);
int os_vocab_load(struct os_vocab *v, struct os_catalog *c,
		  struct os_error *err);

/* The catalog id of a token, 0 when unknown. */
long os_vocab_id(const struct os_vocab *v, const char *token, size_t len);
/* The document frequency of a token, 0 when unknown. */
long os_vocab_df(const struct os_vocab *v, const char *token, size_t len);

/* Counts the distinct tokens of one title: sign +1 for a title added,
 * -1 for a title replaced. Returns 0 or -1 (memory). */
int os_vocab_count(struct os_vocab *v, const struct os_tokens *t, int sign);
/* Writes the pending changes (inside the caller's transaction) and gives
 * new tokens their ids. */
int os_vocab_flush(struct os_vocab *v, struct os_catalog *c,
		   struct os_error *err);

#endif
