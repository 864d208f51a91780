/* SPDX-License-Identifier: MIT */
/* record.c: input record fields (see record.h). */
#include "config.h"

#include "record.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "jsonl.h"

const char *os_record_id(const cJSON *v, const char *field, char *buf,
			 size_t size, struct os_error *err)
{
	if (cJSON_IsString(v) && v->valuestring[0]) {
		if (strlen(v->valuestring) >= size) {
			os_error_set(err, OS_EXIT_BAD_INPUT,
				     "field '%s' is longer than %zu bytes", field,
				     size - 1);
			return NULL;
		}
		snprintf(buf, size, "%s", v->valuestring);
		return buf;
	}
	if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
	    fabs(v->valuedouble) < 9007199254740992.0) {
		snprintf(buf, size, "%.0f", v->valuedouble);
		return buf;
	}
	if (!v)
		os_error_set(err, OS_EXIT_BAD_INPUT, "missing field '%s'", field);
	else
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "field '%s' must be a non-empty string or an integer",
			     field);
	return NULL;
}

static int optional_string(const cJSON *obj, const char *field,
			   const char **out, struct os_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v)) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "field '%s' must be a string or null", field);
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

/* The compact text of a JSON value, appended to *buf at *len. */
static int print_into(const cJSON *v, char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);

	if (!f)
		return -1;
	os_json_write(f, v);
	return fclose(f) == 0 ? 0 : -1;
}

int os_record_item(const cJSON *obj, struct os_item *item, char **owned,
		   struct os_error *err)
{
	const cJSON *title = cJSON_GetObjectItemCaseSensitive(obj, "title");
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(obj, "attrs");
	char id[OS_RECORD_ID_MAX], *attrs_text = NULL;
	size_t attrs_len = 0, id_len;

	*owned = NULL;
	if (!os_record_id(cJSON_GetObjectItemCaseSensitive(obj, "id"), "id", id,
			  sizeof id, err))
		return -1;
	if (!title) {
		os_error_set(err, OS_EXIT_BAD_INPUT, "missing field 'title'");
		return -1;
	}
	if (!cJSON_IsString(title)) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "field 'title' must be a string");
		return -1;
	}
	if (optional_string(obj, "category", &item->category, err) < 0 ||
	    optional_string(obj, "brand", &item->brand, err) < 0)
		return -1;
	if (attrs && !cJSON_IsNull(attrs) && !cJSON_IsObject(attrs)) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "field 'attrs' must be an object or null");
		return -1;
	}
	if (attrs && cJSON_IsObject(attrs)) {
		if (print_into(attrs, &attrs_text, &attrs_len) < 0)
			goto oom;
	}
	/* One block: the id, then the attrs text. */
	id_len = strlen(id);
	*owned = malloc(id_len + 1 + attrs_len + 3);
	if (!*owned)
		goto oom;
	memcpy(*owned, id, id_len + 1);
	if (attrs_text)
		memcpy(*owned + id_len + 1, attrs_text, attrs_len + 1);
	else
		memcpy(*owned + id_len + 1, "{}", 3);
	free(attrs_text);
	item->id = *owned;
	item->attrs = *owned + id_len + 1;
	item->title = title->valuestring;
	return 0;
oom:
	free(attrs_text);
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return -1;
}

const char *os_record_query(const cJSON *obj, struct os_error *err)
{
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(obj, "query");

	if (!q) {
		os_error_set(err, OS_EXIT_BAD_INPUT, "missing field 'query'");
		return NULL;
	}
	if (!cJSON_IsString(q)) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "field 'query' must be a string");
		return NULL;
	}
	return q->valuestring;
}

int os_record_judgments(const cJSON *obj, const cJSON **relevant,
			const cJSON **graded, struct os_error *err)
{
	const cJSON *v;

	*relevant = cJSON_GetObjectItemCaseSensitive(obj, "relevant");
	*graded = cJSON_GetObjectItemCaseSensitive(obj, "graded");
	if (*relevant && !cJSON_IsArray(*relevant)) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "field 'relevant' must be an array of item ids");
		return -1;
	}
	if (*graded && !cJSON_IsObject(*graded)) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "field 'graded' must be an object of grades");
		return -1;
	}
	cJSON_ArrayForEach(v, *graded)
	{
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
		    v->valuedouble < 0) {
			os_error_set(err, OS_EXIT_BAD_INPUT,
				     "grade of '%s' must be a number >= 0", v->string);
			return -1;
		}
	}
	return 0;
}

int os_record_relevant(const cJSON *obj, double min_grade,
		       int (*fn)(void *ctx, const char *id), void *ctx,
		       struct os_error *err)
{
	const cJSON *rel, *graded, *v;
	int rc;

	if (os_record_judgments(obj, &rel, &graded, err) < 0)
		return -1;
	cJSON_ArrayForEach(v, graded)
	{
		if (isnan(min_grade) ? !rel && v->valuedouble >= 1
				     : v->valuedouble >= min_grade)
			if ((rc = fn(ctx, v->string)) != 0)
				return rc;
	}
	cJSON_ArrayForEach(v, rel)
	{
		char id[OS_RECORD_ID_MAX];

		if (!os_record_id(v, "relevant", id, sizeof id, err))
			return -1;
		if (!isnan(min_grade) && graded &&
		    cJSON_GetObjectItemCaseSensitive(graded, id))
			continue; /* its grade decided above */
		if ((isnan(min_grade) || 1 >= min_grade) && (rc = fn(ctx, id)) != 0)
			return rc;
	}
	return 0;
}

int os_record_embedding(const cJSON *obj, float **x, size_t *cap, size_t row,
			size_t *dim, struct os_error *err)
{
	const cJSON *emb = cJSON_GetObjectItemCaseSensitive(obj, "embedding");
	const cJSON *v;
	size_t n = 0, k = 0;
	float *grown;

	if (!cJSON_IsArray(emb) || !(n = (size_t)cJSON_GetArraySize(emb))) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "field 'embedding' must be a non-empty array of numbers");
		return -1;
	}
	if (!*dim)
		*dim = n;
	if (n != *dim) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "embedding has %zu values, expected %zu", n, *dim);
		return -1;
	}
	if (!(grown = os_grow(*x, cap, (row + 1) * n, sizeof *grown, 1024 * n))) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	*x = grown;
	cJSON_ArrayForEach(v, emb)
	{
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
		    fabs(v->valuedouble) > 3.4e38) {
			os_error_set(err, OS_EXIT_BAD_INPUT,
				     "embedding value %zu is not a finite number",
				     k + 1);
			return -1;
		}
		grown[row * n + k++] = (float)v->valuedouble;
	}
	return 0;
}
