/* SPDX-License-Identifier: MIT */
/* lines.h: reading lines of text from a list of inputs ("-" is stdin),
 * each through libarchive, so any of them may be plain, gzip, xz, zstd or
 * bzip2 compressed, or a tar (itself compressed or not) of text members.
 * Blank lines are skipped; a line must be valid UTF-8 and at most
 * `max_line` bytes long. Positions are `FILE:LINE`, or
 * `ARCHIVE:MEMBER:LINE` inside a tar. The JSONL reader (jsonl.h) and the
 * TREC formats (trec.h) are built on it. */
#ifndef OS_LINES_H
#define OS_LINES_H

#include <stddef.h>

#include "error.h"

#define OS_MAX_LINE_DEFAULT ((size_t)64 << 20)

struct os_line_reader;

/* A reader over `paths` (copied; n == 0 means stdin). NULL only when out
 * of memory; a missing file is reported by os_line_reader_next(). */
struct os_line_reader *os_line_reader_new(char *const *paths, size_t n,
					  size_t max_line);
void os_line_reader_free(struct os_line_reader *r);

/* The next non-blank line: returns 1 with *line (NUL-terminated, without
 * its line end, valid until the next call) and *len, 0 after the last
 * input, or -1 with `err` filled. After an error of status
 * OS_EXIT_BAD_INPUT (a line too long, invalid UTF-8, an unreadable part of
 * a compressed input) the reader has skipped the line and the caller may
 * go on reading; after any other error it has given up the current input
 * and goes on with the next one. */
int os_line_reader_next(struct os_line_reader *r, const char **line,
			size_t *len, struct os_error *err);

/* Where the last line came from: the display name of the current input
 * (valid until the next call) and its line number. */
const char *os_line_reader_where(const struct os_line_reader *r);
long os_line_reader_line(const struct os_line_reader *r);

#endif
