/* SPDX-License-Identifier: MIT */
/* hash.h: the 64-bit hashes the suite stores: FNV-1a for strings (n-gram
 * buckets, hash-map slots) and a mixing step for fingerprints. The values
 * are part of the catalog format: changing them changes every n-gram id. */
#ifndef OS_HASH_H
#define OS_HASH_H

#include <stddef.h>
#include <stdint.h>

#define OS_FNV_OFFSET UINT64_C(0xcbf29ce484222325)

/* FNV-1a over `len` bytes, continuing from `h` (start with OS_FNV_OFFSET). */
static inline uint64_t os_hash_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* A finalizer (splitmix64) that spreads FNV's low-entropy high bits. */
static inline uint64_t os_hash_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

#endif
