/* SPDX-License-Identifier: MIT */
/* dense_index.c: item vectors from JSONL and query vectors for exact dense
 * retrieval (see dense_index.h). */
#include "config.h"

#include "dense_index.h"

#include <stdlib.h>
#include <string.h>

#include "encoder_io.h"
#include "grow.h"
#include "jsonl.h"
#include "normalize.h"
#include "record.h"

void os_dense_index_init(struct os_dense_index *d)
{
	memset(d, 0, sizeof *d);
	os_strmap_init(&d->ids);
	os_vocab_init(&d->vocab);
}

void os_dense_index_release(struct os_dense_index *d)
{
	free(d->x);
	os_strmap_release(&d->ids);
	if (d->have_encoder)
		os_encoder_release(&d->enc);
	os_vocab_release(&d->vocab);
	memset(d, 0, sizeof *d);
}

struct reading {
	struct os_dense_index *d;
	long *first_line; /* of each id */
	size_t cap;
};

/* Appends one record's vector; returns 0 or -1 with err. */
static int add_row(void *ctx, const cJSON *obj, long line, struct os_error *err)
{
	struct reading *r = ctx;
	struct os_dense_index *d = r->d;
	char id[OS_RECORD_ID_MAX];
	int added = 0;
	long row, *grown;

	if (!os_record_id(cJSON_GetObjectItemCaseSensitive(obj, "id"), "id", id,
			  sizeof id, err))
		return -1;
	if (!(grown = os_grow(r->first_line, &r->cap, d->ids.count + 1,
			      sizeof *grown, 4096)))
		goto oom;
	r->first_line = grown;
	if ((row = os_strmap_intern(&d->ids, id, strlen(id), &added)) < 0)
		goto oom;
	if (!added) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "item '%s' is given twice (first at line %ld)", id,
			     r->first_line[row]);
		return -1;
	}
	r->first_line[row] = line;
	if (os_record_embedding(obj, &d->x, &d->cap, d->n, &d->dim, err) < 0)
		return -1;
	d->n++;
	return 0;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return -1;
}

static int read_vectors(struct os_dense_index *d, const char *path,
			size_t max_line, struct os_error *err)
{
	char *paths[1] = {(char *)path};
	struct reading r = {d, NULL, 0};
	int rc = os_jsonl_each(paths, 1, max_line, add_row, &r, err);

	free(r.first_line);
	if (rc == 0 && d->n == 0) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "%s: no item vectors (records with \"id\" and "
			     "\"embedding\")",
			     path);
		rc = -1;
	}
	return rc;
}

int os_dense_index_load(struct os_dense_index *d, struct os_catalog *c,
			const char *path, size_t max_line,
			struct os_error *err)
{
	char *norm;
	int rc;

	if (read_vectors(d, path, max_line, err) < 0)
		return -1;
	norm = os_catalog_meta_get(c, "normalization", err);
	if (!norm && err->status)
		return -1;
	d->norm_flags = os_norm_flags_of(norm);
	free(norm);
	if ((rc = os_encoder_load(&d->enc, c, err)) < 0)
		return -1;
	if (rc == 0)
		return 0;
	d->encoder_dim = d->enc.dim;
	if (d->enc.dim != d->dim) { /* vectors of another encoder */
		os_encoder_release(&d->enc);
		return 0;
	}
	d->have_encoder = 1;
	return os_vocab_load(&d->vocab, c, err);
}

int os_dense_query_vector(struct os_dense_index *d, const cJSON *obj,
			  const char *text, struct os_tokens *tokens,
			  float *out, struct os_error *err)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, "embedding")) {
		size_t cap = d->dim, dim = d->dim;

		/* out holds exactly one row, so it is never grown */
		return os_record_embedding(obj, &out, &cap, 0, &dim, err);
	}
	if (!d->have_encoder && d->encoder_dim) {
		os_error_set(err, OS_EXIT_FAILURE,
			     "a query without \"embedding\": the catalog's "
			     "encoder makes vectors of %zu values, the items' "
			     "have %zu",
			     d->encoder_dim, d->dim);
		return -1;
	}
	if (!d->have_encoder) {
		os_error_set(err, OS_EXIT_FAILURE,
			     "a query without \"embedding\", and the catalog "
			     "has no encoder (os-tokenize --train-encoder)");
		return -1;
	}
	if (os_analyze(tokens, text, d->norm_flags, err) < 0)
		return -1;
	if (os_encoder_text_vector(&d->enc, &d->vocab, tokens, out) < 0) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return 0;
}
