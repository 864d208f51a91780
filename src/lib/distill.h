/* SPDX-License-Identifier: MIT */
/* distill.h: the loss terms of self-distillation (os-distill --stage
 * distill) that work on the model's logits, and FGM's perturbation of the
 * input embeddings. Each term returns its value and adds its gradient wrt
 * the logits it reads, scaled by `weight`, to the given arrays (a batch's
 * logit_grad, see model.h); the caller owns every array. os_real as in
 * nn.h, so the tests check every gradient in double. */
#ifndef OS_DISTILL_H
#define OS_DISTILL_H

#include <stddef.h>
#include <stdint.h>

#include "nn.h"

/* weight * tau^2 * KL(softmax(zt / tau) || softmax(zs / tau)) over k codes;
 * the teacher's logits zt are constants (no gradient), dzs receives the
 * student's. */
double os_distill_kl(const os_real *zt, const os_real *zs, size_t k,
		     double tau, double weight, os_real *dzs);

/* weight * (KL(p1 || p2) + KL(p2 || p1)) / 2, p = softmax(z), the
 * symmetric KL of R-Drop between two dropout passes; both get gradients. */
double os_distill_sym_kl(const os_real *z1, const os_real *z2, size_t k,
			 double weight, os_real *dz1, os_real *dz2);

/* weight * the focal loss -alpha (1 - p_y)^gamma log p_y of code y. */
double os_distill_focal(const os_real *z, size_t k, uint32_t y, double alpha,
			double gamma, double weight, os_real *dz);

/* FGM: delta = eps * g / ||g|| for each sequence of a packed batch (its
 * tokens' rows of g, n x dim, seg as in nn.h), 0 where g is 0. */
void os_distill_fgm_delta(os_real *delta, const os_real *g,
			  const uint32_t *seg, size_t n, size_t dim,
			  double eps);

#endif
