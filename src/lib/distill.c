/* SPDX-License-Identifier: MIT */
/* distill.c: KL, symmetric KL, focal loss and FGM (see distill.h). Sums
 * run in double; softmaxes subtract the largest logit first. */
#include "config.h"

#include "distill.h"

#include <math.h>

/* The log of the softmax's normalizer: log sum_j exp(z_j / tau). Then
 * log softmax(z / tau)_j = z_j / tau - lse. */
static double log_sum_exp(const os_real *z, size_t k, double tau)
{
	double max = -INFINITY, sum = 0;

	for (size_t j = 0; j < k; j++)
		if (z[j] / tau > max)
			max = z[j] / tau;
	for (size_t j = 0; j < k; j++)
		sum += exp(z[j] / tau - max);
	return max + log(sum);
}

double os_distill_kl(const os_real *zt, const os_real *zs, size_t k,
		     double tau, double weight, os_real *dzs)
{
	double lse_t = log_sum_exp(zt, k, tau), lse_s = log_sum_exp(zs, k, tau);
	double kl = 0;

	for (size_t j = 0; j < k; j++) {
		double lt = zt[j] / tau - lse_t, ls = zs[j] / tau - lse_s;
		double pt = exp(lt), ps = exp(ls);

		kl += pt * (lt - ls);
		/* d/dzs of tau^2 KL = tau (ps - pt) */
		dzs[j] += (os_real)(weight * tau * (ps - pt));
	}
	return weight * tau * tau * kl;
}

double os_distill_sym_kl(const os_real *z1, const os_real *z2, size_t k,
			 double weight, os_real *dz1, os_real *dz2)
{
	double lse1 = log_sum_exp(z1, k, 1), lse2 = log_sum_exp(z2, k, 1);
	double kl12 = 0, kl21 = 0;

	for (size_t j = 0; j < k; j++) {
		double f = (z1[j] - lse1) - (z2[j] - lse2);

		kl12 += exp(z1[j] - lse1) * f;
		kl21 -= exp(z2[j] - lse2) * f;
	}
	/* d KL(p||q)/dz_p = p (f - E_p f), f = log p - log q;
	 * d KL(p||q)/dz_q = q - p */
	for (size_t j = 0; j < k; j++) {
		double p1 = exp(z1[j] - lse1), p2 = exp(z2[j] - lse2);
		double f = (z1[j] - lse1) - (z2[j] - lse2);

		dz1[j] += (os_real)(weight * 0.5 *
				    (p1 * (f - kl12) + (p1 - p2)));
		dz2[j] += (os_real)(weight * 0.5 *
				    (p2 * (-f - kl21) + (p2 - p1)));
	}
	return weight * 0.5 * (kl12 + kl21);
}

double os_distill_focal(const os_real *z, size_t k, uint32_t y, double alpha,
			double gamma, double weight, os_real *dz)
{
	double lse = log_sum_exp(z, k, 1), logq = z[y] - lse, q = exp(logq);
	/* FL(q) = -alpha (1-q)^gamma log q; dFL/dq, then dq/dz_j =
	 * q (delta_jy - p_j) */
	double dq = alpha * (gamma * pow(1 - q, gamma - 1) * logq -
			     pow(1 - q, gamma) / q);

	for (size_t j = 0; j < k; j++)
		dz[j] += (os_real)(weight * dq * q *
				   ((j == y ? 1.0 : 0.0) - exp(z[j] - lse)));
	return -weight * alpha * pow(1 - q, gamma) * logq;
}

void os_distill_fgm_delta(os_real *delta, const os_real *g,
			  const uint32_t *seg, size_t n, size_t dim,
			  double eps)
{
	for (size_t i = 0; i < n;) {
		size_t end = i + 1;
		double norm = 0;

		while (end < n && seg[end] == seg[i])
			end++;
		for (size_t j = i * dim; j < end * dim; j++)
			norm += (double)g[j] * g[j];
		norm = sqrt(norm);
		for (size_t j = i * dim; j < end * dim; j++)
			delta[j] = (os_real)(norm > 0 ? eps * g[j] / norm : 0);
		i = end;
	}
}
