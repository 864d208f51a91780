/* SPDX-License-Identifier: MIT */
/* cot.h: the keyword chain-of-thought of a query, the "cot" object of a
 * query record (see onesearch(7)):
 *
 *   {"intent": "...", "category": [..], "attributes": {type: [..]},
 *    "negative": [..], "substitutes": [..], "personal": [..],
 *    "keywords": [at most 8], "backend": "stats" | "llm"}
 *
 * Every list holds non-empty strings, each once. The objects are cJSON
 * trees that the caller owns; the functions here build and check them. */
#ifndef OS_COT_H
#define OS_COT_H

#include <cjson/cJSON.h>

#include "error.h"

#define OS_COT_MAX_KEYWORDS 8

/* A CoT with every field empty, or NULL when out of memory. */
cJSON *os_cot_new(const char *backend);

/* Appends `text` to the list `field` (category, negative, substitutes,
 * personal or keywords) unless it is empty or already there; keywords
 * stop at `max_keywords`. Returns 1 when added, 0 when not, -1 when out
 * of memory. */
int os_cot_add(cJSON *cot, const char *field, const char *text,
	       int max_keywords);
/* The same for the list of attribute `type`. */
int os_cot_add_attribute(cJSON *cot, const char *type, const char *text);
/* Sets the intent. Returns 0, or -1 when out of memory. */
int os_cot_set_intent(cJSON *cot, const char *text);

/* Checks a CoT against the schema: an object with the fields above, of
 * those types, at most OS_COT_MAX_KEYWORDS keywords. Unknown fields are
 * allowed. Returns 0, or -1 with err (status 3) naming the field. */
int os_cot_check(const cJSON *cot, struct os_error *err);

/* The parts of a query record's "user" (absent or null: none): *history,
 * its "history" array of item ids, and *profile, its "profile" object
 * (each NULL when absent or null). Returns 0, or -1 with err (status 3)
 * when the user is not an object or a part has the wrong type. */
int os_cot_user(const cJSON *user, const cJSON **history,
		const cJSON **profile, struct os_error *err);

/* The keywords of a query record's "cot" joined by single spaces, into
 * buf (NUL-terminated, cut to size); "" when it has none. Returns -1 with
 * err (status 3) when the record's "cot" does not pass os_cot_check(). */
int os_cot_keyword_text(const cJSON *record, char *buf, size_t size,
			struct os_error *err);

#endif
