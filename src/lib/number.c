/* SPDX-License-Identifier: MIT */
/* number.c: fields of text lines and their numbers (see number.h). */
#include "config.h"

#include "number.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* The first space or tab in [p, end), or end. Eight ASCII bytes at a
 * time: adding 0x5f to a byte below 0x80 sets its top bit unless it is at
 * most ' ', so the bytes that could end a field show as clear top bits. */
static const char *field_end(const char *p, const char *end)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t top = UINT64_C(0x8080808080808080);

	while (end - p >= 8) {
		uint64_t w, low;

		memcpy(&w, p, 8);
		if (w & top)
			break; /* not ASCII: byte by byte */
		low = ~(w + UINT64_C(0x5f5f5f5f5f5f5f5f)) & top;
		if (!low) {
			p += 8;
			continue;
		}
		p += __builtin_ctzll(low) / 8;
		if (*p == ' ' || *p == '\t')
			return p;
		p++; /* another control byte belongs to the field */
	}
#endif
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	return p;
}

size_t os_split_fields(const char *line, size_t size, const char **start,
		       size_t *len, size_t max)
{
	const char *end = line + size;
	size_t n = 0;

	for (const char *p = line; p < end;) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		if (n < max)
			start[n] = p;
		p = field_end(p, end);
		if (n < max)
			len[n] = (size_t)(p - start[n]);
		n++;
	}
	return n;
}
