/* SPDX-License-Identifier: MIT */
/* align.h: the terms of preference alignment on behaviour feedback
 * (os-distill --stage align, TPMA-GRPO; see os-distill(1)).
 *
 * A group is G SIDs sampled from the policy for one query, each of L
 * codes. Its rewards give token-position marginal advantages: the value of
 * a prefix is the mean reward of the group's samples that share it, and
 * the advantage of sample g at position t is the value of its prefix
 * through t less the value of its prefix before t (what choosing code t
 * added), divided by the spread of those differences at position t across
 * the group, then weighted by the position's weight and gated by how far
 * the sample follows a clicked or ordered item's SID. The policy term on
 * the logits of one position is -A log p(code), p = softmax(z); the KL
 * term is KL(softmax(z) || softmax(z_ref)) to the frozen reference model.
 * The caller owns every array; os_real as in nn.h, so the tests check the
 * gradients in double. */
#ifndef OS_ALIGN_H
#define OS_ALIGN_H

#include <stddef.h>
#include <stdint.h>

#include "nn.h"

/* The paper's position weights for a SID of five codes. */
#define OS_ALIGN_POSITION_WEIGHTS {2, 2, 1, 1, 0}

/* The weight of position t of L, from five weights `base` (for a SID of
 * five codes): the one at t * 4 / (L - 1), rounded to the nearest (L = 1:
 * the first). */
double os_align_position_weight(const double base[5], size_t t, size_t levels);

/* The advantages adv (g x levels) of a group: codes (g x levels, row i
 * the SID of sample i), reward (g). match (g, or NULL: no gating) is how
 * many leading codes of sample i agree with the SID of a clicked or
 * ordered item (the most over those items), base the position weights
 * (see os_align_position_weight); positions up to and including
 * the first that departs keep their advantage, later ones are multiplied
 * by `gate`. A position where every difference is 0 gets advantage 0. */
void os_align_advantages(const uint32_t *codes, const double *reward,
			 size_t g, size_t levels, const double base[5],
			 const size_t *match, double gate, double *adv);

/* weight * -adv * log softmax(z)[y] over k codes; its gradient wrt z is
 * added to dz. */
double os_align_policy(const os_real *z, size_t k, uint32_t y, double adv,
		       double weight, os_real *dz);

/* weight * KL(softmax(z) || softmax(zref)) over k codes; the reference's
 * logits are constants, the gradient wrt z is added to dz. */
double os_align_kl(const os_real *z, const os_real *zref, size_t k,
		   double weight, os_real *dz);

#endif
