/* SPDX-License-Identifier: MIT */
/* encoder_io.h: the encoder in the catalog (blob "encoder", meta keys
 * encoder_dim, encoder_vocab, encoder_buckets) and texts to vectors with
 * the catalog's vocabulary. */
#ifndef OS_ENCODER_IO_H
#define OS_ENCODER_IO_H

#include "catalog.h"
#include "encoder.h"
#include "error.h"
#include "vocab.h"

/* Stores the encoder (inside the caller's transaction). */
int os_encoder_store(const struct os_encoder *e, struct os_catalog *c,
		     struct os_error *err);
/* Loads the catalog's encoder: 1 when there is one, 0 when there is none,
 * -1 with err. */
int os_encoder_load(struct os_encoder *e, struct os_catalog *c,
		    struct os_error *err);

/* The features of tokens, words looked up in `v`. */
int os_encoder_text_features(const struct os_encoder *e,
			     const struct os_vocab *v,
			     const struct os_tokens *t, struct os_features *f);

/* The vector of a text's tokens (os_encoder_embed of their features),
 * into out (e->dim floats). Returns 0 or -1 (memory). */
int os_encoder_text_vector(const struct os_encoder *e, const struct os_vocab *v,
			   const struct os_tokens *t, float *out);

#endif
