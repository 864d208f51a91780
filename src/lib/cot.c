/* SPDX-License-Identifier: MIT */
/* cot.c: building and checking "cot" objects (see cot.h). */
#include "config.h"

#include "cot.h"

#include <string.h>

static const char *const list_fields[] = {
	"category", "negative", "substitutes", "personal", "keywords",
};

cJSON *os_cot_new(const char *backend)
{
	cJSON *cot = cJSON_CreateObject();

	if (!cot || !cJSON_AddStringToObject(cot, "intent", "") ||
	    !cJSON_AddArrayToObject(cot, "category") ||
	    !cJSON_AddObjectToObject(cot, "attributes"))
		goto fail;
	for (size_t i = 1; i < sizeof list_fields / sizeof *list_fields; i++)
		if (!cJSON_AddArrayToObject(cot, list_fields[i]))
			goto fail;
	if (!cJSON_AddStringToObject(cot, "backend", backend))
		goto fail;
	return cot;
fail:
	cJSON_Delete(cot);
	return NULL;
}

static int list_has(const cJSON *list, const char *text)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, list)
		if (cJSON_IsString(v) && strcmp(v->valuestring, text) == 0)
			return 1;
	return 0;
}

static int list_add(cJSON *list, const char *text, int max)
{
	cJSON *s;

	if (!list || !text[0] || list_has(list, text) ||
	    (max >= 0 && cJSON_GetArraySize(list) >= max))
		return 0;
	s = cJSON_CreateString(text);
	if (!s || !cJSON_AddItemToArray(list, s)) {
		cJSON_Delete(s);
		return -1;
	}
	return 1;
}

int os_cot_add(cJSON *cot, const char *field, const char *text,
	       int max_keywords)
{
	int max = strcmp(field, "keywords") == 0 ? max_keywords : -1;

	return list_add(cJSON_GetObjectItemCaseSensitive(cot, field), text,
			max);
}

int os_cot_add_attribute(cJSON *cot, const char *type, const char *text)
{
	cJSON *attrs = cJSON_GetObjectItemCaseSensitive(cot, "attributes");
	cJSON *list = cJSON_GetObjectItemCaseSensitive(attrs, type);

	if (!attrs)
		return 0;
	if (!list && !(list = cJSON_AddArrayToObject(attrs, type)))
		return -1;
	return list_add(list, text, -1);
}

int os_cot_set_intent(cJSON *cot, const char *text)
{
	cJSON *s = cJSON_CreateString(text);

	if (!s || !cJSON_ReplaceItemInObjectCaseSensitive(cot, "intent", s)) {
		cJSON_Delete(s);
		return -1;
	}
	return 0;
}

/* A list of distinct non-empty strings. */
static int check_list(const cJSON *list, const char *field,
		      struct os_error *err)
{
	const cJSON *v;

	if (!cJSON_IsArray(list)) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "\"cot\": \"%s\" must be an array of strings",
			     field);
		return -1;
	}
	cJSON_ArrayForEach(v, list) {
		if (!cJSON_IsString(v) || !v->valuestring[0]) {
			os_error_set(err, OS_EXIT_BAD_INPUT,
				     "\"cot\": \"%s\" must hold non-empty "
				     "strings",
				     field);
			return -1;
		}
	}
	return 0;
}

int os_cot_check(const cJSON *cot, struct os_error *err)
{
	const cJSON *intent = cJSON_GetObjectItemCaseSensitive(cot, "intent");
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(cot, "attributes");
	const cJSON *backend = cJSON_GetObjectItemCaseSensitive(cot, "backend");
	const cJSON *v;

	if (!cJSON_IsObject(cot)) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "\"cot\" must be an object");
		return -1;
	}
	if (!cJSON_IsString(intent) || !cJSON_IsString(backend)) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "\"cot\": \"%s\" must be a string",
			     cJSON_IsString(intent) ? "backend" : "intent");
		return -1;
	}
	for (size_t i = 0; i < sizeof list_fields / sizeof *list_fields; i++)
		if (check_list(cJSON_GetObjectItemCaseSensitive(cot, list_fields[i]),
			       list_fields[i], err) < 0)
			return -1;
	if (!cJSON_IsObject(attrs)) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "\"cot\": \"attributes\" must be an object of "
			     "arrays of strings");
		return -1;
	}
	cJSON_ArrayForEach(v, attrs)
		if (check_list(v, "attributes", err) < 0)
			return -1;
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
		    cot, "keywords")) > OS_COT_MAX_KEYWORDS) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "\"cot\": more than %d keywords",
			     OS_COT_MAX_KEYWORDS);
		return -1;
	}
	return 0;
}

static int bad_user(struct os_error *err, const char *what)
{
	os_error_set(err, OS_EXIT_BAD_INPUT, "\"user\": %s", what);
	return -1;
}

int os_cot_user(const cJSON *user, const cJSON **history,
		const cJSON **profile, struct os_error *err)
{
	*history = *profile = NULL;
	if (!user || cJSON_IsNull(user))
		return 0;
	if (!cJSON_IsObject(user))
		return bad_user(err, "must be an object");
	*history = cJSON_GetObjectItemCaseSensitive(user, "history");
	*profile = cJSON_GetObjectItemCaseSensitive(user, "profile");
	if (cJSON_IsNull(*history))
		*history = NULL;
	if (cJSON_IsNull(*profile))
		*profile = NULL;
	if (*history && !cJSON_IsArray(*history))
		return bad_user(err, "\"history\" must be an array of item ids");
	if (*profile && !cJSON_IsObject(*profile))
		return bad_user(err, "\"profile\" must be an object");
	return 0;
}

int os_cot_keyword_text(const cJSON *record, char *buf, size_t size,
			struct os_error *err)
{
	const cJSON *cot = cJSON_GetObjectItemCaseSensitive(record, "cot");
	const cJSON *v;
	size_t used = 0;

	buf[0] = '\0';
	if (!cot || cJSON_IsNull(cot))
		return 0;
	if (os_cot_check(cot, err) < 0)
		return -1;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(cot, "keywords")) {
		size_t len = strlen(v->valuestring);

		if (used + len + 2 > size)
			break;
		if (used)
			buf[used++] = ' ';
		memcpy(buf + used, v->valuestring, len + 1);
		used += len;
	}
	return 0;
}
