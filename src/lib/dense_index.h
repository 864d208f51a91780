/* SPDX-License-Identifier: MIT */
/* dense_index.h: what os-search --dense searches: item vectors read from a
 * JSONL file (records "id", "embedding", as os-tokenize --emit embedding
 * writes them, or vectors from any other encoder), and the catalog's
 * built-in encoder (with its vocabulary) for queries that bring no vector
 * of their own. The index owns its matrix, ids, encoder and vocabulary. */
#ifndef OS_DENSE_INDEX_H
#define OS_DENSE_INDEX_H

#include <cjson/cJSON.h>

#include "analyze.h"
#include "catalog.h"
#include "encoder.h"
#include "error.h"
#include "strmap.h"
#include "vocab.h"

struct os_dense_index {
	float *x;            /* n rows of dim floats */
	size_t n, dim, cap;  /* cap: floats allocated */
	struct os_strmap ids; /* item id -> row */
	struct os_encoder enc;
	int have_encoder;    /* enc is loaded and makes dim-sized vectors */
	size_t encoder_dim;  /* the catalog encoder's size, 0 without one */
	struct os_vocab vocab;
	unsigned norm_flags; /* the catalog's normalization */
};

void os_dense_index_init(struct os_dense_index *d);
void os_dense_index_release(struct os_dense_index *d);

/* Reads the vectors of `path` (any input os_jsonl_reader takes; lines of
 * at most max_line bytes) and, when the catalog has one, its encoder.
 * The encoder is used only when its vectors have the items' size.
 * Returns 0, or -1 with err: status 3 with the file and line for a bad
 * record, a repeated id or a vector of another dimension, and for a file
 * without vectors. */
int os_dense_index_load(struct os_dense_index *d, struct os_catalog *c,
			const char *path, size_t max_line,
			struct os_error *err);

/* A query's vector, into out (d->dim floats): its record's "embedding"
 * when it has one, else the encoder's vector of `text` (tokens is the
 * caller's scratch). Returns 0, or -1 with err: status 3 for a bad or
 * mismatched "embedding", 1 when there is no encoder of the items'
 * size. */
int os_dense_query_vector(struct os_dense_index *d, const cJSON *obj,
			  const char *text, struct os_tokens *tokens,
			  float *out, struct os_error *err);

/* The id of row `row`. */
static inline const char *os_dense_index_id(const struct os_dense_index *d,
					    size_t row)
{
	return os_strmap_key(&d->ids, row);
}

#endif
