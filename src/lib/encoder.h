/* SPDX-License-Identifier: MIT */
/* encoder.h: the built-in text encoder, so the suite works with nothing
 * else installed: a text's vector is the normalized mean of the vectors of
 * its features (its words' vocabulary ids and their hashed character
 * n-grams), trained contrastively so that a query lands near the items it
 * led to: InfoNCE over in-batch negatives with a temperature, both ways
 * (queries against items and items against queries), with row-wise
 * Adagrad.
 *
 * Feature ids: a vocabulary id v (1..vocab-1) is row v; n-gram bucket b is
 * row vocab + b. Row 0 (unknown words) is never used.
 *
 * The encoder owns its table and optimizer state. */
#ifndef OS_ENCODER_H
#define OS_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"
#include "tokenize.h"

struct os_encoder {
	size_t dim;
	size_t vocab;   /* rows for words, ids 0..vocab-1 */
	size_t buckets; /* rows for n-grams after them */
	float *table;   /* (vocab + buckets) x dim */
	float *accum;   /* row-wise Adagrad's sums, one a row, or NULL */
};

/* A list of feature ids (a text). */
struct os_features {
	uint32_t *id;
	size_t n;
};

struct os_encoder_opts {
	size_t batch;       /* pairs per step (256) */
	int epochs;         /* passes over the pairs (10) */
	double lr;          /* Adagrad learning rate (0.5) */
	double temperature; /* of the softmax (0.05) */
	uint64_t seed;
};

void os_encoder_opts_default(struct os_encoder_opts *o);

/* A new encoder with small random vectors. Returns 0 or -1 (memory). */
int os_encoder_init(struct os_encoder *e, size_t vocab, size_t buckets,
		    size_t dim, uint64_t seed);
void os_encoder_release(struct os_encoder *e);

/* The features of a token list: each token's vocabulary id (`word_id`
 * gives it, 0 for unknown) and the buckets of its n-grams. Returns 0 or -1
 * (memory); f->id is malloc'd (free it). */
int os_encoder_features(const struct os_encoder *e, const struct os_tokens *t,
			long (*word_id)(void *ctx, const char *w, size_t len),
			void *ctx, struct os_features *f);

/* The text's vector (dim floats, length 1; zeros for a text without
 * features). */
void os_encoder_embed(const struct os_encoder *e, const struct os_features *f,
		      float *out);

/* The contrastive loss of a batch of pairs (a[i], b[i]) and, when `grad`
 * is not NULL, its gradient with respect to the table, added to grad
 * (same shape as the table). Exposed for the gradient check. */
double os_encoder_batch_loss(const struct os_encoder *e,
			     const struct os_features *a,
			     const struct os_features *b, size_t n,
			     double temperature, float *grad);

/* Trains on n pairs (a[i], b[i]); `report`, when given, is called after
 * each epoch with its mean loss. Returns 0 or -1 (memory). */
int os_encoder_train(struct os_encoder *e, const struct os_features *a,
		     const struct os_features *b, size_t n,
		     const struct os_encoder_opts *o,
		     void (*report)(void *ctx, int epoch, double loss),
		     void *ctx);

#endif
