/* SPDX-License-Identifier: MIT */
/* fuzz-record: libFuzzer harness for the checks of input records' fields
 * (record.c) that every program applies: the bytes are one JSON line,
 * read as an item (id, title, category, brand, attrs), a query (query,
 * relevant and graded, the relevant ids at a grade), and a vector
 * ("embedding"). An accepted vector has the size it claims and only
 * finite values. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jsonl.h"
#include "lib/record.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int count(void *ctx, const char *id)
{
	(void)id;
	++*(size_t *)ctx;
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *line = malloc(size + 1), *owned = NULL;
	const cJSON *rel, *graded;
	struct os_item item;
	struct os_error err;
	cJSON *obj;
	float *x = NULL;
	size_t cap = 0, dim = 0, n = 0;

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = 0;
	obj = os_json_parse_object(line, size, &err);
	free(line);
	if (!obj)
		return 0;
	if (os_record_item(obj, &item, &owned, &err) == 0 &&
	    (!item.id || !item.title))
		abort();
	free(owned);
	(void)os_record_query(obj, &err);
	if (os_record_judgments(obj, &rel, &graded, &err) == 0) {
		(void)os_record_relevant(obj, NAN, count, &n, &err);
		(void)os_record_relevant(obj, 2, count, &n, &err);
	}
	if (os_record_embedding(obj, &x, &cap, 0, &dim, &err) == 0) {
		if (dim == 0 || cap < dim ||
		    dim != (size_t)cJSON_GetArraySize(
			       cJSON_GetObjectItemCaseSensitive(obj, "embedding")))
			abort();
		for (size_t i = 0; i < dim; i++)
			if (!isfinite(x[i]))
				abort();
	}
	free(x);
	cJSON_Delete(obj);
	return 0;
}
