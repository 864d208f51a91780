/* SPDX-License-Identifier: MIT */
/* sequence.h: texts made into the model's input, and training examples
 * packed into batches.
 *
 * A text pool keeps the tokens of many texts: each token's wte row (its
 * catalog vocabulary id) and its hashed character n-gram rows. A batch
 * packs examples as
 *   [BOS] text [SEP] s1 .. s(L-1)
 * one after another (the last code is predicted, never read), with the
 * targets "code l at the token before it" ordered by level, ready for
 * os_model_forward(). Pools and batches own their arrays. */
#ifndef OS_SEQUENCE_H
#define OS_SEQUENCE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "rng.h"
#include "sidindex.h"
#include "tokenize.h"
#include "vocab.h"

/* The most n-grams a token contributes. */
#define OS_SEQUENCE_MAX_NGRAMS 48

struct os_text_pool {
	uint32_t *row;         /* (n) wte row of each token */
	uint32_t *ngram_start; /* (n + 1) into ngram */
	uint32_t *ngram;       /* n-gram rows */
	size_t n, cap, nngram, ngram_cap;
};

void os_text_pool_init(struct os_text_pool *p);
void os_text_pool_release(struct os_text_pool *p);
/* Forgets the texts, keeping the memory. */
void os_text_pool_clear(struct os_text_pool *p);

/* Appends the first `max_tokens` tokens of `t`, looked up in `vocab`;
 * *start receives the index of the first. Returns the number appended,
 * or -1 (memory). */
long os_text_pool_add(struct os_text_pool *p, const struct os_model_config *cfg,
		      const struct os_vocab *vocab, const struct os_tokens *t,
		      size_t max_tokens, uint32_t *start);

/* Appends one special token (a row below OS_MODEL_SPECIALS), without
 * n-grams. Returns 0 or -1 (memory). */
int os_text_pool_add_special(struct os_text_pool *p, uint32_t row);

/* Appends `k` of the `len` tokens of `src` from `text` on, chosen at random
 * (each subset as likely) and kept in their order, to `dst`; *start
 * receives the first. A pseudo-query made from a title. Returns 0 or -1
 * (memory). */
int os_text_pool_sample(struct os_text_pool *dst, const struct os_text_pool *src,
			uint32_t text, uint32_t len, uint32_t k,
			struct os_rng *rng, uint32_t *start);

/* One training example: a text of the pool and the SID to generate. */
struct os_example {
	uint32_t text, len;  /* tokens [text, text + len) of the pool */
	uint32_t code[OS_MODEL_MAX_LEVELS];
	float weight;        /* relative weight of its loss */
};

/* The most text tokens that fit the context next to BOS, SEP and a SID. */
size_t os_sequence_max_text(const struct os_model_config *cfg);

struct os_batch {
	uint32_t *ids, *pos, *seg, *ngram_off, *ngram;
	size_t n, cap, nngram, ngram_cap;
	struct os_example *ex;   /* the examples added */
	uint32_t *first;         /* (examples) index of each one's BOS */
	size_t nex, ex_cap, first_cap;
	uint32_t *target_at, *target_code; /* (levels x examples) */
	os_real *target_weight;
	size_t target_cap;
	uint32_t *allow_first, *allow_count; /* os_batch_allow's */
	size_t allow_cap;
};

void os_batch_init(struct os_batch *b);
void os_batch_release(struct os_batch *b);
void os_batch_clear(struct os_batch *b);
/* Appends an example's tokens. Returns 0 or -1 (memory). */
int os_batch_add(struct os_batch *b, const struct os_model_config *cfg,
		 const struct os_text_pool *p, const struct os_example *ex);
/* Orders the targets by level and fills `mb` to point into the batch:
 * each example's loss is the sum over its levels, and examples are
 * averaged by weight. Returns 0 or -1 (memory). */
int os_batch_finish(struct os_batch *b, const struct os_model_config *cfg,
		    struct os_model_batch *mb);
/* After os_batch_finish: gives each target the codes that the trie of `s`
 * allows after the example's prefix (every example's SID must be one of
 * the index's), for a softmax over them alone (then set mb->masked: the
 * distribution constrained decoding ranks by) or for prefix vectors (set
 * mb->node_row). Returns 0 or -1 (memory). */
int os_batch_allow(struct os_batch *b, const struct os_model_config *cfg,
		       const struct os_sidindex *s, struct os_model_batch *mb);

#endif
