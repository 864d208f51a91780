/* SPDX-License-Identifier: MIT */
/* number.c: numbers in text fields (see number.h). */
#include "config.h"

#include "number.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Plain decimals of at most 15 significant digits and 22 decimals ("12.75",
 * "-0.0031") are exactly m / 10^k with both operands exact doubles, so one
 * division gives the correctly rounded value that strtod() would (Clinger's
 * fast path). Returns 0, or -1 to leave the field to strtod(). */
static int fast_decimal(const char *s, size_t len, double *out)
{
	static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
				       1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
				       1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
				       1e18, 1e19, 1e20, 1e21, 1e22};
	size_t i = 0, seen = 0, digits = 0, decimals = 0;
	int negative = 0, point = 0;
	uint64_t m = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		negative = s[i++] == '-';
	for (; i < len; i++) {
		if (s[i] == '.' && !point) {
			point = 1;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return -1;
		seen++;
		if (m || s[i] != '0')
			digits++;
		if (digits > 15)
			return -1;
		m = m * 10 + (uint64_t)(s[i] - '0');
		decimals += point;
	}
	if (seen == 0 || decimals > 22)
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

