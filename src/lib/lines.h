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
#include <string.h>

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

/* Many lines at once, for a caller that parses them on several threads:
 * *text holds `*len` bytes of the current input, whole lines (about
 * `want` bytes, more when a line is longer), numbered from
 * os_line_reader_line() + 1. The lines are not checked: split them with
 * os_lines_next(), give each to os_line_check(), and report how many
 * there were with os_line_reader_counted() before the next call. The
 * text is valid until the next call. A reader is read either line by
 * line or in chunks, not both. Returns 1, 0 after the last input, or -1
 * with `err` filled (a line longer than max_line without a line end is
 * reported here); after an error the current input is given up. */
int os_line_reader_chunk(struct os_line_reader *r, size_t want,
			 const char **text, size_t *len, struct os_error *err);
/* Counts `lines` more lines read in the current input. */
void os_line_reader_counted(struct os_line_reader *r, long lines);

/* The next line of the chunk text [*at, end): returns its start and sets
 * *len to its length without the line end ("\n" or "\r\n"); moves *at
 * past it. */
static inline const char *os_lines_next(const char **at, const char *end,
					size_t *len)
{
	const char *line = *at;
	const char *nl = memchr(line, '\n', (size_t)(end - line));
	size_t n = (size_t)((nl ? nl : end) - line);

	*at = nl ? nl + 1 : end;
	if (n && line[n - 1] == '\r')
		n--;
	*len = n;
	return line;
}

/* Whether a line of `len` bytes is read: 1, 0 for a blank line (skipped),
 * or -1 with `err` (status 3, no position) when it is longer than
 * `max_line` or not valid UTF-8. */
int os_line_check(const char *line, size_t len, size_t max_line,
		  struct os_error *err);

/* Where the last line came from: the display name of the current input
 * (valid until the next call) and its line number. */
const char *os_line_reader_where(const struct os_line_reader *r);
long os_line_reader_line(const struct os_line_reader *r);

#endif
