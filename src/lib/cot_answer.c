/* SPDX-License-Identifier: MIT */
/* cot_answer.c: from a chat completion to a checked "cot" (see
 * cot_answer.h). */
#include "config.h"

#include "cot_answer.h"

#include <string.h>

#include "cot.h"

/* The extent of the first balanced {...} of text (strings' braces and
 * escapes respected); NULL when there is none. */
static const char *json_object_in(const char *text, size_t *len)
{
	const char *start = strchr(text, '{');
	int depth = 0, in_string = 0;

	if (!start)
		return NULL;
	for (const char *p = start; *p; p++) {
		if (in_string) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				in_string = 0;
			continue;
		}
		if (*p == '"')
			in_string = 1;
		else if (*p == '{')
			depth++;
		else if (*p == '}' && --depth == 0) {
			*len = (size_t)(p - start) + 1;
			return start;
		}
	}
	return NULL;
}

/* The message content of a chat completion. */
static const char *content_of(const cJSON *completion)
{
	const cJSON *choices = cJSON_GetObjectItemCaseSensitive(completion, "choices");
	const cJSON *message = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(choices, 0), "message");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(message, "content");

	return cJSON_IsString(content) ? content->valuestring : NULL;
}

static int has(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key) != NULL;
}

/* Adds the fields the model left out, empty, and sets the backend. */
static int complete(cJSON *cot)
{
	static const char *const lists[] = {"category", "negative", "substitutes",
					    "personal", "keywords"};
	cJSON *backend;

	if (!has(cot, "intent") && !cJSON_AddStringToObject(cot, "intent", ""))
		return -1;
	if (!has(cot, "attributes") && !cJSON_AddObjectToObject(cot, "attributes"))
		return -1;
	for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
		if (!has(cot, lists[i]) && !cJSON_AddArrayToObject(cot, lists[i]))
			return -1;
	cJSON_DeleteItemFromObjectCaseSensitive(cot, "backend");
	backend = cJSON_CreateString("llm");
	if (!backend || !cJSON_AddItemToObject(cot, "backend", backend)) {
		cJSON_Delete(backend);
		return -1;
	}
	return 0;
}

cJSON *os_cot_answer_parse(const char *body, size_t len, struct os_error *err)
{
	cJSON *completion = cJSON_ParseWithLength(body, len), *cot = NULL;
	const char *content = content_of(completion), *obj;
	size_t obj_len = 0;

	if (!completion) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "the answer is not JSON");
		goto out;
	}
	if (!content) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "the answer has no choices[0].message.content");
		goto out;
	}
	if (!(obj = json_object_in(content, &obj_len)) ||
	    !(cot = cJSON_ParseWithLength(obj, obj_len)) || !cJSON_IsObject(cot)) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "the answer's content holds no JSON object");
		cJSON_Delete(cot);
		cot = NULL;
		goto out;
	}
	if (complete(cot) < 0) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	} else if (os_cot_check(cot, err) == 0) {
		goto out;
	}
	cJSON_Delete(cot);
	cot = NULL;
out:
	cJSON_Delete(completion);
	return cot;
}
