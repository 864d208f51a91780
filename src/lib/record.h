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

/* The longest id accepted, with its NUL. */
#define OS_RECORD_ID_MAX 1024

/* Formats an "id"-like value (string, or integer below 2^53) into buf;
 * returns buf, or NULL with err naming `field` (also for an id that does
 * not fit in `size` bytes). */
const char *os_record_id(const cJSON *v, const char *field, char *buf,
			 size_t size, struct os_error *err);

#endif
