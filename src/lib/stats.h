/* SPDX-License-Identifier: MIT */
/* stats.h: paired comparisons of two systems over the same queries, from
 * their per-query differences d[i] = b[i] - a[i]. Random draws come from
 * the caller's generator, so a --seed fixes the results. */
#ifndef OS_STATS_H
#define OS_STATS_H

#include <stddef.h>

#include "rng.h"

double os_stats_mean(const double *d, size_t n);

/* Two-sided paired randomization (sign-flip) test of mean(d) = 0: the
 * share of `trials` random sign assignments whose |mean| reaches the
 * observed one, counted as (1 + hits) / (1 + trials). 1 when n == 0. */
double os_stats_randomization_p(const double *d, size_t n, size_t trials,
				struct os_rng *rng);

/* Percentile bootstrap interval of mean(d) at `level` (0.95) from
 * `resamples` resamples; [0, 0] when n == 0. */
void os_stats_bootstrap_ci(const double *d, size_t n, size_t resamples,
			   double level, struct os_rng *rng, double *lo,
			   double *hi);

#endif
