/* SPDX-License-Identifier: MIT */
/* line_reader.c: lines of text through libarchive (see lines.h).
 *
 * libarchive tells what an input is; a plain regular file (no compression,
 * not a tar) is then read with pread(2) straight into the reader's
 * buffers, saving libarchive's copy of every byte; a large read is cut in
 * parts read on all threads, since copying from the page cache is its
 * cost.
 *
 * The reader owns its copy of the path list, the libarchive handle and
 * the descriptor of the current input, a read buffer and a line buffer. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grow.h"
#include "jsonl.h"
#include "lines.h"
#include "parallel.h"

#define READ_BLOCK 65536
/* a direct read is cut in parts on several threads from this size on */
#define PARALLEL_READ ((size_t)1 << 20)

struct os_line_reader {
	char **paths;
	size_t npaths;
	size_t next_path;   /* index of the next input to open */
	const char *path;   /* current input, or NULL between inputs */
	struct archive *ar;
	int fd;             /* the current input's descriptor, or -1 */
	int owns_fd;        /* fd was opened here (not stdin) */
	off_t direct_at;    /* plain file: where the next pread() reads,
			     * or -1 when libarchive reads */
	int in_entry;       /* an entry of `ar` is being read */
	int entry_is_member;
	char where[1024];   /* display name of the current entry */
	long line;

	size_t max_line;
	char *block;        /* bytes read from the entry */
	size_t block_len, block_pos;
	int entry_done;     /* the entry has no more bytes */
	char *buf;          /* the current line, NUL-terminated; or the
			     * current chunk and the start of the next */
	size_t len, cap;
	size_t taken;       /* bytes of buf handed out as the last chunk */
	int too_long;       /* the current line passed max_line */
};

struct os_line_reader *os_line_reader_new(char *const *paths, size_t n,
					  size_t max_line)
{
	static char *const stdin_path[] = {"-"};
	struct os_line_reader *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	if (n == 0) {
		paths = stdin_path;
		n = 1;
	}
	r->paths = calloc(n, sizeof *r->paths);
	r->block = malloc(READ_BLOCK);
	r->cap = 4096;
	r->buf = malloc(r->cap);
	if (!r->paths || !r->block || !r->buf) {
		os_line_reader_free(r);
		return NULL;
	}
	r->npaths = n;
	for (size_t i = 0; i < n; i++) {
		r->paths[i] = strdup(paths[i]);
		if (!r->paths[i]) {
			os_line_reader_free(r);
			return NULL;
		}
	}
	r->max_line = max_line ? max_line : OS_MAX_LINE_DEFAULT;
	r->fd = -1;
	return r;
}

static void close_input(struct os_line_reader *r)
{
	if (r->ar) {
		archive_read_free(r->ar);
		r->ar = NULL;
	}
	if (r->owns_fd)
		close(r->fd);
	r->fd = -1;
	r->owns_fd = 0;
	r->path = NULL;
	r->in_entry = 0;
}

void os_line_reader_free(struct os_line_reader *r)
{
	if (!r)
		return;
	close_input(r);
	if (r->paths)
		for (size_t i = 0; i < r->npaths; i++)
			free(r->paths[i]);
	free(r->paths);
	free(r->block);
	free(r->buf);
	free(r);
}

const char *os_line_reader_where(const struct os_line_reader *r)
{
	return r->where;
}

long os_line_reader_line(const struct os_line_reader *r)
{
	return r->line;
}

/* Opens the next input; -1 with err on failure (the input is skipped). */
static int open_input(struct os_line_reader *r, struct os_error *err)
{
	const char *path = r->paths[r->next_path++];
	int rc;

	r->path = path;
	snprintf(r->where, sizeof r->where, "%s", path);
	r->line = 0;
	if (strcmp(path, "-") != 0) {
		struct stat st;

		if (stat(path, &st) != 0) {
			os_error_set(err, OS_EXIT_FAILURE, "cannot read '%s': %s",
				     path, strerror(errno));
			r->path = NULL;
			return -1;
		}
		if (S_ISDIR(st.st_mode)) {
			os_error_set(err, OS_EXIT_FAILURE,
				     "cannot read '%s': Is a directory", path);
			r->path = NULL;
			return -1;
		}
	}
	r->ar = archive_read_new();
	if (!r->ar) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		r->path = NULL;
		return -1;
	}
	archive_read_support_filter_all(r->ar);
	archive_read_support_format_tar(r->ar);
	archive_read_support_format_empty(r->ar);
	archive_read_support_format_raw(r->ar);
	if (strcmp(path, "-") == 0) {
		r->fd = 0;
	} else if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		os_error_set(err, OS_EXIT_FAILURE, "cannot read '%s': %s", path,
			     strerror(errno));
		close_input(r);
		return -1;
	} else {
		r->owns_fd = 1;
	}
	/* where a plain file starts: stdin may have been read from already */
	r->direct_at = lseek(r->fd, 0, SEEK_CUR);
	rc = archive_read_open_fd(r->ar, r->fd, READ_BLOCK);
	if (rc != ARCHIVE_OK) {
		os_error_set(err, OS_EXIT_FAILURE, "cannot read '%s': %s", path,
			     archive_error_string(r->ar));
		close_input(r);
		return -1;
	}
	return 0;
}

/* Whether fd is a regular file, which pread() can read. */
static int plain_file(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* Moves to the next regular entry of the current input: 1 when there is
 * one, 0 at the end of the input, -1 with err. */
static int next_entry(struct os_line_reader *r, struct os_error *err)
{
	struct archive_entry *entry;

	for (;;) {
		int rc = archive_read_next_header(r->ar, &entry);

		if (rc == ARCHIVE_EOF)
			return 0;
		if (rc < ARCHIVE_WARN) {
			os_error_set_at(err, OS_EXIT_BAD_INPUT, r->where,
					r->line + 1, "unreadable input: %s",
					archive_error_string(r->ar));
			return -1;
		}
		r->entry_is_member = archive_format(r->ar) != ARCHIVE_FORMAT_RAW;
		if (r->entry_is_member &&
		    archive_entry_filetype(entry) != AE_IFREG)
			continue;
		if (r->entry_is_member)
			snprintf(r->where, sizeof r->where, "%s:%s", r->path,
				 archive_entry_pathname(entry));
		else
			snprintf(r->where, sizeof r->where, "%s", r->path);
		if (r->entry_is_member || archive_filter_count(r->ar) != 1 ||
		    !plain_file(r->fd))
			r->direct_at = -1;
		r->line = 0;
		r->in_entry = 1;
		r->entry_done = 0;
		r->block_len = r->block_pos = 0;
		r->len = r->taken = 0;
		return 1;
	}
}

/* Reads `size` bytes at `at` of fd into `to`, as a pread() that keeps
 * reading until it has them all: how many it got (fewer at the end of
 * the file), or -1 with errno. */
static ssize_t pread_full(int fd, char *to, size_t size, off_t at)
{
	size_t done = 0;

	while (done < size) {
		ssize_t got = pread(fd, to + done, size - done, at + (off_t)done);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		done += (size_t)got;
	}
	return (ssize_t)done;
}

/* pread_full() in one part a thread when `size` is large. The bytes that
 * count are those up to the first part that came short (a file may grow
 * while it is read). */
static ssize_t pread_parallel(int fd, char *to, size_t size, off_t at)
{
	enum { MAX_PARTS = 16 };
	ssize_t got[MAX_PARTS];
	int parts = size < PARALLEL_READ ? 1 : os_parallel_threads();
	size_t total = 0;

	if (parts > MAX_PARTS)
		parts = MAX_PARTS;
#pragma omp parallel for num_threads(parts) if (parts > 1)
	for (int p = 0; p < parts; p++) {
		size_t from = size * (size_t)p / (size_t)parts;
		size_t to_end = size * (size_t)(p + 1) / (size_t)parts;

		got[p] = pread_full(fd, to + from, to_end - from, at + (off_t)from);
	}
	for (int p = 0; p < parts; p++) {
		size_t want = size * (size_t)(p + 1) / (size_t)parts -
			      size * (size_t)p / (size_t)parts;

		if (got[p] < 0)
			return -1;
		total += (size_t)got[p];
		if ((size_t)got[p] < want)
			break;
	}
	return (ssize_t)total;
}

/* Reads up to `size` bytes of the current entry into `to`: how many (0
 * at its end, then entry_done is set), or -1 with err. */
static la_ssize_t read_entry(struct os_line_reader *r, char *to, size_t size,
			     struct os_error *err)
{
	la_ssize_t got;

	if (r->direct_at >= 0) {
		if ((got = pread_parallel(r->fd, to, size, r->direct_at)) < 0) {
			os_error_set_at(err, OS_EXIT_FAILURE, r->where,
					r->line + 1, "read error: %s",
					strerror(errno));
			return -1;
		}
		r->direct_at += got;
		if (got == 0)
			r->entry_done = 1;
		return got;
	}
	got = archive_read_data(r->ar, to, size);
	if (got < 0) {
		os_error_set_at(err, OS_EXIT_BAD_INPUT, r->where, r->line + 1,
				"unreadable input: %s",
				archive_error_string(r->ar));
		return -1;
	}
	if (got == 0)
		r->entry_done = 1;
	return got;
}

static int fill_block(struct os_line_reader *r, struct os_error *err)
{
	la_ssize_t got = read_entry(r, r->block, READ_BLOCK, err);

	if (got < 0)
		return -1;
	r->block_len = (size_t)got;
	r->block_pos = 0;
	return 0;
}

static int append(struct os_line_reader *r, const char *p, size_t n)
{
	if (r->too_long)
		return 0;
	if (r->len + n > r->max_line) {
		r->too_long = 1;
		return 0;
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap;
		char *b;

		while (r->len + n + 1 > cap)
			cap *= 2;
		b = realloc(r->buf, cap);
		if (!b)
			return -1;
		r->buf = b;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	return 0;
}

/* Reads one line of the current entry into r->buf: 1 when a line was read,
 * 0 at the end of the entry, -1 with err. */
static int read_line(struct os_line_reader *r, struct os_error *err)
{
	r->len = 0;
	r->too_long = 0;
	for (;;) {
		char *start, *nl;
		size_t avail;

		if (r->block_pos == r->block_len) {
			if (!r->entry_done && fill_block(r, err) < 0)
				return -1;
			if (r->block_pos == r->block_len) {
				if (r->len || r->too_long)
					break; /* a last line without newline */
				return 0;
			}
		}
		start = r->block + r->block_pos;
		avail = r->block_len - r->block_pos;
		nl = memchr(start, '\n', avail);
		if (!nl) {
			if (append(r, start, avail) < 0)
				goto oom;
			r->block_pos = r->block_len;
			continue;
		}
		if (append(r, start, (size_t)(nl - start)) < 0)
			goto oom;
		r->block_pos += (size_t)(nl - start) + 1;
		break;
	}
	r->line++;
	if (r->len && r->buf[r->len - 1] == '\r')
		r->len--;
	r->buf[r->len] = '\0';
	return 1;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return -1;
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

static void too_long(struct os_error *err, size_t max_line)
{
	os_error_set(err, OS_EXIT_BAD_INPUT, "line longer than %zu bytes",
		     max_line);
}

int os_line_check(const char *line, size_t len, size_t max_line,
		  struct os_error *err)
{
	if (len > max_line) {
		too_long(err, max_line);
		return -1;
	}
	if (blank(line, len))
		return 0;
	if (!os_utf8_valid(line, len)) {
		os_error_set(err, OS_EXIT_BAD_INPUT, "invalid UTF-8");
		return -1;
	}
	return 1;
}

/* Positions the reader in an entry with bytes left to read or hand out:
 * 1, 0 after the last input, or -1 with err. */
static int enter(struct os_line_reader *r, struct os_error *err)
{
	while (!r->in_entry) {
		int rc;

		if (!r->path) {
			if (r->next_path == r->npaths)
				return 0;
			if (open_input(r, err) < 0)
				return -1;
		}
		rc = next_entry(r, err);
		if (rc < 0) {
			close_input(r);
			return -1;
		}
		if (rc == 0)
			close_input(r);
	}
	return 1;
}

int os_line_reader_next(struct os_line_reader *r, const char **line,
			size_t *len, struct os_error *err)
{
	for (;;) {
		int rc = enter(r, err);

		if (rc <= 0)
			return rc;
		rc = read_line(r, err);
		if (rc < 0) {
			close_input(r);
			return -1;
		}
		if (rc == 0) {
			r->in_entry = 0;
			continue;
		}
		if (r->too_long) {
			too_long(err, r->max_line);
		} else {
			rc = os_line_check(r->buf, r->len, r->max_line, err);
			if (rc == 0)
				continue;
			if (rc > 0) {
				*line = r->buf;
				*len = r->len;
				return 1;
			}
		}
		os_error_locate(err, r->where, r->line);
		return -1;
	}
}

void os_line_reader_counted(struct os_line_reader *r, long lines)
{
	r->line += lines;
}

int os_line_reader_chunk(struct os_line_reader *r, size_t want,
			 const char **text, size_t *len, struct os_error *err)
{
	for (;;) {
		int rc = enter(r, err);
		size_t cut = 0;

		if (rc <= 0)
			return rc;
		/* the part line after the last chunk moves to the front */
		memmove(r->buf, r->buf + r->taken, r->len - r->taken);
		r->len -= r->taken;
		r->taken = 0;
		/* what is left of the last chunk holds no line end */
		for (int line_end = 0; !r->entry_done && !(line_end && r->len >= want);) {
			la_ssize_t got;
			size_t cap = r->cap;
			char *b;

			if (!line_end && r->len > r->max_line) {
				too_long(err, r->max_line);
				os_error_locate(err, r->where, r->line + 1);
				close_input(r);
				return -1;
			}
			if (!(b = os_grow(r->buf, &cap, r->len + READ_BLOCK + 1, 1,
					  4096))) {
				os_error_set(err, OS_EXIT_FAILURE, "out of memory");
				close_input(r);
				return -1;
			}
			r->buf = b;
			r->cap = cap;
			got = read_entry(r, r->buf + r->len, r->cap - r->len - 1, err);
			if (got < 0) {
				close_input(r);
				return -1;
			}
			line_end = line_end || memchr(r->buf + r->len, '\n', (size_t)got);
			r->len += (size_t)got;
		}
		if (r->entry_done) {
			cut = r->len;
		} else {
			cut = (size_t)((const char *)memrchr(r->buf, '\n', r->len) -
				       r->buf) + 1;
		}
		if (cut == 0) {
			r->in_entry = 0;
			continue;
		}
		*text = r->buf;
		*len = cut;
		r->taken = cut;
		return 1;
	}
}
