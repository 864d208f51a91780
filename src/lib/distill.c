/* SPDX-License-Identifier: MIT */
/* distill.c: KL, symmetric KL, focal loss and FGM (see distill.h). Sums
 * run in double; softmaxes subtract the largest logit first. */
#include "config.h"

#include "distill.h"

#include <math.h>
#include <string.h>

double os_distill_kl(const os_real *zt, const os_real *zs, size_t k,
		     double tau, double weight, os_real *dzs)
{
	double lse_t = os_nn_log_sum_exp(zt, k, tau), lse_s = os_nn_log_sum_exp(zs, k, tau);
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
	double lse1 = os_nn_log_sum_exp(z1, k, 1), lse2 = os_nn_log_sum_exp(z2, k, 1);
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
	double lse = os_nn_log_sum_exp(z, k, 1), logq = z[y] - lse, q = exp(logq);
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

/* Examples of the batch, and the copies of a student. */
static size_t examples(const struct os_distill_layout *lay)
{
	return lay->students * (lay->second ? 2 : 1) + lay->teachers;
}

static size_t copies(const struct os_distill_layout *lay)
{
	return lay->second ? 2 : 1;
}

void os_distill_set_weights(os_real *target_weight,
			    const struct os_model_config *cfg,
			    const struct os_distill_layout *lay,
			    const struct os_distill_weights *w)
{
	size_t nex = examples(lay), students = lay->students * copies(lay);

	for (size_t l = 0; l < cfg->levels; l++)
		for (size_t e = 0; e < nex; e++)
			target_weight[l * nex + e] =
				(os_real)(e < students
						  ? (w->focal ? 0 : 1.0 / (double)students)
						  : 1.0 / (double)lay->teachers);
}

/* The logits of example e's target at level l, in the logits or grad. */
static size_t at(const struct os_model *m, const struct os_model_batch *b,
		 size_t nex, size_t l, size_t e, size_t *codes)
{
	return os_model_target_offset(&m->cfg, b, l * nex + e, codes);
}

void os_distill_logit_terms(const struct os_model *m,
			    const struct os_model_batch *b,
			    const struct os_distill_layout *lay,
			    const struct os_distill_weights *w, os_real *grad,
			    struct os_distill_terms *terms)
{
	const os_real *z = m->a.logits, *loss = m->a.losses;
	size_t nex = examples(lay), nc = copies(lay), L = m->cfg.levels;
	size_t students = lay->students * nc;

	memset(terms, 0, sizeof *terms);
	memset(grad, 0, os_model_logit_count(&m->cfg, b) * sizeof *grad);
	for (size_t l = 0; l < L; l++) {
		for (size_t e = 0; e < nex; e++) {
			size_t k, o = at(m, b, nex, l, e, &k);

			if (e >= students) {
				terms->ce_teacher += loss[l * nex + e] /
						     (double)lay->teachers;
				continue;
			}
			terms->ce_student += loss[l * nex + e] / (double)students;
			if (w->focal)
				terms->focal += os_distill_focal(
					z + o, k, b->target_code[l * nex + e],
					w->focal_alpha, w->focal_gamma,
					1.0 / (double)students, grad + o);
		}
		for (size_t j = 0; j < lay->teachers && w->kd > 0; j++) {
			size_t k, ot = at(m, b, nex, l, students + j, &k);

			for (size_t c = 0; c < nc; c++) {
				size_t os = at(m, b, nex, l,
					       c * lay->students + lay->teacher_of[j],
					       &k);

				terms->kd += os_distill_kl(
					z + ot, z + os, k, w->tau,
					w->kd / (double)(lay->teachers * nc),
					grad + os);
			}
		}
		for (size_t i = 0; i < lay->students && lay->second && w->rdrop > 0;
		     i++) {
			size_t k, o1 = at(m, b, nex, l, i, &k);
			size_t o2 = at(m, b, nex, l, lay->students + i, &k);

			terms->rdrop += os_distill_sym_kl(
				z + o1, z + o2, k, w->rdrop / (double)lay->students,
				grad + o1, grad + o2);
		}
	}
}
