/* SPDX-License-Identifier: MIT */
/* number.c: fields of text lines and their numbers (see number.h). */
#include "config.h"

#include "number.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* A plain decimal ("12.75", "-0.0031") whose digits make an integer m of
 * at most 2^53 and which has at most 22 decimals is exactly m / 10^k with
 * both operands exact doubles, so one division gives the correctly
 * rounded value that strtod() would (Clinger's fast path). Returns 0, or
 * -1 to leave the field to strtod(). */
static int fast_decimal(const char *s, size_t len, double *out)
{
	static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
				       1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
				       1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
				       1e18, 1e19, 1e20, 1e21, 1e22};
	const char *p = s, *end = s + len, *digits, *point = NULL;
	uint64_t m = 0;
	size_t count, decimals;
	int negative = 0;

	if (p < end && (*p == '-' || *p == '+'))
		negative = *p++ == '-';
	for (digits = p; p < end; p++) {
		unsigned d = (unsigned)(unsigned char)*p - '0';

		if (d < 10) {
			m = m * 10 + d; /* wraps past 19 digits: refused below */
			continue;
		}
		if (*p != '.' || point)
			return -1;
		point = p;
	}
	count = (size_t)(end - digits) - (point != NULL);
	decimals = point ? (size_t)(end - point - 1) : 0;
	if (count == 0 || count > 19 || m > (UINT64_C(1) << 53) || decimals > 22)
		return -1;
	*out = (double)m / pow10[decimals];
	if (negative)
		*out = -*out;
	return 0;
}

int os_parse_double(const char *s, size_t len, double *out)
{
	char buf[64], *end;

	if (fast_decimal(s, len, out) == 0)
		return 0;
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtod(buf, &end);
	return errno || *end || !isfinite(*out) ? -1 : 0;
}

int os_parse_long(const char *s, size_t len, long *out)
{
	char buf[32], *end;
	long v = 0;
	size_t i = 0;

	/* up to 18 plain digits cannot overflow: no need for strtol */
	while (i < len && i < 18 && s[i] >= '0' && s[i] <= '9')
		v = v * 10 + (s[i++] - '0');
	if (i == len && len > 0) {
		*out = v;
		return 0;
	}
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtol(buf, &end, 10);
	return errno || *end ? -1 : 0;
}

/* Bit i set when byte i of the `n` (at most 64) at p is a space or a
 * tab: sixteen bytes at a time where SSE2 is (every x86-64). */
static inline uint64_t separator_bits(const char *p, size_t n)
{
	uint64_t bits = 0;
	size_t i = 0;

#ifdef __SSE2__
	const __m128i space = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t');

	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));

		bits |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_or_si128(
				_mm_cmpeq_epi8(v, space), _mm_cmpeq_epi8(v, tab)))
			<< i;
	}
	if (i < n && n >= 16) { /* the last 16 bytes, those before i dropped */
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + n - 16));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			_mm_cmpeq_epi8(v, space), _mm_cmpeq_epi8(v, tab)));

		bits |= (uint64_t)(m >> (16 - (n - i))) << i;
		i = n;
	}
#endif
	for (; i < n; i++)
		bits |= (uint64_t)(p[i] == ' ' || p[i] == '\t') << i;
	return bits;
}

size_t os_split_fields(const char *line, size_t size, const char **start,
		       size_t *len, size_t max)
{
	size_t n = 0;
	uint64_t before = 0; /* 1 when the byte before the block is a field's */
	int open = 0;        /* field n has started and not ended */

	/* 64 bytes at a time, as masks of the bytes where fields start and
	 * of those just past their ends: the k-th start of a block goes with
	 * its k-th end (after the first end has closed a field that was open
	 * when the block began), so each field takes one pass of the loop */
	for (size_t base = 0; base < size; base += 64) {
		size_t bytes = size - base < 64 ? size - base : 64;
		uint64_t valid = bytes == 64 ? ~UINT64_C(0) : (UINT64_C(1) << bytes) - 1;
		uint64_t field = ~separator_bits(line + base, bytes) & valid;
		uint64_t after_field = field << 1 | before;
		uint64_t starts = field & ~after_field;
		uint64_t ends = ~field & valid & after_field;
		const char *p = line + base;

		before = field >> 63;
		if (open) {
			if (!ends)
				continue; /* the field goes on through the block */
			if (n < max)
				len[n] = (size_t)(p + __builtin_ctzll(ends) - start[n]);
			n++;
			ends &= ends - 1;
			open = 0;
		}
		for (; starts; starts &= starts - 1, n++) {
			size_t s = (size_t)__builtin_ctzll(starts);

			if (!ends) { /* the last field goes on in the next block */
				if (n < max)
					start[n] = p + s;
				open = 1;
				break;
			}
			if (n < max) {
				start[n] = p + s;
				len[n] = (size_t)__builtin_ctzll(ends) - s;
			}
			ends &= ends - 1;
		}
	}
	if (open) {
		if (n < max)
			len[n] = (size_t)(line + size - start[n]);
		n++;
	}
	return n;
}
