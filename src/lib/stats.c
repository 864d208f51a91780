/* SPDX-License-Identifier: MIT */
/* stats.c: randomization test and bootstrap interval (see stats.h). */
#include "config.h"

#include "stats.h"

#include <math.h>
#include <stdlib.h>

double os_stats_mean(const double *d, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += d[i];
	return n ? sum / (double)n : 0;
}

double os_stats_randomization_p(const double *d, size_t n, size_t trials,
				struct os_rng *rng)
{
	double observed = fabs(os_stats_mean(d, n));
	/* a tolerance so that sums in another order still count as equal */
	double eps = 1e-12 * (1 + observed);
	size_t hits = 0;

	if (n == 0)
		return 1;
	for (size_t t = 0; t < trials; t++) {
		double sum = 0;

		for (size_t i = 0; i < n; i += 64) {
			uint64_t signs = os_rng_next(rng);

			for (size_t k = i; k < n && k < i + 64; k++, signs >>= 1)
				sum += (signs & 1) ? d[k] : -d[k];
		}
		if (fabs(sum / (double)n) >= observed - eps)
			hits++;
	}
	return (double)(1 + hits) / (double)(1 + trials);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void os_stats_bootstrap_ci(const double *d, size_t n, size_t resamples,
			   double level, struct os_rng *rng, double *lo,
			   double *hi)
{
	double *means;
	size_t a, b;

	*lo = *hi = 0;
	if (n == 0 || resamples == 0 || !(means = malloc(resamples * sizeof *means)))
		return;
	for (size_t r = 0; r < resamples; r++) {
		double sum = 0;

		for (size_t i = 0; i < n; i++)
			sum += d[os_rng_below(rng, n)];
		means[r] = sum / (double)n;
	}
	qsort(means, resamples, sizeof *means, by_value);
	a = (size_t)floor((1 - level) / 2 * (double)(resamples - 1) + 0.5);
	b = (size_t)floor((1 + level) / 2 * (double)(resamples - 1) + 0.5);
	*lo = means[a];
	*hi = means[b];
	free(means);
}
