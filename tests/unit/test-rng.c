/* SPDX-License-Identifier: MIT */
/* test-rng: the seeded generator is deterministic, seeds differ, and its
 * draws have the range and moments they should. */
#include "config.h"

#include <math.h>

#include "lib/rng.h"
#include "tap.h"

int main(void)
{
	struct os_rng a, b;
	int same = 1, in_range = 1;
	double sum = 0, sum2 = 0, nsum = 0, nsum2 = 0;
	long counts[7] = {0};
	const int n = 200000;

	os_rng_seed(&a, 42);
	os_rng_seed(&b, 42);
	for (int i = 0; i < 1000; i++)
		same &= os_rng_next(&a) == os_rng_next(&b);
	ok(same, "same seed, same sequence");
	os_rng_seed(&b, 43);
	ok(os_rng_next(&a) != os_rng_next(&b), "another seed, another sequence");
	for (int i = 0; i < n; i++) {
		double u = os_rng_uniform(&a), z = os_rng_normal(&a);
		uint64_t k = os_rng_below(&a, 7);

		in_range &= u >= 0 && u < 1 && k < 7;
		counts[k]++;
		sum += u;
		sum2 += u * u;
		nsum += z;
		nsum2 += z * z;
	}
	ok(in_range, "uniform in [0,1) and below(7) in [0,7)");
	ok(fabs(sum / n - 0.5) < 0.005, "uniform mean near 1/2");
	ok(fabs(sum2 / n - sum / n * sum / n - 1.0 / 12) < 0.002, "uniform variance near 1/12");
	ok(fabs(nsum / n) < 0.01 && fabs(nsum2 / n - 1) < 0.02, "normal mean 0 and variance 1");
	for (int k = 0; k < 7; k++)
		ok(fabs(counts[k] - n / 7.0) < 5 * sqrt(n / 7.0), "below(7) bucket near n/7");
	return tap_done();
}
