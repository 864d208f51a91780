/* SPDX-License-Identifier: MIT */
/* os-distill-align.c: os-distill --stage align (see os-distill(1)),
 * preference alignment on behaviour feedback with TPMA-GRPO: the feedback
 * grouped by query, and one step: for each query a group of SIDs sampled
 * from the policy through the SID trie (with --shown, some of the group's
 * places given to the items the feedback holds), their rewards (relevance,
 * behaviour, and how far each follows a clicked or ordered item's SID),
 * token-position marginal advantages (align.c), then one batch of the
 * samples and of the clicked items whose logits get the policy and KL
 * terms (against the frozen reference, the --init model) and whose
 * clicked items get a weighted cross-entropy. The aligner owns the
 * reference, the decoders and the step's scratch. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/align.h"
#include "lib/decode.h"
#include "lib/grow.h"
#include "lib/hash.h"
#include "lib/jsonl.h"
#include "lib/model_io.h"
#include "lib/record.h"
#include "lib/strmap.h"
#include "os-distill.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- the feedback ---- */

/* A feedback line, before the lines are grouped by query. */
struct line {
	uint32_t query;
	struct feedback fb;
};

/* A 0/1 field (0 when absent); -1 with err when it is something else. */
static int flag(const cJSON *obj, const char *field, struct os_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);

	if (!v)
		return 0;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v);
	if (cJSON_IsNumber(v) && (v->valuedouble == 0 || v->valuedouble == 1))
		return (int)v->valuedouble;
	os_error_set(err, OS_EXIT_BAD_INPUT, "field '%s' must be 0 or 1",
		     field);
	return -1;
}

/* The key that groups a line with its query's: "qid" when given, else
 * the query's text and the user's id. */
static const char *group_key(const cJSON *obj, const char *query, char *buf,
			     size_t size, struct os_error *err)
{
	const cJSON *qid = cJSON_GetObjectItemCaseSensitive(obj, "qid");
	const cJSON *user = cJSON_GetObjectItemCaseSensitive(obj, "user");
	const cJSON *uid = cJSON_IsObject(user)
			       ? cJSON_GetObjectItemCaseSensitive(user, "id")
			       : NULL;
	char id[OS_RECORD_ID_MAX] = "";

	if (qid) {
		buf[0] = 'q';
		return os_record_id(qid, "qid", buf + 1, size - 1, err) ? buf
									: NULL;
	}
	if (uid && !os_record_id(uid, "user.id", id, sizeof id, err))
		return NULL;
	if ((size_t)snprintf(buf, size, "t%s\037%s", query, id) >= size) {
		os_error_set(err, OS_EXIT_BAD_INPUT, "query too long");
		return NULL;
	}
	return buf;
}

struct reading {
	struct os_generative *g;
	const struct plan *p;
	struct data *d;
	struct os_strmap groups; /* key -> query */
	struct line *lines;
	size_t nlines, lines_cap;
};

/* One feedback record into the reading. */
static int read_line(void *ctx, const cJSON *obj, long line,
		     struct os_error *err)
{
	struct reading *r = ctx;
	static char key[2 * OS_RECORD_ID_MAX + 8192];
	char item[OS_RECORD_ID_MAX];
	const char *query = os_record_query(obj, err);
	const cJSON *rel = cJSON_GetObjectItemCaseSensitive(obj, "relevance");
	struct data *d = r->d;
	int click, order, added = 0;
	long q, idx;

	(void)line;
	if (!query || !group_key(obj, query, key, sizeof key, err) ||
	    !os_record_id(cJSON_GetObjectItemCaseSensitive(obj, "item"), "item",
			  item, sizeof item, err) ||
	    (click = flag(obj, "click", err)) < 0 ||
	    (order = flag(obj, "order", err)) < 0)
		return -1;
	if (rel && (!cJSON_IsNumber(rel) || !(rel->valuedouble >= 0) ||
		    rel->valuedouble > 3)) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "field 'relevance' must be a number from 0 to 3");
		return -1;
	}
	d->fb_lines++;
	if ((idx = os_sidindex_find(&r->g->index, item)) < 0) {
		d->fb_unknown++;
		return 0;
	}
	if ((q = os_strmap_intern(&r->groups, key, strlen(key), &added)) < 0)
		goto oom;
	if (added) {
		struct feedback_query *fq =
		    os_grow(d->fq, &d->fq_cap, (size_t)q + 1, sizeof *fq, 256);
		long n;

		if (!fq)
			goto oom;
		d->fq = fq;
		if ((n = os_generative_query_text(r->g, &r->p->cfg, &d->pool, obj,
						  query, "", &fq[q].text,
						  err)) < 0)
			return -1;
		fq[q].len = (uint32_t)n;
		d->nex = (size_t)q + 1;
	}
	if (!(r->lines = os_grow(r->lines, &r->lines_cap, r->nlines + 1,
				 sizeof *r->lines, 1024)))
		goto oom;
	r->lines[r->nlines++] = (struct line){
	    (uint32_t)q,
	    {(uint32_t)idx, rel ? (float)rel->valuedouble : 0,
	     (unsigned char)click, (unsigned char)order}};
	return 0;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return -1;
}

/* The lines grouped by query (stable), an item's lines merged (the most
 * of each field). */
static int group_lines(struct reading *r)
{
	struct data *d = r->d;
	size_t *at = calloc(d->nex + 1, sizeof *at);

	if (!at || !(d->fb = malloc((r->nlines + 1) * sizeof *d->fb))) {
		free(at);
		return -1;
	}
	for (size_t i = 0; i < r->nlines; i++)
		at[r->lines[i].query + 1]++;
	for (size_t q = 0; q < d->nex; q++) {
		d->fq[q].first = (uint32_t)at[q];
		d->fq[q].n = 0;
		at[q + 1] += at[q];
	}
	for (size_t i = 0; i < r->nlines; i++) {
		struct feedback_query *fq = &d->fq[r->lines[i].query];
		const struct feedback *in = &r->lines[i].fb;
		struct feedback *f = d->fb + fq->first, *same = NULL;

		for (uint32_t j = 0; j < fq->n; j++)
			if (f[j].item == in->item)
				same = &f[j];
		if (!same) {
			f[fq->n++] = *in;
			continue;
		}
		same->click |= in->click;
		same->order |= in->order;
		same->relevance = fmaxf(same->relevance, in->relevance);
	}
	d->nfb = r->nlines;
	free(at);
	return 0;
}

int load_feedback(const struct options *o, struct os_generative *g,
		  struct data *d, struct os_error *err)
{
	struct reading r = {.g = g, .p = &o->plan, .d = d};
	int rc;

	os_strmap_init(&r.groups);
	rc = os_jsonl_each(o->inputs, o->ninputs, (size_t)o->cli.max_line,
			   read_line, &r, err);
	if (rc == 0 && group_lines(&r) < 0) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		rc = -1;
	}
	if (rc == 0 && d->nex == 0) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "no feedback (records with \"query\" and an "
			     "\"item\" of the catalog with a SID)");
		rc = -1;
	}
	os_strmap_release(&r.groups);
	free(r.lines);
	if (rc < 0)
		return -1;
	d->fingerprint = OS_FNV_OFFSET;
	for (size_t q = 0; q < d->nex; q++) {
		const struct feedback_query *fq = &d->fq[q];

		d->fingerprint = os_hash_bytes(d->fingerprint, d->pool.row + fq->text,
					       fq->len * sizeof *d->pool.row);
		/* field by field: the struct's padding is not data */
		for (uint32_t i = 0; i < fq->n; i++) {
			const struct feedback *f = &d->fb[fq->first + i];

			d->fingerprint = os_hash_bytes(d->fingerprint, &f->item,
						       sizeof f->item);
			d->fingerprint = os_hash_bytes(d->fingerprint, &f->relevance,
						       sizeof f->relevance);
			d->fingerprint = os_hash_bytes(d->fingerprint, &f->click, 1);
			d->fingerprint = os_hash_bytes(d->fingerprint, &f->order, 1);
		}
	}
	return 0;
}

/* ---- the step ---- */

struct aligner {
	struct os_model ref;        /* the frozen --init model */
	struct os_decoder *dec;     /* one a thread */
	int ndec;
	struct os_batch batch;
	struct os_hit *draws;       /* (queries x group) */
	uint32_t *codes;            /* (queries x group x levels) */
	double *reward, *adv;       /* (queries x group), (.. x levels) */
	size_t *match;              /* (queries x group) */
	unsigned char *clicked;     /* (queries) has a click or an order */
	os_real *grad;              /* the logits' extra gradient */
	size_t grad_cap;
};

void aligner_free(struct aligner *a)
{
	if (!a)
		return;
	for (int i = 0; a->dec && i < a->ndec; i++)
		os_decoder_release(&a->dec[i]);
	free(a->dec);
	os_model_release(&a->ref);
	os_batch_release(&a->batch);
	free(a->draws);
	free(a->codes);
	free(a->reward);
	free(a->adv);
	free(a->match);
	free(a->clicked);
	free(a->grad);
	free(a);
}

struct aligner *aligner_new(const struct trainer *t, struct os_error *err)
{
	const struct plan *p = t->p;
	size_t q = (size_t)p->batch, G = (size_t)p->align.group;
	size_t L = t->m.cfg.levels;
	struct aligner *a = calloc(1, sizeof *a);

	if (!a)
		goto oom;
	os_batch_init(&a->batch);
	if (os_model_load(&a->ref, t->o->init, 0, NULL, err) < 0) {
		aligner_free(a);
		return NULL;
	}
#ifdef _OPENMP
	a->ndec = omp_get_max_threads();
#else
	a->ndec = 1;
#endif
	if (!(a->dec = calloc((size_t)a->ndec, sizeof *a->dec)))
		goto oom;
	for (int i = 0; i < a->ndec; i++)
		if (os_decoder_init(&a->dec[i], &t->m, &t->g->index, G) < 0)
			goto oom;
	if (!(a->draws = malloc(q * G * sizeof *a->draws)) ||
	    !(a->codes = malloc(q * G * L * sizeof *a->codes)) ||
	    !(a->reward = malloc(q * G * sizeof *a->reward)) ||
	    !(a->adv = malloc(q * G * L * sizeof *a->adv)) ||
	    !(a->match = malloc(q * G * sizeof *a->match)) ||
	    !(a->clicked = malloc(q * sizeof *a->clicked)))
		goto oom;
	return a;
oom:
	aligner_free(a);
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return NULL;
}

/* Draws the group of every query, on all threads; the draws depend on the
 * seed, the step and the query alone. */
static int draw_groups(struct trainer *t, const uint32_t *order, size_t n)
{
	struct aligner *a = t->align;
	size_t G = (size_t)t->p->align.group;
	int failed = 0;

#pragma omp parallel for schedule(dynamic, 1) reduction(| : failed)
	for (size_t q = 0; q < n; q++) {
		const struct feedback_query *fq = &t->d->fq[order[q]];
		struct os_rng rng;
		struct os_sampling how = {t->p->align.temperature, &rng};
		int th = 0;

#ifdef _OPENMP
		th = omp_get_thread_num();
#endif
		os_rng_seed(&rng, t->p->seed * 0x9e3779b97f4a7c15ULL +
				      (uint64_t)t->step * 1000003u + order[q]);
		failed |= os_decoder_sample(&a->dec[th], &t->d->pool, fq->text,
					    fq->len, G, &how, a->draws + q * G) !=
			  (long)G;
	}
	return failed ? -1 : 0;
}

/* With --shown N: the last N places of query q's group (fewer when its
 * feedback holds fewer items) go to its feedback's items, in their order,
 * so that the group sets what the shopper took against what they were
 * shown and passed over. */
static void show_feedback(struct trainer *t, const struct feedback_query *fq,
			  size_t q)
{
	const struct feedback *fb = t->d->fb + fq->first;
	size_t G = (size_t)t->p->align.group, k = (size_t)t->p->align.shown;

	if (k > fq->n)
		k = fq->n;
	if (k > G)
		k = G;
	for (size_t j = 0; j < k; j++)
		t->align->draws[q * G + G - k + j].item = fb[j].item;
}

/* An item's behaviour reward: order 4, click 3, neither 0. */
static double behaviour(const struct feedback *f)
{
	return f->order ? 4 : f->click ? 3 : 0;
}

/* The rewards of query q's group (and whether it has clicks), with each
 * sample's longest common prefix with a clicked or ordered item's SID. A
 * sample the feedback does not hold earns 0 relevance and behaviour, or
 * with --unseen mean the mean of the query's feedback items. */
static void rewards(struct trainer *t, const struct feedback_query *fq,
		    size_t q)
{
	const struct align_plan *ap = &t->p->align;
	const struct os_sidindex *s = &t->g->index;
	const struct feedback *fb = t->d->fb + fq->first;
	struct aligner *a = t->align;
	size_t G = (size_t)ap->group, L = s->levels;

	double sum_rel = 0, sum_beh = 0, unseen_rel = 0, unseen_beh = 0;

	a->clicked[q] = 0;
	for (uint32_t j = 0; j < fq->n; j++) {
		a->clicked[q] |= fb[j].click || fb[j].order;
		sum_rel += fb[j].relevance;
		sum_beh += behaviour(&fb[j]);
	}
	if (ap->unseen_mean && fq->n > 0) {
		unseen_rel = sum_rel / fq->n;
		unseen_beh = sum_beh / fq->n;
	}
	for (size_t i = q * G; i < (q + 1) * G; i++) {
		uint32_t *codes = a->codes + i * L;
		double rel = unseen_rel, beh = unseen_beh;
		size_t best = 0;

		memcpy(codes, s->codes + (size_t)a->draws[i].item * L,
		       L * sizeof *codes);
		for (uint32_t j = 0; j < fq->n; j++) {
			const uint32_t *c = s->codes + (size_t)fb[j].item * L;
			size_t same = 0;

			if (fb[j].item == a->draws[i].item) {
				rel = fb[j].relevance;
				beh = behaviour(&fb[j]);
			}
			if (!fb[j].click && !fb[j].order)
				continue;
			while (same < L && c[same] == codes[same])
				same++;
			if (same > best)
				best = same;
		}
		a->match[i] = best;
		a->reward[i] = ap->w_rel * rel + ap->w_beh * beh +
			       ap->w_overlap * (double)best / (double)L;
		t->aterms.rel += rel;
		t->aterms.beh += beh;
		t->aterms.overlap += (double)best / (double)L;
		t->aterms.reward += a->reward[i];
	}
}

/* The batch: every sample (no cross-entropy), then each query's clicked
 * and ordered items (cross-entropy weighted --sft-weight, a mean over
 * them). Returns their number, or -1 (memory). */
static long build_batch(struct trainer *t, const uint32_t *order, size_t n,
			struct os_model_batch *mb)
{
	struct aligner *a = t->align;
	size_t G = (size_t)t->p->align.group, L = t->m.cfg.levels, nsft = 0;
	struct os_example ex = {.weight = 0};

	os_batch_clear(&a->batch);
	for (size_t i = 0; i < n * G; i++) {
		const struct feedback_query *fq = &t->d->fq[order[i / G]];

		ex.text = fq->text;
		ex.len = fq->len;
		memcpy(ex.code, a->codes + i * L, L * sizeof *ex.code);
		if (os_batch_add(&a->batch, &t->m.cfg, &t->d->pool, &ex) < 0)
			return -1;
	}
	ex.weight = 1;
	for (size_t q = 0; q < n; q++) {
		const struct feedback_query *fq = &t->d->fq[order[q]];
		const struct feedback *fb = t->d->fb + fq->first;

		for (uint32_t j = 0; j < fq->n; j++) {
			if (!fb[j].click && !fb[j].order)
				continue;
			ex.text = fq->text;
			ex.len = fq->len;
			memcpy(ex.code, t->g->index.codes + (size_t)fb[j].item * L,
			       L * sizeof *ex.code);
			if (os_batch_add(&a->batch, &t->m.cfg, &t->d->pool, &ex) < 0)
				return -1;
			nsft++;
		}
	}
	if (finish_batch(t, &a->batch, mb) < 0)
		return -1;
	for (size_t i = 0; i < mb->m; i++)
		a->batch.target_weight[i] *= (os_real)t->p->align.sft;
	return (long)nsft;
}

int align_pass(struct trainer *t, const uint32_t *order, size_t n,
	       double *loss)
{
	const struct align_plan *ap = &t->p->align;
	struct aligner *a = t->align;
	size_t G = (size_t)ap->group, L = t->m.cfg.levels, nex = n * G;
	double share = 1.0 / (double)nex, positive = 0;
	struct os_model_batch mb;
	long nsft;

	memset(&t->aterms, 0, sizeof t->aterms);
	if (draw_groups(t, order, n) < 0)
		return -1;
	for (size_t q = 0; q < n; q++) {
		int any = 0;

		show_feedback(t, &t->d->fq[order[q]], q);
		rewards(t, &t->d->fq[order[q]], q);
		for (size_t i = q * G; i < (q + 1) * G; i++)
			any |= a->reward[i] > 0;
		positive += any;
		os_align_advantages(a->codes + q * G * L, a->reward + q * G, G, L,
				    ap->pos, a->clicked[q] ? a->match + q * G : NULL,
				    ap->gate, a->adv + q * G * L);
	}
	if ((nsft = build_batch(t, order, n, &mb)) < 0)
		return -1;
	nex += (size_t)nsft;
	if (!(a->grad = os_grow(a->grad, &a->grad_cap,
				os_model_logit_count(&t->m.cfg, &mb),
				sizeof *a->grad, 4096)))
		return -1;
	memset(a->grad, 0, os_model_logit_count(&t->m.cfg, &mb) * sizeof *a->grad);
	if (os_model_forward(&a->ref, &mb, 0, 0) < 0)
		return -1;
	t->aterms.sft = os_model_forward(&t->m, &mb, t->p->dropout,
					 t->p->seed * 0x100000001b3ULL +
					     (uint64_t)t->step);
	if (t->aterms.sft < 0)
		return -1;
	for (size_t l = 0; l < L; l++)
		for (size_t i = 0; i < n * G; i++) {
			size_t k, off = os_model_target_offset(&t->m.cfg, &mb,
							       l * nex + i, &k);
			const os_real *z = t->m.a.logits + off;

			t->aterms.policy += os_align_policy(
			    z, k, a->codes[i * L + l], a->adv[i * L + l], share,
			    a->grad + off);
			t->aterms.kl += os_align_kl(z, a->ref.a.logits + off, k,
						    ap->beta * share, a->grad + off);
		}
	mb.logit_grad = a->grad;
	if (os_model_backward(&t->m, &mb) < 0)
		return -1;
	t->aterms.rel *= share;
	t->aterms.beh *= share;
	t->aterms.overlap *= share;
	t->aterms.reward *= share;
	t->aterms.positive = positive / (double)n;
	*loss = t->aterms.policy + t->aterms.kl + t->aterms.sft;
	return 0;
}
