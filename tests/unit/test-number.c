/* SPDX-License-Identifier: MIT */
/* test-number: os_parse_double() against strtod() on random decimals (the
 * fast path must give the very same double), and its edge cases. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/number.h"
#include "lib/rng.h"
#include "tap.h"

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
	return tap_done();
}
