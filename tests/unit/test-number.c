/* SPDX-License-Identifier: MIT */
/* test-number: os_parse_double() against strtod() on random decimals (the
 * fast path must give the very same double), and its edge cases;
 * os_split_fields() against a byte-by-byte reference on random lines. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/number.h"
#include "lib/rng.h"
#include "tap.h"

/* The fields of line, the plain way: what os_split_fields() must find. */
static size_t reference_fields(const char *line, size_t size,
			       const char **start, size_t *len, size_t max)
{
	size_t n = 0, i = 0;

	for (;;) {
		size_t from;

		while (i < size && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == size)
			return n;
		for (from = i; i < size && line[i] != ' ' && line[i] != '\t'; i++)
			;
		if (n < max) {
			start[n] = line + from;
			len[n] = i - from;
		}
		n++;
	}
}

/* Random lines of up to 300 bytes from an alphabet of separators,
 * control bytes, NUL, UTF-8 and bytes one off a separator, or from one of
 * letters and few separators (fields that run through 64-byte blocks),
 * each in a block of its own size (so that a sanitizer sees any read past
 * it); every count and field must be the reference's, whatever the
 * limit. */
static int fields_agree(struct os_rng *rng)
{
	static const char mixed[] = " \t\t  \n\r\0\x1f!\x08\nax\xc3\xa9\xff\x20\xa0\x89";
	static const char long_fields[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ \t";
	const char *s1[10], *s2[10];
	size_t l1[10], l2[10];
	int same = 1;

	for (int i = 0; i < 300000 && same; i++) {
		size_t size = (size_t)os_rng_below(rng, i % 10 ? 80 : 300);
		size_t max = (size_t)os_rng_below(rng, 11), n1, n2;
		char *line = malloc(size ? size : 1);
		const char *alphabet = i % 3 ? mixed : long_fields;
		size_t letters = i % 3 ? sizeof mixed - 1 : sizeof long_fields - 1;

		if (!line)
			return 0;
		for (size_t b = 0; b < size; b++)
			line[b] = alphabet[os_rng_below(rng, letters)];
		n1 = os_split_fields(line, size, s1, l1, max);
		n2 = reference_fields(line, size, s2, l2, max);
		same = n1 == n2;
		for (size_t f = 0; same && f < n1 && f < max; f++)
			same = s1[f] == s2[f] && l1[f] == l2[f];
		free(line);
	}
	return same;
}

int main(void)
{
	struct os_rng rng;
	int same = 1;
	double v;
	long l;
	char buf[64];

	os_rng_seed(&rng, 3);
	for (int i = 0; i < 200000 && same; i++) {
		int digits = 1 + (int)os_rng_below(&rng, 21);
		int point = (int)os_rng_below(&rng, (uint64_t)digits + 2) - 1;
		size_t len = 0;

		if (os_rng_below(&rng, 4) == 0)
			buf[len++] = '-';
		for (int d = 0; d < digits; d++) {
			if (d == point)
				buf[len++] = '.';
			buf[len++] = (char)('0' + os_rng_below(&rng, 10));
		}
		buf[len] = '\0';
		same = os_parse_double(buf, len, &v) == 0 && v == strtod(buf, NULL) &&
		       signbit(v) == signbit(strtod(buf, NULL));
		if (!same)
			printf("# %s: %.17g vs %.17g\n", buf, v, strtod(buf, NULL));
	}
	ok(same, "200000 random decimals read exactly as strtod reads them");
	ok(os_parse_double("9007199254740993", 16, &v) == 0 &&
	   v == 9007199254740992.0, "2^53 + 1 rounds as strtod rounds it");
	ok(os_parse_double("18446744073709551617", 20, &v) == 0 &&
	   v == 18446744073709551616.0, "a mantissa past 64 bits does not wrap");
	ok(os_parse_double("1.5e3", 5, &v) == 0 && v == 1500, "exponents go to strtod");
	ok(os_parse_double("12.34 x", 5, &v) == 0 && v == 12.34, "only len bytes are read");
	ok(os_parse_double("", 0, &v) < 0, "empty is not a number");
	ok(os_parse_double("-", 1, &v) < 0, "a sign alone is not a number");
	ok(os_parse_double("+", 1, &v) < 0, "a plus alone is not a number");
	ok(os_parse_double(".", 1, &v) < 0, "a point alone is not a number");
	ok(os_parse_double("1.2.3", 5, &v) < 0, "two points are not a number");
	ok(os_parse_double("inf", 3, &v) < 0, "infinity is refused");
	ok(os_parse_double("nan", 3, &v) < 0, "NaN is refused");
	ok(os_parse_double("1e999", 5, &v) < 0, "overflow is refused");
	ok(os_parse_long("42", 2, &l) == 0 && l == 42, "a long");
	ok(os_parse_long("4x", 2, &l) < 0, "a long with a tail is refused");
	ok(fields_agree(&rng), "300000 random lines split as byte by byte");
	return tap_done();
}
