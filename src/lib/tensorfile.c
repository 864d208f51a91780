/* SPDX-License-Identifier: MIT */
/* tensorfile.c: writing and checking the model container (see
 * tensorfile.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endian.h"
#include "hash.h"
#include "output.h"
#include "tensorfile.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char magic[8] = "OSMODEL";
enum { ALIGNMENT = 64, HEADER = 24 };

/* ---- writing ---- */

/* A writer that hashes what it writes. */
struct sink {
	FILE *f;
	uint64_t hash;
	uint64_t at;
};

static void put(struct sink *s, const void *p, size_t len)
{
	s->hash = os_hash_bytes(s->hash, p, len);
	s->at += len;
	fwrite(p, 1, len, s->f);
}

static void put_u32(struct sink *s, uint32_t v)
{
	unsigned char b[4];

	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	put(s, b, 4);
}

static void put_u64(struct sink *s, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	put(s, b, 8);
}

static void put_string(struct sink *s, const char *str)
{
	size_t len = strlen(str);

	put_u32(s, (uint32_t)len);
	put(s, str, len);
}

static void pad(struct sink *s)
{
	static const unsigned char zero[ALIGNMENT];

	if (s->at % ALIGNMENT)
		put(s, zero, ALIGNMENT - s->at % ALIGNMENT);
}

static uint64_t tensor_values(const struct os_tensor *t)
{
	uint64_t n = 1;

	for (size_t d = 0; d < t->ndims; d++)
		n *= t->dims[d];
	return n;
}

/* Aligned byte size of a tensor's data. */
static uint64_t tensor_span(const struct os_tensor *t)
{
	uint64_t bytes = tensor_values(t) * 4;

	return (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
}

static void put_floats(struct sink *s, const float *v, uint64_t n)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	float block[1024];

	for (uint64_t i = 0; i < n; i += 1024) {
		size_t k = n - i < 1024 ? (size_t)(n - i) : 1024;

		memcpy(block, v + i, k * 4);
		os_floats_le(block, k);
		put(s, block, k * 4);
	}
#else
	put(s, v, (size_t)n * 4);
#endif
}

int os_tensorfile_write(const char *path, const char *const *kv, size_t nkv,
			const struct os_tensor *tensors, size_t ntensors,
			struct os_error *err)
{
	struct os_output out;
	struct sink s = {NULL, OS_FNV_OFFSET, 0};
	uint64_t offset = 0;
	unsigned char tail[8];

	if (os_output_open(&out, path, err) < 0)
		return -1;
	s.f = out.f;
	put(&s, magic, sizeof magic);
	put_u32(&s, OS_TENSORFILE_VERSION);
	put_u32(&s, (uint32_t)nkv);
	put_u32(&s, (uint32_t)ntensors);
	put_u32(&s, ALIGNMENT);
	for (size_t i = 0; i < 2 * nkv; i++)
		put_string(&s, kv[i]);
	for (size_t i = 0; i < ntensors; i++) {
		const struct os_tensor *t = &tensors[i];

		put_string(&s, t->name);
		put_u32(&s, 0);
		put_u32(&s, (uint32_t)t->ndims);
		for (size_t d = 0; d < t->ndims; d++)
			put_u64(&s, t->dims[d]);
		put_u64(&s, offset);
		offset += tensor_span(t);
	}
	pad(&s);
	for (size_t i = 0; i < ntensors; i++) {
		put_floats(&s, tensors[i].data, tensor_values(&tensors[i]));
		pad(&s);
	}
	for (int i = 0; i < 8; i++)
		tail[i] = (unsigned char)(s.hash >> (8 * i));
	fwrite(tail, 1, 8, out.f);
	if (ferror(out.f)) {
		os_error_set(err, OS_EXIT_FAILURE, "cannot write '%s': %s", path,
			     strerror(errno));
		os_output_abort(&out);
		return -1;
	}
	return os_output_commit(&out, err);
}

/* ---- reading ---- */

struct cursor {
	const unsigned char *p, *end;
};

static int get_u32(struct cursor *c, uint32_t *v)
{
	if (c->end - c->p < 4)
		return -1;
	*v = 0;
	for (int i = 0; i < 4; i++)
		*v |= (uint32_t)c->p[i] << (8 * i);
	c->p += 4;
	return 0;
}

static int get_u64(struct cursor *c, uint64_t *v)
{
	if (c->end - c->p < 8)
		return -1;
	*v = 0;
	for (int i = 0; i < 8; i++)
		*v |= (uint64_t)c->p[i] << (8 * i);
	c->p += 8;
	return 0;
}

/* A length-prefixed string as a malloc'd NUL-terminated copy; a string
 * holding a NUL is refused. */
static char *get_string(struct cursor *c)
{
	uint32_t len;
	char *s;

	if (get_u32(c, &len) < 0 || (uint64_t)(c->end - c->p) < len ||
	    memchr(c->p, 0, len))
		return NULL;
	s = malloc((size_t)len + 1);
	if (!s)
		return NULL;
	memcpy(s, c->p, len);
	s[len] = 0;
	c->p += len;
	return s;
}

void os_tensorfile_release(struct os_tensorfile *tf)
{
	for (size_t i = 0; i < tf->nkv; i++) {
		free(tf->keys[i]);
		free(tf->values[i]);
	}
	for (size_t i = 0; i < tf->ntensors; i++)
		free((char *)tf->tensors[i].name);
	free(tf->keys);
	free(tf->values);
	free(tf->tensors);
	if (tf->mapped)
		munmap(tf->buf, tf->size);
	else
		free(tf->buf);
	memset(tf, 0, sizeof *tf);
}

static int bad(struct os_tensorfile *tf, struct os_error *err,
	       const char *name, const char *what)
{
	os_error_set(err, OS_EXIT_FAILURE, "%s: %s", name, what);
	os_tensorfile_release(tf);
	return -1;
}

static int parse_tensor(struct cursor *c, struct os_tensor *t, uint64_t *offset)
{
	uint32_t dtype, ndims;

	if (!(t->name = get_string(c)) || get_u32(c, &dtype) < 0 ||
	    get_u32(c, &ndims) < 0 || dtype != 0 || ndims == 0 ||
	    ndims > OS_TENSORFILE_MAX_DIMS)
		return -1;
	t->ndims = ndims;
	for (size_t d = 0; d < ndims; d++)
		if (get_u64(c, &t->dims[d]) < 0 || t->dims[d] > (UINT64_C(1) << 40))
			return -1;
	return get_u64(c, offset);
}

static int parse(struct os_tensorfile *tf, unsigned char *buf, size_t size,
		 int mapped, const char *name, struct os_error *err)
{
	struct cursor c = {buf, buf + size};
	uint32_t version = 0, nkv = 0, nt = 0, align = 0;
	uint64_t stored = 0, data_start;

	memset(tf, 0, sizeof *tf);
	tf->buf = buf;
	tf->size = size;
	tf->mapped = mapped;
	if (size < HEADER + 8 || memcmp(buf, magic, sizeof magic) != 0)
		return bad(tf, err, name, size < sizeof magic
						  ? "not a onesearch model (too short)"
						  : "not a onesearch model (bad magic)");
	for (int i = 0; i < 8; i++)
		stored |= (uint64_t)buf[size - 8 + i] << (8 * i);
	if (os_hash_bytes(OS_FNV_OFFSET, buf, size - 8) != stored)
		return bad(tf, err, name, "checksum mismatch: the file is truncated or corrupted");
	c.p += sizeof magic;
	c.end = buf + size - 8;
	get_u32(&c, &version);
	get_u32(&c, &nkv);
	get_u32(&c, &nt);
	get_u32(&c, &align);
	if (version != OS_TENSORFILE_VERSION)
		return bad(tf, err, name, "unsupported format version (newer onesearch?)");
	if (align == 0 || align % 4 || align > 4096 || nkv > 4096 || nt > 65536)
		return bad(tf, err, name, "malformed header");
	tf->keys = calloc(nkv ? nkv : 1, sizeof *tf->keys);
	tf->values = calloc(nkv ? nkv : 1, sizeof *tf->values);
	tf->tensors = calloc(nt ? nt : 1, sizeof *tf->tensors);
	if (!tf->keys || !tf->values || !tf->tensors)
		return bad(tf, err, name, "out of memory");
	for (; tf->nkv < nkv; tf->nkv++) {
		tf->keys[tf->nkv] = get_string(&c);
		tf->values[tf->nkv] = get_string(&c);
		if (!tf->keys[tf->nkv] || !tf->values[tf->nkv]) {
			tf->nkv++;
			return bad(tf, err, name, "malformed settings");
		}
	}
	{
		uint64_t *offsets = calloc(nt ? nt : 1, sizeof *offsets);

		if (!offsets)
			return bad(tf, err, name, "out of memory");
		for (; tf->ntensors < nt; tf->ntensors++)
			if (parse_tensor(&c, &tf->tensors[tf->ntensors],
					 &offsets[tf->ntensors]) < 0) {
				tf->ntensors++;
				free(offsets);
				return bad(tf, err, name, "malformed tensor list");
			}
		data_start = ((uint64_t)(c.p - buf) + align - 1) / align * align;
		for (size_t i = 0; i < nt; i++) {
			struct os_tensor *t = &tf->tensors[i];
			uint64_t bytes = tensor_values(t) * 4;
			uint64_t at = data_start + offsets[i];

			if (offsets[i] % 4 || at < data_start ||
			    at > size - 8 || bytes > size - 8 - at) {
				free(offsets);
				return bad(tf, err, name, "tensor data out of bounds");
			}
			t->data = (const float *)(buf + at);
			if (!mapped) /* a mapping is only made where this is a no-op */
				os_floats_le((float *)(buf + at), (size_t)(bytes / 4));
		}
		free(offsets);
	}
	return 0;
}

int os_tensorfile_parse(struct os_tensorfile *tf, unsigned char *buf,
			size_t size, const char *name, struct os_error *err)
{
	return parse(tf, buf, size, 0, name, err);
}

int os_tensorfile_map(struct os_tensorfile *tf, const char *path,
		      struct os_error *err)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	int fd = open(path, O_RDONLY);
	struct stat st;
	void *map;

	memset(tf, 0, sizeof *tf);
	if (fd < 0) {
		os_error_set(err, OS_EXIT_FAILURE, "cannot open '%s': %s", path,
			     strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		/* not a regular file, or empty: the reader says what it is */
		return os_tensorfile_read(tf, path, err);
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		os_error_set(err, OS_EXIT_FAILURE, "cannot map '%s': %s", path,
			     strerror(errno));
		return -1;
	}
	return parse(tf, map, (size_t)st.st_size, 1, path, err);
#else
	return os_tensorfile_read(tf, path, err);
#endif
}

int os_tensorfile_read(struct os_tensorfile *tf, const char *path,
		       struct os_error *err)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t size = 0, cap = 0, got;

	memset(tf, 0, sizeof *tf);
	if (!f) {
		os_error_set(err, OS_EXIT_FAILURE, "cannot open '%s': %s", path,
			     strerror(errno));
		return -1;
	}
	for (;;) {
		if (size == cap) {
			unsigned char *grown;

			cap = cap ? 2 * cap : 1 << 20;
			grown = realloc(buf, cap);
			if (!grown) {
				free(buf);
				fclose(f);
				os_error_set(err, OS_EXIT_FAILURE, "out of memory");
				return -1;
			}
			buf = grown;
		}
		got = fread(buf + size, 1, cap - size, f);
		size += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		os_error_set(err, OS_EXIT_FAILURE, "cannot read '%s': %s", path,
			     strerror(errno));
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	return os_tensorfile_parse(tf, buf, size, path, err);
}

const char *os_tensorfile_get(const struct os_tensorfile *tf, const char *key)
{
	for (size_t i = 0; i < tf->nkv; i++)
		if (strcmp(tf->keys[i], key) == 0)
			return tf->values[i];
	return NULL;
}

const struct os_tensor *os_tensorfile_find(const struct os_tensorfile *tf,
					   const char *name)
{
	for (size_t i = 0; i < tf->ntensors; i++)
		if (strcmp(tf->tensors[i].name, name) == 0)
			return &tf->tensors[i];
	return NULL;
}
