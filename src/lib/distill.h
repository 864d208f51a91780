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

#include "model.h"
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

/* How a self-distillation batch is packed (see os-distill(1)): the
 * `students` examples, then, with `second`, the same examples again (a
 * second dropout pass, for R-Drop), then `teachers` examples, teacher j
 * being the view with CoT keywords of student teacher_of[j]. */
struct os_distill_layout {
	size_t students, teachers;
	int second;
	const uint32_t *teacher_of;
};

struct os_distill_weights {
	double kd, tau, rdrop, focal_alpha, focal_gamma;
	int focal;
};

/* The terms of the loss, as the log reports them. */
struct os_distill_terms {
	double ce_student, ce_teacher, kd, rdrop, focal, fgm;
};

/* Sets the cross-entropy weights of a batch that os_batch_finish() made
 * (targets level-major, examples in the layout's order): CE(student) is
 * the mean over the students and their copies, or 0 when the focal loss
 * takes its place, and CE(teacher) the mean over the teachers; each is
 * the sum over the SID's levels. */
void os_distill_set_weights(os_real *target_weight,
			    const struct os_model_config *cfg,
			    const struct os_distill_layout *lay,
			    const struct os_distill_weights *w);

/* After os_model_forward() of such a batch: the terms' values, and the
 * gradient of KD (each teacher against its student's passes), R-Drop
 * (the two passes of each student) and the focal loss wrt the logits,
 * written to grad (os_model_logit_count() values). */
void os_distill_logit_terms(const struct os_model *m,
			    const struct os_model_batch *b,
			    const struct os_distill_layout *lay,
			    const struct os_distill_weights *w, os_real *grad,
			    struct os_distill_terms *terms);

#endif
