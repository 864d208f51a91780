/* SPDX-License-Identifier: MIT */
/* keyword_io.h: moving keywords between the dictionary, the catalog and
 * JSON records. */
#ifndef OS_KEYWORD_IO_H
#define OS_KEYWORD_IO_H

#include <cjson/cJSON.h>

#include "catalog.h"
#include "error.h"
#include "keywords.h"

/* Adds the catalog's keywords to `d` (all but the "pattern" ones, which the
 * annotator finds by itself). */
int os_dict_load_catalog(struct os_dict *d, struct os_catalog *c,
			 struct os_error *err);

/* Replaces the catalog's keywords by those of `d` (inside the caller's
 * transaction). ids[i] receives the catalog id of keyword i. */
int os_dict_store(const struct os_dict *d, struct os_catalog *c, long *ids,
		  struct os_error *err);

/* The `"keywords"` value of a record: [{"type","text"}...] in token order. */
cJSON *os_keyword_hits_json(const struct os_dict *d, const struct os_tokens *t,
			    const struct os_keyword_hit *hits, size_t n);

#endif
