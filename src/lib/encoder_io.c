/* SPDX-License-Identifier: MIT */
/* encoder_io.c: the encoder in the catalog (see encoder_io.h). */
#include "config.h"

#include "encoder_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endian.h"

int os_encoder_store(const struct os_encoder *e, struct os_catalog *c,
		     struct os_error *err)
{
	size_t n = (e->vocab + e->buckets) * e->dim;
	float *copy = malloc(n * sizeof *copy);
	char text[32];
	int rc = -1;

	if (!copy) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	memcpy(copy, e->table, n * sizeof *copy);
	os_floats_le(copy, n);
	if (os_catalog_blob_set(c, "encoder", copy, n * sizeof *copy, err) < 0)
		goto out;
	snprintf(text, sizeof text, "%zu", e->dim);
	if (os_catalog_meta_set(c, "encoder_dim", text, err) < 0)
		goto out;
	snprintf(text, sizeof text, "%zu", e->vocab);
	if (os_catalog_meta_set(c, "encoder_vocab", text, err) < 0)
		goto out;
	snprintf(text, sizeof text, "%zu", e->buckets);
	if (os_catalog_meta_set(c, "encoder_buckets", text, err) < 0)
		goto out;
	rc = 0;
out:
	free(copy);
	return rc;
}

/* A meta value as a number; 0 when absent or on error. */
static size_t meta_size(struct os_catalog *c, const char *key,
			struct os_error *err)
{
	char *v = os_catalog_meta_get(c, key, err);
	size_t n = v ? (size_t)strtoull(v, NULL, 10) : 0;

	free(v);
	return n;
}

int os_encoder_load(struct os_encoder *e, struct os_catalog *c,
		    struct os_error *err)
{
	size_t bytes = 0, dim, vocab, buckets;
	float *table;

	memset(e, 0, sizeof *e);
	dim = meta_size(c, "encoder_dim", err);
	if (err->status)
		return -1;
	vocab = meta_size(c, "encoder_vocab", err);
	buckets = meta_size(c, "encoder_buckets", err);
	if (err->status)
		return -1;
	table = dim ? os_catalog_blob_get(c, "encoder", &bytes, err) : NULL;
	if (!table)
		return err->status ? -1 : 0;
	if (bytes != (vocab + buckets) * dim * sizeof *table) {
		free(table);
		os_error_set(err, OS_EXIT_FAILURE,
			     "the catalog's encoder is damaged (%zu bytes for "
			     "%zu rows of %zu)",
			     bytes, vocab + buckets, dim);
		return -1;
	}
	os_floats_le(table, bytes / sizeof *table);
	e->dim = dim;
	e->vocab = vocab;
	e->buckets = buckets;
	e->table = table;
	return 1;
}

static long vocab_word(void *ctx, const char *w, size_t len)
{
	return os_vocab_id(ctx, w, len);
}

int os_encoder_text_features(const struct os_encoder *e,
			     const struct os_vocab *v,
			     const struct os_tokens *t, struct os_features *f)
{
	return os_encoder_features(e, t, vocab_word, (void *)v, f);
}

int os_encoder_text_vector(const struct os_encoder *e, const struct os_vocab *v,
			   const struct os_tokens *t, float *out)
{
	struct os_features f;

	if (os_encoder_text_features(e, v, t, &f) < 0)
		return -1;
	os_encoder_embed(e, &f, out);
	free(f.id);
	return 0;
}
