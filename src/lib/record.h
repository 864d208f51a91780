/* SPDX-License-Identifier: MIT */
/* record.h: checking the fields of input records (see onesearch(7)) and
 * reading them into C values. Errors carry status 3 and a message naming
 * the field; the caller adds the file and line. */
#ifndef OS_RECORD_H
#define OS_RECORD_H

#include <cjson/cJSON.h>

#include "catalog.h"
#include "error.h"

/* An item record: "id" (a string, or an integer below 2^53), "title" (a
 * string), "category" and "brand" (string or null), "attrs" (object or
 * null). `item` points into `obj` and into *owned (malloc'd text that the
 * caller frees after use, holding the id and attrs). */
int os_record_item(const cJSON *obj, struct os_item *item, char **owned,
		   struct os_error *err);

/* A query record's "query" (a string); NULL with err when missing. */
const char *os_record_query(const cJSON *obj, struct os_error *err);

/* A query record's judgments: *relevant receives its "relevant" array and
 * *graded its "graded" object (NULL when absent). Returns 0, or -1 with
 * err (status 3) when either has the wrong type or a grade is not a
 * finite number >= 0. */
int os_record_judgments(const cJSON *obj, const cJSON **relevant,
			const cJSON **graded, struct os_error *err);

/* Calls fn for each item id that a query record judges relevant, with
 * os-eval's rule: without a min_grade (NaN) the "relevant" list decides,
 * or, when the record has none, every "graded" item with a grade of at
 * least 1; with one, every "graded" item with a grade of at least
 * min_grade, and a listed item without a grade counts as grade 1. Each id
 * comes once. fn returns 0 to go on; its other values are returned. */
int os_record_relevant(const cJSON *obj, double min_grade,
		       int (*fn)(void *ctx, const char *id), void *ctx,
		       struct os_error *err);

/* Appends a record's "embedding" (a non-empty array of finite numbers)
 * as row `row` of the matrix *x (capacity *cap floats, grown with
 * os_grow; the caller frees it), of *dim values (set from the first row
 * when 0). Returns 0, or -1 with err: status 3 for a missing or bad vector
 * or one of another dimension, 1 when out of memory. */
int os_record_embedding(const cJSON *obj, float **x, size_t *cap, size_t row,
			size_t *dim, struct os_error *err);

/* The longest id accepted, with its NUL. */
#define OS_RECORD_ID_MAX 1024

/* Formats an "id"-like value (string, or integer below 2^53) into buf;
 * returns buf, or NULL with err naming `field` (also for an id that does
 * not fit in `size` bytes). */
const char *os_record_id(const cJSON *v, const char *field, char *buf,
			 size_t size, struct os_error *err);

#endif
