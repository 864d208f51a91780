/* SPDX-License-Identifier: MIT */
/* jsonl.h: reading and writing JSON lines.
 *
 * The reader reads lines (lines.h: inputs, compression, tar members,
 * positions, the line bound, UTF-8) and requires each to hold exactly one
 * JSON object.
 *
 * The writer prints a cJSON tree compactly, keys in the order the tree
 * holds them (input keys first, in input order, then keys added by the
 * program), integers exactly and other numbers in their shortest form that
 * reads back the same. */
#ifndef OS_JSONL_H
#define OS_JSONL_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "lines.h"

struct os_jsonl_reader;

/* Opens a reader over `paths` (copied; n == 0 means stdin). Never fails
 * except for memory; a missing file is reported by os_jsonl_reader_next(). */
struct os_jsonl_reader *os_jsonl_reader_new(char *const *paths, size_t n,
					    size_t max_line);
void os_jsonl_reader_free(struct os_jsonl_reader *r);

/* Reads the next record: returns 1 and sets *obj (the caller frees it with
 * cJSON_Delete), 0 at the end of the last input, or -1 with `err` filled;
 * errors as os_line_reader_next(), plus status 3 for a line that is not
 * one JSON object. */
int os_jsonl_reader_next(struct os_jsonl_reader *r, cJSON **obj,
			 struct os_error *err);

/* Parses one line (NUL-terminated, `len` bytes) that must hold exactly
 * one JSON object; NULL with err (status 3: "malformed JSON at column N"
 * or "expected a JSON object, got ...") otherwise. */
cJSON *os_json_parse_object(const char *line, size_t len,
			    struct os_error *err);

/* Calls fn with each record of `paths` (as os_jsonl_reader_new) and its
 * line number, until the end or until fn returns -1 with err; a bad
 * record's error (status 3) gets the file and line when fn gave none.
 * The record is freed after the call. Returns 0 or -1 with err. */
int os_jsonl_each(char *const *paths, size_t n, size_t max_line,
		  int (*fn)(void *ctx, const cJSON *obj, long line,
			    struct os_error *err),
		  void *ctx, struct os_error *err);

/* Where the last record came from: the display name of the current input
 * (valid until the next call) and its line number. */
const char *os_jsonl_reader_where(const struct os_jsonl_reader *r);
long os_jsonl_reader_line(const struct os_jsonl_reader *r);

/* Writes `item` compactly (no newline). Returns 0, or -1 when the stream
 * reports an error. */
int os_json_write(FILE *out, const cJSON *item);
/* Writes `obj` and a newline. */
int os_jsonl_write(FILE *out, const cJSON *obj);

/* Formats a double the way the writer does: integers below 2^53 exactly,
 * others with the fewest digits (up to 17) that read back the same; NaN and
 * infinities, which JSON cannot hold, as null. Returns the length. */
int os_json_format_double(char *buf, size_t size, double v);
/* The same for a float: the fewest digits (up to 9) that read back as the
 * same float, so vectors print without double-widening noise. */
int os_json_format_float(char *buf, size_t size, float v);

/* Writes `s` as a quoted JSON string to `out`, which must hold
 * 6 * strlen(s) + 3 bytes; returns the length written (NUL not counted). */
size_t os_json_quote(char *out, const char *s);

/* A JSON array of floats as one preformatted (raw) cJSON node. */
cJSON *os_json_float_array(const float *v, size_t n);

/* Sets obj[key] = value, replacing an existing key in place (so its
 * position is kept) or appending. Takes ownership of `value`. Returns 0, or
 * -1 when out of memory (then `value` is freed). */
int os_json_set(cJSON *obj, const char *key, cJSON *value);

/* True when `s` (len bytes) is valid UTF-8 without NUL bytes, overlong
 * forms or surrogates. */
int os_utf8_valid(const char *s, size_t len);

#endif
