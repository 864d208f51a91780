/* SPDX-License-Identifier: MIT */
/* align.c: rewards' advantages and the policy and KL terms of TPMA-GRPO
 * (see align.h). */
#include "config.h"

#include "align.h"

#include <math.h>
#include <string.h>

double os_align_position_weight(const double base[5], size_t t, size_t levels)
{
	size_t i;

	if (levels <= 1)
		return base[0];
	i = (t * 4 * 2 + (levels - 1)) / (2 * (levels - 1)); /* rounded */
	return base[i > 4 ? 4 : i];
}

/* The mean reward of the samples whose first `len` codes are sample i's. */
static double prefix_value(const uint32_t *codes, const double *reward,
			   size_t g, size_t levels, size_t i, size_t len)
{
	double sum = 0;
	size_t n = 0;

	for (size_t j = 0; j < g; j++)
		if (memcmp(codes + j * levels, codes + i * levels,
			   len * sizeof *codes) == 0) {
			sum += reward[j];
			n++;
		}
	return sum / (double)n;
}

void os_align_advantages(const uint32_t *codes, const double *reward,
			 size_t g, size_t levels, const double base[5],
			 const size_t *match, double gate, double *adv)
{
	for (size_t t = 0; t < levels; t++) {
		double sq = 0, spread;

		for (size_t i = 0; i < g; i++) {
			double a = prefix_value(codes, reward, g, levels, i, t + 1) -
				   prefix_value(codes, reward, g, levels, i, t);

			adv[i * levels + t] = a;
			sq += a * a;
		}
		spread = sqrt(sq / (double)g);
		for (size_t i = 0; i < g; i++) {
			double *a = &adv[i * levels + t];

			*a = spread > 1e-12 ? *a / spread : 0;
			*a *= os_align_position_weight(base, t, levels);
			if (match && t > match[i])
				*a *= gate;
		}
	}
}

double os_align_policy(const os_real *z, size_t k, uint32_t y, double adv,
		       double weight, os_real *dz)
{
	double lse = os_nn_log_sum_exp(z, k, 1);

	for (size_t j = 0; j < k; j++)
		dz[j] += (os_real)(weight * adv *
				   (exp((double)z[j] - lse) - (j == y)));
	return -weight * adv * ((double)z[y] - lse);
}

double os_align_kl(const os_real *z, const os_real *zref, size_t k,
		   double weight, os_real *dz)
{
	double kl = 0, lse = os_nn_log_sum_exp(z, k, 1);
	double lse_ref = os_nn_log_sum_exp(zref, k, 1);

	for (size_t j = 0; j < k; j++) {
		double lp = (double)z[j] - lse;

		kl += exp(lp) * (lp - ((double)zref[j] - lse_ref));
	}
	for (size_t j = 0; j < k; j++) {
		double lp = (double)z[j] - lse;

		dz[j] += (os_real)(weight * exp(lp) *
				   (lp - ((double)zref[j] - lse_ref) - kl));
	}
	return weight * kl;
}
