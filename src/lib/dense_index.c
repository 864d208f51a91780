/* SPDX-License-Identifier: MIT */
/* dense_index.c: item vectors from JSONL and query vectors for exact dense
 * retrieval (see dense_index.h). */
#include "config.h"

#include "dense_index.h"

#include <stdlib.h>
#include <string.h>

#include "encoder_io.h"
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

/* Appends one record's vector; first_line has room for one more id.
 * Returns 0 or -1 with err (the caller adds the location). */
static int add_row(struct os_dense_index *d, const cJSON *obj, long line,
		   long *first_line, struct os_error *err)
{
	char id[OS_RECORD_ID_MAX];
	int added = 0;
	long row;

	if (!os_record_id(cJSON_GetObjectItemCaseSensitive(obj, "id"), "id", id,
			  sizeof id, err))
		return -1;
	if ((row = os_strmap_intern(&d->ids, id, strlen(id), &added)) < 0)
		goto oom;
	if (!added) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "item '%s' is given twice (first at line %ld)", id,
			     first_line[row]);
		return -1;
	}
	first_line[row] = line;
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
	struct os_jsonl_reader *rd = os_jsonl_reader_new(paths, 1, max_line);
	long *first_line = NULL;
	size_t nlines = 0;
	cJSON *obj;
	int rc;

	if (!rd) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	while ((rc = os_jsonl_reader_next(rd, &obj, err)) > 0) {
		long line = os_jsonl_reader_line(rd);

		if (d->ids.count >= nlines) {
			size_t cap = nlines ? 2 * nlines : 4096;
			long *grown = realloc(first_line, cap * sizeof *grown);

			if (!grown) {
				cJSON_Delete(obj);
				os_error_set(err, OS_EXIT_FAILURE, "out of memory");
				rc = -1;
				break;
			}
			first_line = grown;
			nlines = cap;
		}
		rc = add_row(d, obj, line, first_line, err);
		cJSON_Delete(obj);
		if (rc < 0) {
			os_error_locate(err, os_jsonl_reader_where(rd), line);
			break;
		}
	}
	if (rc == 0 && d->n == 0) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "%s: no item vectors (records with \"id\" and "
			     "\"embedding\")",
			     path);
		rc = -1;
	}
	os_jsonl_reader_free(rd);
	free(first_line);
	return rc < 0 ? -1 : 0;
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
