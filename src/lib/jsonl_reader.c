/* SPDX-License-Identifier: MIT */
/* jsonl_reader.c: one JSON object per line (see jsonl.h). The reader owns
 * its line reader; records handed out are the caller's. */
#include "config.h"

#include <stdlib.h>

#include "jsonl.h"

struct os_jsonl_reader {
	struct os_line_reader *lines;
};

struct os_jsonl_reader *os_jsonl_reader_new(char *const *paths, size_t n,
					    size_t max_line)
{
	struct os_jsonl_reader *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->lines = os_line_reader_new(paths, n, max_line);
	if (!r->lines) {
		free(r);
		return NULL;
	}
	return r;
}

void os_jsonl_reader_free(struct os_jsonl_reader *r)
{
	if (!r)
		return;
	os_line_reader_free(r->lines);
	free(r);
}

const char *os_jsonl_reader_where(const struct os_jsonl_reader *r)
{
	return os_line_reader_where(r->lines);
}

long os_jsonl_reader_line(const struct os_jsonl_reader *r)
{
	return os_line_reader_line(r->lines);
}

static const char *type_name(const cJSON *v)
{
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	return "null";
}

cJSON *os_json_parse_object(const char *line, size_t len,
			    struct os_error *err)
{
	cJSON *v = cJSON_ParseWithOpts(line, NULL, 1);

	if (!v) {
		const char *at = cJSON_GetErrorPtr();
		size_t col = at && at >= line && at <= line + len
				     ? (size_t)(at - line) + 1
				     : 1;

		os_error_set(err, OS_EXIT_BAD_INPUT, "malformed JSON at column %zu",
			     col);
		return NULL;
	}
	if (!cJSON_IsObject(v)) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "expected a JSON object, got %s", type_name(v));
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

int os_jsonl_reader_next(struct os_jsonl_reader *r, cJSON **obj,
			 struct os_error *err)
{
	const char *line;
	size_t len;
	int rc = os_line_reader_next(r->lines, &line, &len, err);

	*obj = NULL;
	if (rc <= 0)
		return rc;
	if (!(*obj = os_json_parse_object(line, len, err))) {
		os_error_locate(err, os_jsonl_reader_where(r),
				os_jsonl_reader_line(r));
		return -1;
	}
	return 1;
}

int os_jsonl_each(char *const *paths, size_t n, size_t max_line,
		  int (*fn)(void *ctx, const cJSON *obj, long line,
			    struct os_error *err),
		  void *ctx, struct os_error *err)
{
	struct os_jsonl_reader *rd = os_jsonl_reader_new(paths, n, max_line);
	cJSON *obj;
	int rc;

	if (!rd) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	while ((rc = os_jsonl_reader_next(rd, &obj, err)) > 0) {
		rc = fn(ctx, obj, os_jsonl_reader_line(rd), err);
		cJSON_Delete(obj);
		if (rc < 0) {
			if (err->status == OS_EXIT_BAD_INPUT && !*err->where)
				os_error_locate(err, os_jsonl_reader_where(rd),
						os_jsonl_reader_line(rd));
			break;
		}
	}
	os_jsonl_reader_free(rd);
	return rc < 0 ? -1 : 0;
}
