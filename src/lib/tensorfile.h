/* SPDX-License-Identifier: MIT */
/* tensorfile.h: the container of model files and training checkpoints:
 * key/value settings and named float tensors, checked by a checksum.
 *
 * Layout (all integers little-endian, whatever the platform):
 *
 *   offset  size  field
 *   0       8     magic "OSMODEL\0"
 *   8       4     u32 format version (1)
 *   12      4     u32 number of key/value pairs
 *   16      4     u32 number of tensors
 *   20      4     u32 alignment of tensor data (64)
 *   24      ...   key/value pairs: u32 key length, key bytes, u32 value
 *                 length, value bytes (UTF-8, no terminating NUL)
 *           ...   tensor descriptors: u32 name length, name bytes, u32 dtype
 *                 (0: float32), u32 number of dimensions (1..4), u64 each
 *                 dimension, u64 offset of its data from the data start
 *           ...   zero padding to a multiple of the alignment: data start
 *           ...   tensor data, each at an aligned offset, float32 LE
 *   end-8   8     u64 FNV-1a 64 of every byte before it
 *
 * A reader checks the size and the checksum before it trusts any field,
 * and every length against the end of the file, so a truncated or flipped
 * file is refused, never read out of bounds. */
#ifndef OS_TENSORFILE_H
#define OS_TENSORFILE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define OS_TENSORFILE_VERSION 1
#define OS_TENSORFILE_MAX_DIMS 4

struct os_tensor {
	const char *name;
	size_t ndims;
	uint64_t dims[OS_TENSORFILE_MAX_DIMS];
	const float *data; /* dims' product values */
};

struct os_tensorfile {
	unsigned char *buf; /* the whole file; owned */
	size_t size;
	int mapped;         /* buf is a read-only mapping of the file */
	size_t nkv;
	char **keys, **values; /* owned copies, NUL-terminated */
	size_t ntensors;
	struct os_tensor *tensors; /* names owned, data points into buf */
};

/* Reads and checks a file. Returns 0, or -1 with err (status 1) naming the
 * file and what is wrong with it. */
int os_tensorfile_read(struct os_tensorfile *tf, const char *path,
		       struct os_error *err);
/* The same with the file mapped read-only instead of read, so that the
 * tensors' data stays in the page cache, shared by every process that maps
 * the file (little-endian platforms; elsewhere the file is read). */
int os_tensorfile_map(struct os_tensorfile *tf, const char *path,
		      struct os_error *err);
/* Parses `size` bytes that the caller gives up (freed by release, also on
 * failure); `name` is used in messages. */
int os_tensorfile_parse(struct os_tensorfile *tf, unsigned char *buf,
			size_t size, const char *name, struct os_error *err);
void os_tensorfile_release(struct os_tensorfile *tf);

/* The value of a key, or NULL. */
const char *os_tensorfile_get(const struct os_tensorfile *tf, const char *key);
/* The tensor of that name, or NULL. */
const struct os_tensor *os_tensorfile_find(const struct os_tensorfile *tf,
					   const char *name);

/* Writes a file whole or not at all (temporary name, then rename):
 * `kv` holds nkv key/value pairs as 2 * nkv strings. Returns 0, or -1 with
 * err (status 1). */
int os_tensorfile_write(const char *path, const char *const *kv, size_t nkv,
			const struct os_tensor *tensors, size_t ntensors,
			struct os_error *err);

#endif
