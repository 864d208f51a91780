/* SPDX-License-Identifier: MIT */
/* os-distill-step.c: one training step of os-distill (see os-distill.h):
 * the step's examples in the epoch's order, then an sft pass, or a
 * distillation pass (students twice, teachers, KD and R-Drop on the
 * logits) followed by FGM's pass, or an alignment pass
 * (os-distill-align.c), then clipping and AdamW. */
#include "config.h"

#include <stdlib.h>

#include "lib/grow.h"
#include "lib/rng.h"
#include "os-distill.h"

/* The order of the examples in `epoch`: a Fisher-Yates shuffle drawn from
 * the seed and the epoch alone, so a resumed run sees the same order. */
static void shuffle(struct trainer *t, long epoch)
{
	struct os_rng rng;

	os_rng_seed(&rng, t->p->seed * 1000003u + (uint64_t)epoch);
	for (size_t i = 0; i < t->d->nex; i++)
		t->order[i] = (uint32_t)i;
	for (size_t i = t->d->nex; i > 1; i--) {
		size_t j = (size_t)os_rng_below(&rng, i);
		uint32_t x = t->order[i - 1];

		t->order[i - 1] = t->order[j];
		t->order[j] = x;
	}
	t->order_epoch = epoch;
}

/* The examples of this step: t->order[*first, *first + n), n returned. */
static size_t step_range(struct trainer *t, size_t *first)
{
	long epoch = t->step / t->steps_per_epoch;
	size_t last;

	*first = (size_t)(t->step % t->steps_per_epoch) * (size_t)t->p->batch;
	last = *first + (size_t)t->p->batch;
	if (epoch != t->order_epoch)
		shuffle(t, epoch);
	if (last > t->d->nex)
		last = t->d->nex;
	return last - *first;
}

/* The longest pseudo-query drawn from a title, in tokens. */
#define PSEUDO_MAX 5

/* This step's examples, from the epoch's order; pseudo-queries are drawn
 * from the seed and the step. Returns how many, or -1 (memory). */
static long pick_examples(struct trainer *t)
{
	const struct plan *p = t->p;
	size_t first, last = step_range(t, &first);
	struct os_rng rng;

	last += first;
	os_text_pool_clear(&t->views);
	os_rng_seed(&rng, p->seed * 0x9e3779b97f4a7c15ULL + (uint64_t)t->step);
	for (size_t i = first; i < last; i++) {
		const struct example_more *more = &t->d->more[t->order[i]];
		struct picked *pk = &t->picked[i - first];

		pk->ex = t->d->ex[t->order[i]];
		pk->pool = &t->d->pool;
		pk->teacher = more->teacher;
		pk->teacher_len = more->teacher_len;
		if (more->pseudo && pk->ex.len > 0) {
			uint32_t most = pk->ex.len < PSEUDO_MAX ? pk->ex.len
								: PSEUDO_MAX;
			uint32_t k = 1 + (uint32_t)os_rng_below(&rng, most);

			if (os_text_pool_sample(&t->views, pk->pool, pk->ex.text,
						pk->ex.len, k, &rng,
						&pk->ex.text) < 0)
				return -1;
			pk->ex.len = k;
			pk->pool = &t->views;
		}
	}
	return (long)(last - first);
}

static uint64_t dropout_seed(const struct trainer *t, uint64_t pass)
{
	return t->p->seed * 0x100000001b3ULL + (uint64_t)t->step +
	       pass * 0x9e3779b97f4a7c15ULL;
}

int finish_batch(const struct trainer *t, struct os_batch *b,
		 struct os_model_batch *mb)
{
	if (os_batch_finish(b, &t->m.cfg, mb) < 0)
		return -1;
	if (!t->p->constrained && !t->node_row)
		return 0;
	if (os_batch_allow(b, &t->m.cfg, &t->g->index, mb) < 0)
		return -1;
	mb->masked = t->p->constrained;
	mb->node_row = t->node_row;
	return 0;
}

/* sft: cross-entropy of the examples. */
static int sft_pass(struct trainer *t, size_t n, double *loss)
{
	struct os_model_batch mb;

	os_batch_clear(&t->batch);
	for (size_t i = 0; i < n; i++)
		if (os_batch_add(&t->batch, &t->m.cfg, t->picked[i].pool,
				 &t->picked[i].ex) < 0)
			return -1;
	if (finish_batch(t, &t->batch, &mb) < 0)
		return -1;
	*loss = os_model_forward(&t->m, &mb, t->p->dropout, dropout_seed(t, 0));
	return *loss < 0 || os_model_backward(&t->m, &mb) < 0 ? -1 : 0;
}

static void *grow_reals(os_real **v, size_t *cap, size_t need)
{
	os_real *p = os_grow(*v, cap, need, sizeof *p, 4096);

	if (p)
		*v = p;
	return p;
}

/* FGM: the students' cross-entropy once more, their input embeddings
 * moved along the gradient the first pass left in m->da.encoded (the
 * students come first in both batches, so their tokens line up). */
static int fgm_pass(struct trainer *t, size_t n)
{
	struct os_model_batch mb;
	size_t dim = t->m.cfg.dim;
	double loss;

	os_batch_clear(&t->fgm_batch);
	for (size_t i = 0; i < n; i++)
		if (os_batch_add(&t->fgm_batch, &t->m.cfg, t->picked[i].pool,
				 &t->picked[i].ex) < 0)
			return -1;
	if (finish_batch(t, &t->fgm_batch, &mb) < 0 ||
	    !grow_reals(&t->delta, &t->delta_cap, mb.n * dim))
		return -1;
	os_distill_fgm_delta(t->delta, t->m.da.encoded, mb.seg, mb.n, dim,
			     t->p->fgm);
	mb.embed_delta = t->delta;
	loss = os_model_forward(&t->m, &mb, t->p->dropout, dropout_seed(t, 2));
	if (loss < 0 || os_model_backward(&t->m, &mb) < 0)
		return -1;
	t->terms.fgm = loss;
	return 0;
}

/* distill: one batch of the students, their second dropout pass (R-Drop)
 * and the teachers of those with CoT keywords; cross-entropies, KD and
 * R-Drop (and the focal loss) in one forward and backward pass; then FGM. */
static int distill_pass(struct trainer *t, size_t n, double *loss)
{
	const struct plan *p = t->p;
	struct os_distill_layout lay = {.students = n,
					.second = p->distill.rdrop > 0,
					.teacher_of = t->teacher_of};
	struct os_model_batch mb;

	os_batch_clear(&t->batch);
	for (int copy = 0; copy < 1 + lay.second; copy++)
		for (size_t i = 0; i < n; i++)
			if (os_batch_add(&t->batch, &t->m.cfg, t->picked[i].pool,
					 &t->picked[i].ex) < 0)
				return -1;
	for (size_t i = 0; i < n; i++) {
		struct os_example ex = t->picked[i].ex;

		if (!t->picked[i].teacher_len)
			continue;
		ex.text = t->picked[i].teacher;
		ex.len = t->picked[i].teacher_len;
		if (os_batch_add(&t->batch, &t->m.cfg, &t->d->pool, &ex) < 0)
			return -1;
		t->teacher_of[lay.teachers++] = (uint32_t)i;
	}
	if (finish_batch(t, &t->batch, &mb) < 0 ||
	    !grow_reals(&t->logit_grad, &t->logit_grad_cap,
			os_model_logit_count(&t->m.cfg, &mb)))
		return -1;
	os_distill_set_weights(t->batch.target_weight, &t->m.cfg, &lay,
			       &p->distill);
	if (os_model_forward(&t->m, &mb, p->dropout, dropout_seed(t, 0)) < 0)
		return -1;
	os_distill_logit_terms(&t->m, &mb, &lay, &p->distill, t->logit_grad,
			       &t->terms);
	mb.logit_grad = t->logit_grad;
	if (os_model_backward(&t->m, &mb) < 0 ||
	    (p->fgm > 0 && fgm_pass(t, n) < 0))
		return -1;
	*loss = (p->distill.focal ? t->terms.focal : t->terms.ce_student) +
		t->terms.ce_teacher + t->terms.kd + t->terms.rdrop +
		t->terms.fgm;
	return 0;
}

/* This step's pass of the stage; the number of examples, or -1 (memory). */
static long stage_pass(struct trainer *t, double *loss)
{
	size_t first;
	long n;

	if (t->p->stage == STAGE_ALIGN) {
		n = (long)step_range(t, &first);
		return align_pass(t, t->order + first, (size_t)n, loss) < 0 ? -1 : n;
	}
	if ((n = pick_examples(t)) < 0)
		return -1;
	if ((t->p->stage == STAGE_DISTILL ? distill_pass(t, (size_t)n, loss)
					   : sft_pass(t, (size_t)n, loss)) < 0)
		return -1;
	return n;
}

/* One step: this step's examples, forward and backward, AdamW (which
 * leaves the gradients zero for the next step). */
int train_step(struct trainer *t, double *loss, double *lr, double *norm,
		      struct os_error *err)
{
	const struct plan *p = t->p;
	long n;

	if ((n = stage_pass(t, loss)) < 0)
		goto oom;
	*norm = os_model_grad_norm(&t->m);
	*lr = os_lr_schedule(p->lr, t->step, p->warmup, t->total, p->min_lr);
	t->opt.lr = *lr;
	if (os_model_adamw(&t->m, &t->opt,
			   *norm > p->clip ? (os_real)(p->clip / *norm) : 1) < 0)
		goto oom;
	t->step++;
	t->window_steps++;
	t->window_examples += n;
	return 0;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return -1;
}
