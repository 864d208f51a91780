/* SPDX-License-Identifier: MIT */
/* endian.h: float arrays in the catalog are little-endian IEEE 754 float32
 * on every platform; this converts them in place, both ways. */
#ifndef OS_ENDIAN_H
#define OS_ENDIAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void os_floats_le(float *v, size_t n)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	for (size_t i = 0; i < n; i++) {
		uint32_t u;

		memcpy(&u, &v[i], 4);
		u = __builtin_bswap32(u);
		memcpy(&v[i], &u, 4);
	}
#else
	(void)v;
	(void)n;
#endif
}

#endif
