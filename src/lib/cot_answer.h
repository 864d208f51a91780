/* SPDX-License-Identifier: MIT */
/* cot_answer.h: a chat model's answer to the CoT prompt, made into a
 * "cot" object (see cot.h).
 *
 * The answer of an OpenAI-compatible /v1/chat/completions call is a JSON
 * object whose choices[0].message.content is text; the text should be the
 * CoT's JSON object, but models wrap it in prose or in a ```json fence, so
 * the first '{' to its matching '}' is taken. Fields the model left out
 * are filled empty; a field of the wrong type, more than 8 keywords, or
 * no object at all make the answer bad. */
#ifndef OS_COT_ANSWER_H
#define OS_COT_ANSWER_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "error.h"

/* The CoT in the HTTP response body `body` (len bytes, not necessarily
 * NUL-terminated), with "backend" set to "llm". Returns a new object, or
 * NULL with err (status 3) saying what is wrong with the answer. */
cJSON *os_cot_answer_parse(const char *body, size_t len, struct os_error *err);

#endif
