/* SPDX-License-Identifier: MIT */
/* test-nn: every backward pass of the model's kernels, and of the whole
 * model with dropout, against central finite differences. This program is
 * built with OS_NN_DOUBLE, so the kernels run in double and the
 * differences are exact to many digits; the float products (BLAS and the
 * plain kernel) are checked against the naive reference here too, and
 * so are the distillation terms (KL, symmetric KL, focal loss) and the
 * model's two hooks for them: a perturbation of the input embeddings
 * (FGM) and a gradient added to the logits. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/align.h"
#include "lib/distill.h"
#include "lib/matmul.h"
#include "lib/model.h"
#include "lib/nn.h"
#include "lib/prefix.h"
#include "lib/rng.h"
#include "tap.h"

static struct os_rng rng;

static os_real *randoms(size_t n, double scale)
{
	os_real *x = malloc(n * sizeof *x);

	for (size_t i = 0; i < n; i++)
		x[i] = (os_real)(scale * os_rng_normal(&rng));
	return x;
}

static os_real *zeros(size_t n)
{
	return calloc(n, sizeof(os_real));
}

/* sum(out * r): a loss whose gradient with respect to out is r. */
static double dot(const os_real *out, const os_real *r, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += out[i] * r[i];
	return s;
}

/* The largest difference between the analytic gradient `grad` of x and
 * central differences of loss(), relative to the largest gradient value
 * (tiny entries carry the differences' rounding noise, about 1e-10). */
static double worst_error(os_real *x, const os_real *grad, size_t n,
			  double (*loss)(void))
{
	double worst = 0, h = 1e-6, scale = 1e-12;

	for (size_t i = 0; i < n; i++)
		scale = fmax(scale, fabs(grad[i]));
	for (size_t i = 0; i < n; i++) {
		os_real keep = x[i];
		double up, down;

		x[i] = keep + h;
		up = loss();
		x[i] = keep - h;
		down = loss();
		x[i] = keep;
		worst = fmax(worst, fabs((up - down) / (2 * h) - grad[i]) / scale);
	}
	return worst;
}

static void check(const char *what, double err)
{
	char name[128];

	snprintf(name, sizeof name, "%s backward agrees with finite differences", what);
	printf("# %s: largest relative difference %.3g\n", what, err);
	ok(err < 1e-6, name);
}

/* Two sequences packed: tokens 0..3 and 4..8. */
enum { N = 9, C = 8, NH = 2, T = 6, IC = 5, OC = 7 };
static const uint32_t seg[N] = {0, 0, 0, 0, 4, 4, 4, 4, 4};

static os_real *inp, *w, *bias, *r, *out, *aux1, *aux2;

static double layernorm_loss(void)
{
	os_nn_layernorm_forward(out, aux1, aux2, inp, w, bias, N, C);
	return dot(out, r, N * C);
}

static void test_layernorm(void)
{
	os_real *dinp = zeros(N * C), *dw = zeros(C), *db = zeros(C);

	inp = randoms(N * C, 1);
	w = randoms(C, 1);
	bias = randoms(C, 1);
	r = randoms(N * C, 1);
	out = zeros(N * C);
	aux1 = zeros(N);
	aux2 = zeros(N);
	layernorm_loss();
	os_nn_layernorm_backward(dinp, dw, db, r, inp, w, aux1, aux2, N, C);
	check("layernorm input", worst_error(inp, dinp, N * C, layernorm_loss));
	check("layernorm weight", worst_error(w, dw, C, layernorm_loss));
	check("layernorm bias", worst_error(bias, db, C, layernorm_loss));
	free(dinp), free(dw), free(db), free(inp), free(w), free(bias), free(r);
	free(out), free(aux1), free(aux2);
}

static double linear_loss(void)
{
	os_nn_linear_forward(out, inp, w, bias, N, IC, OC);
	return dot(out, r, N * OC);
}

static void test_linear(void)
{
	os_real *dinp = zeros(N * IC), *dw = zeros(OC * IC), *db = zeros(OC);

	inp = randoms(N * IC, 1);
	w = randoms(OC * IC, 1);
	bias = randoms(OC, 1);
	r = randoms(N * OC, 1);
	out = zeros(N * OC);
	os_nn_linear_backward(dinp, dw, db, r, inp, w, N, IC, OC);
	check("linear input", worst_error(inp, dinp, N * IC, linear_loss));
	check("linear weight", worst_error(w, dw, OC * IC, linear_loss));
	check("linear bias", worst_error(bias, db, OC, linear_loss));
	free(dinp), free(dw), free(db), free(inp), free(w), free(bias), free(r);
	free(out);
}

static double attention_loss(void)
{
	os_nn_attention_forward(out, aux1, inp, seg, N, C, NH, T);
	return dot(out, r, N * C);
}

static void test_attention(void)
{
	os_real *dqkv = zeros(N * 3 * C);
	int causal = 1;

	inp = randoms(N * 3 * C, 1);
	r = randoms(N * C, 1);
	out = zeros(N * C);
	aux1 = zeros(N * NH * T);
	attention_loss();
	os_nn_attention_backward(dqkv, r, inp, aux1, seg, N, C, NH, T);
	check("attention", worst_error(inp, dqkv, N * 3 * C, attention_loss));
	/* token 5 must not see tokens 6.. nor the first sequence */
	for (size_t i = 0; i < N; i++)
		for (size_t h = 0; h < NH; h++)
			for (size_t j = 0; j < T; j++)
				if (aux1[(i * NH + h) * T + j] != 0 && j > i - seg[i])
					causal = 0;
	ok(causal, "attention sees only earlier tokens of its own sequence");
	free(dqkv), free(inp), free(r), free(out), free(aux1);
}

static double gelu_loss(void)
{
	os_nn_gelu_forward(out, inp, N * C);
	return dot(out, r, N * C);
}

static void test_gelu(void)
{
	os_real *dinp = zeros(N * C);

	inp = randoms(N * C, 2);
	r = randoms(N * C, 1);
	out = zeros(N * C);
	os_nn_gelu_backward(dinp, inp, r, N * C);
	check("gelu", worst_error(inp, dinp, N * C, gelu_loss));
	free(dinp), free(inp), free(r), free(out);
}

static uint32_t *targets;

static double xent_loss(void)
{
	double s = 0;

	os_nn_softmax_xent_forward(aux1, aux2, inp, targets, N, OC);
	for (size_t i = 0; i < N; i++)
		s += r[i] * aux1[i];
	return s;
}

static void test_softmax_xent(void)
{
	os_real *dlogits = zeros(N * OC);
	uint32_t t[N];

	for (size_t i = 0; i < N; i++)
		t[i] = (uint32_t)(i * 3 % OC);
	targets = t;
	inp = randoms(N * OC, 2);
	r = randoms(N, 1);
	aux1 = zeros(N);
	aux2 = zeros(N * OC);
	xent_loss();
	os_nn_softmax_xent_backward(dlogits, r, aux2, targets, N, OC);
	check("softmax cross-entropy", worst_error(inp, dlogits, N * OC, xent_loss));
	free(dlogits), free(inp), free(r), free(aux1), free(aux2);
}

static const uint32_t ids[N] = {0, 2, 3, 1, 0, 4, 5, 6, 1};
static const uint32_t pos[N] = {0, 1, 2, 3, 0, 1, 2, 3, 4};
static const uint32_t ngram_off[N + 1] = {0, 0, 2, 5, 5, 5, 6, 6, 8, 8};
static const uint32_t ngram[8] = {0, 1, 2, 1, 3, 2, 0, 3};
static os_real *wte, *wpe, *wng;

static double embed_loss(void)
{
	os_nn_embed_forward(out, ids, pos, ngram_off, ngram, wte, wpe, wng, N, C);
	return dot(out, r, N * C);
}

static void test_embed(void)
{
	os_real *dte = zeros(7 * C), *dpe = zeros(T * C), *dng = zeros(4 * C);

	wte = randoms(7 * C, 1);
	wpe = randoms(T * C, 1);
	wng = randoms(4 * C, 1);
	r = randoms(N * C, 1);
	out = zeros(N * C);
	os_nn_embed_backward(dte, dpe, dng, r, ids, pos, ngram_off, ngram, N, C);
	check("embedding words", worst_error(wte, dte, 7 * C, embed_loss));
	check("embedding positions", worst_error(wpe, dpe, T * C, embed_loss));
	check("embedding n-grams", worst_error(wng, dng, 4 * C, embed_loss));
	free(dte), free(dpe), free(dng), free(wte), free(wpe), free(wng), free(r);
	free(out);
}

/* The whole model: two sequences "BOS w w SEP s1 s2", three levels. */
/* The distillation terms on logits of OC codes: zs (or z1) is `inp`,
 * zt (or z2) is aux1. */
static double distill_tau;
static uint32_t focal_code;

static double kl_loss(void)
{
	os_real d[OC] = {0};

	return os_distill_kl(aux1, inp, OC, distill_tau, 0.7, d);
}

static double sym_kl_loss(void)
{
	os_real d1[OC] = {0}, d2[OC] = {0};

	return os_distill_sym_kl(inp, aux1, OC, 0.5, d1, d2);
}

static double focal_loss(void)
{
	os_real d[OC] = {0};

	return os_distill_focal(inp, OC, focal_code, 2, 3, 0.8, d);
}

static void test_distill_terms(void)
{
	os_real d1[OC] = {0}, d2[OC] = {0}, same[OC];
	os_real g[N * C], delta[N * C];
	double norm[2] = {0, 0};
	char name[64];

	inp = randoms(OC, 2);
	aux1 = randoms(OC, 2);
	for (int i = 0; i < 2; i++) {
		distill_tau = i ? 2.0 : 1.0;
		memset(d1, 0, sizeof d1);
		os_distill_kl(aux1, inp, OC, distill_tau, 0.7, d1);
		snprintf(name, sizeof name, "KL(teacher || student), tau %g",
			 distill_tau);
		check(name, worst_error(inp, d1, OC, kl_loss));
	}
	memset(d1, 0, sizeof d1);
	os_distill_sym_kl(inp, aux1, OC, 0.5, d1, d2);
	check("symmetric KL (first pass)", worst_error(inp, d1, OC, sym_kl_loss));
	check("symmetric KL (second pass)",
	      worst_error(aux1, d2, OC, sym_kl_loss));
	memcpy(same, inp, sizeof same);
	memset(d1, 0, sizeof d1);
	ok(fabs(os_distill_sym_kl(inp, same, OC, 1, d1, d2)) < 1e-15 &&
		   fabs(os_distill_kl(inp, same, OC, 1, 1, d1)) < 1e-15,
	   "KL of a distribution with itself is 0");
	for (uint32_t y = 0; y < 2; y++) {
		focal_code = y * 3;
		memset(d1, 0, sizeof d1);
		os_distill_focal(inp, OC, focal_code, 2, 3, 0.8, d1);
		snprintf(name, sizeof name, "focal loss (code %u)", focal_code);
		check(name, worst_error(inp, d1, OC, focal_loss));
	}
	free(inp), free(aux1);
	/* FGM: each sequence's perturbation has norm eps */
	for (size_t i = 0; i < N * C; i++)
		g[i] = (os_real)os_rng_normal(&rng);
	os_distill_fgm_delta(delta, g, seg, N, C, 0.6);
	for (size_t i = 0; i < N * C; i++)
		norm[i >= 4 * C] += delta[i] * delta[i];
	ok(fabs(sqrt(norm[0]) - 0.6) < 1e-12 && fabs(sqrt(norm[1]) - 0.6) < 1e-12 &&
		   delta[5] / g[5] > 0 && fabs(delta[5] / g[5] - delta[7] / g[7]) < 1e-12,
	   "FGM moves each sequence by eps along its gradient");
}

/* TPMA-GRPO's terms on logits of OC codes: the policy's are `inp`, the
 * reference's aux1. */
static double align_adv;

static double policy_loss(void)
{
	os_real d[OC] = {0};

	return os_align_policy(inp, OC, 2, align_adv, 0.9, d);
}

static double align_kl_loss(void)
{
	os_real d[OC] = {0};

	return os_align_kl(inp, aux1, OC, 0.3, d);
}

static void test_align_terms(void)
{
	os_real d[OC] = {0}, same[OC];
	char name[64];

	inp = randoms(OC, 2);
	aux1 = randoms(OC, 2);
	for (int i = 0; i < 2; i++) {
		align_adv = i ? -1.7 : 0.6;
		memset(d, 0, sizeof d);
		os_align_policy(inp, OC, 2, align_adv, 0.9, d);
		snprintf(name, sizeof name, "policy term, advantage %g", align_adv);
		check(name, worst_error(inp, d, OC, policy_loss));
	}
	memset(d, 0, sizeof d);
	os_align_kl(inp, aux1, OC, 0.3, d);
	check("KL(policy || reference)", worst_error(inp, d, OC, align_kl_loss));
	memcpy(same, inp, sizeof same);
	memset(d, 0, sizeof d);
	ok(fabs(os_align_kl(inp, same, OC, 1, d)) < 1e-15 && fabs(d[0]) < 1e-15,
	   "KL of the policy to itself is 0, and so is its gradient");
	free(inp), free(aux1);
}

/* A group worked by hand: four samples of three codes, rewards 4, 2, 0, 2.
 * Position 0: prefixes (0) and (1) are worth 3 and 1 against 2 for all:
 * differences +1 +1 -1 -1, spread 1, weight 2. Position 1: each prefix is
 * its sample's reward against 3, 3, 1, 1: +1 -1 -1 +1, spread 1, weight
 * 1; C and D follow no clicked SID past their first code, so gate 0.5.
 * Position 2 adds nothing (and weighs 0). */
static void test_align_advantages(void)
{
	static const uint32_t codes[4 * 3] = {0, 1, 0, 0, 2, 0, 1, 0, 0, 1, 2, 0};
	static const double reward[4] = {4, 2, 0, 2};
	static const size_t match[4] = {3, 1, 0, 0};
	static const double want[4 * 3] = {2, 1, 0, 2, -1, 0, -2, -0.5, 0, -2, 0.5, 0};
	static const double want5[5] = {2, 2, 1, 1, 0}, want4[4] = {2, 2, 1, 0};
	double adv[4 * 3], worst = 0;
	static const double base[5] = OS_ALIGN_POSITION_WEIGHTS;
	int weights = os_align_position_weight(base, 0, 1) == 2;

	os_align_advantages(codes, reward, 4, 3, base, match, 0.5, adv);
	for (size_t i = 0; i < 12; i++)
		worst = fmax(worst, fabs(adv[i] - want[i]));
	ok(worst < 1e-12, "the advantages of a group are the hand-computed ones");
	for (size_t t = 0; t < 5; t++)
		weights &= os_align_position_weight(base, t, 5) == want5[t];
	for (size_t t = 0; t < 4; t++)
		weights &= os_align_position_weight(base, t, 4) == want4[t];
	ok(weights, "position weights [2,2,1,1,0], scaled to 4 codes [2,2,1,0]");
	os_align_advantages(codes, (const double[4]){1, 1, 1, 1}, 4, 3, base, NULL,
			    0.5, adv);
	worst = 0;
	for (size_t i = 0; i < 12; i++)
		worst = fmax(worst, fabs(adv[i]));
	ok(worst == 0, "equal rewards give no advantage");
}

/* os_distill_logit_terms on a batch of 2 students, their second pass
 * and 1 teacher (of student 1), 2 levels of 3 and 4 codes: the gradient
 * of KD + R-Drop + focal wrt every student logit against finite
 * differences, none into the teacher's, and the cross-entropies as the
 * means they are. */
static struct os_model terms_model;
static struct os_model_batch terms_batch;
static const uint32_t teacher_of[1] = {1};
static const struct os_distill_layout terms_layout = {
	.students = 2, .teachers = 1, .second = 1, .teacher_of = teacher_of};
static const struct os_distill_weights terms_weights = {
	.kd = 0.3, .tau = 1.5, .rdrop = 0.7, .focal_alpha = 2,
	.focal_gamma = 3, .focal = 1};

static double terms_loss(void)
{
	os_real grad[35];
	struct os_distill_terms t;

	os_distill_logit_terms(&terms_model, &terms_batch, &terms_layout,
			       &terms_weights, grad, &t);
	return t.kd + t.rdrop + t.focal;
}

static void test_distill_batch(void)
{
	static const uint32_t codes[10] = {0, 1, 2, 0, 1, 3, 2, 1, 0, 3};
	os_real losses[10], grad[35], weights[10];
	struct os_distill_terms t;
	double worst = 0, teacher_grad = 0, h = 1e-6, scale = 1e-12;

	terms_model.cfg = (struct os_model_config){.levels = 2, .codes = {3, 4}};
	terms_model.a.logits = randoms(35, 1.5);
	terms_model.a.losses = losses;
	for (size_t i = 0; i < 10; i++)
		losses[i] = (os_real)(0.1 * (double)(i + 1));
	terms_batch = (struct os_model_batch){.m = 10, .target_code = codes,
					      .level_targets = {5, 5}};
	os_distill_logit_terms(&terms_model, &terms_batch, &terms_layout,
			       &terms_weights, grad, &t);
	/* examples 0,1 students, 2,3 their second pass, 4 the teacher;
	 * targets level-major: losses 0.1..0.5 level 0, 0.6..1.0 level 1 */
	ok(fabs(t.ce_student - (0.1 + 0.2 + 0.3 + 0.4 + 0.6 + 0.7 + 0.8 + 0.9) / 4) < 1e-6 &&
		   fabs(t.ce_teacher - (0.5 + 1.0)) < 1e-6,
	   "CE(student) is the mean over both passes, CE(teacher) over teachers");
	for (size_t i = 0; i < 35; i++)
		scale = fmax(scale, fabs(grad[i]));
	for (size_t e = 0; e < 5; e++)
		for (size_t l = 0; l < 2; l++) {
			size_t k, o = os_model_target_offset(&terms_model.cfg,
							     &terms_batch, l * 5 + e, &k);

			for (size_t j = o; j < o + k; j++) {
				os_real keep = terms_model.a.logits[j];
				double up, down, fd;

				if (e == 4) { /* the teacher: no gradient */
					teacher_grad = fmax(teacher_grad, fabs(grad[j]));
					continue;
				}
				terms_model.a.logits[j] = keep + h;
				up = terms_loss();
				terms_model.a.logits[j] = keep - h;
				down = terms_loss();
				terms_model.a.logits[j] = keep;
				fd = (up - down) / (2 * h);
				worst = fmax(worst, fabs(fd - grad[j]) / scale);
			}
		}
	check("KD + R-Drop + focal over a packed batch", worst);
	ok(teacher_grad == 0, "no gradient flows into the teacher's logits");
	os_distill_set_weights(weights, &terms_model.cfg, &terms_layout,
			       &(struct os_distill_weights){.kd = 0.1});
	ok(weights[0] == (os_real)0.25 && weights[3] == (os_real)0.25 &&
		   weights[4] == 1 && weights[5 + 2] == (os_real)0.25 &&
		   weights[5 + 4] == 1,
	   "CE weights: 1/4 a student pass, 1 a teacher, at every level");
	os_distill_set_weights(weights, &terms_model.cfg, &terms_layout,
			       &terms_weights);
	ok(weights[0] == 0 && weights[4] == 1,
	   "the focal loss takes the students' cross-entropy's place");
	free(terms_model.a.logits);
}

static struct os_model model;
static struct os_model_batch batch;
static double model_dropout;

/* The model's loss, plus sum(logits * logit_grad) when the batch has one:
 * the objective whose gradient backward computes. */
static double model_loss(void)
{
	double loss = os_model_forward(&model, &batch, model_dropout, 11);

	/* a masked logit is a constant: left out, lest it swamp the sum */
	if (batch.logit_grad)
		for (size_t i = 0; i < os_model_logit_count(&model.cfg, &batch);
		     i++)
			if (model.a.logits[i] != OS_MODEL_MASKED)
				loss += (double)model.a.logits[i] *
					batch.logit_grad[i];
	return loss;
}

/* The whole model's gradient; `hooks`: with moved embeddings and an
 * added logit gradient; `masked`: each target's softmax over some of its
 * codes (the trie's constraint); `prefix`: with prefix vectors for some of
 * the allowed codes' nodes, some rows shared by two targets (2: and item
 * vectors, whose fixed means get no gradient). */
static void test_model(double dropout, int hooks, int masked, int prefix)
{
	struct os_model_config cfg = {.words = 5, .buckets = 4, .levels = 3,
				      .codes = {3, 4, 2}, .dim = 8, .layers = 2,
				      .heads = 2, .ff = 12, .context = 8};
	static uint32_t mids[12], mpos[12], mseg[12], off[13], grams[4] = {1, 3, 0, 2};
	static uint32_t at[6] = {3, 9, 4, 10, 5, 11}, code[6] = {2, 0, 1, 3, 1, 0};
	static os_real weight[6];
	/* allowed codes, each list sorted and holding its target's code */
	static const uint32_t allow_code[12] = {0, 2, 0, 1, 2, 1, 3, 3, 0, 1, 0, 1};
	static const uint32_t allow_first[6] = {0, 2, 5, 7, 8, 10};
	static const uint32_t allow_count[6] = {2, 3, 2, 1, 2, 2};
	static const uint32_t node_row[12] = {
		OS_PREFIX_NONE, 0, 1, OS_PREFIX_NONE, 2, 3, 0, OS_PREFIX_NONE,
		1, 2, 3, OS_PREFIX_NONE};
	char name[160];
	double err;

	cfg.prefix_rows = prefix ? 4 : 0;
	cfg.item_dim = prefix == 2 ? 3 : 0;
	os_model_init(&model, &cfg, 5);
	if (prefix) {
		/* away from their start at 0, so their own gradient shows
		 * in the others' */
		os_real *v = randoms(4 * cfg.dim, 0.5);

		memcpy(model.w.nodew, v, 4 * cfg.dim * sizeof *v);
		free(v);
	}
	if (prefix == 2) {
		os_real *p = randoms(3 * cfg.dim, 0.5), *v = randoms(4 * 3, 1);

		memcpy(model.w.nodeproj, p, 3 * cfg.dim * sizeof *p);
		memcpy(model.w.nodevec, v, 4 * 3 * sizeof *v);
		free(p);
		free(v);
	}
	for (size_t s = 0; s < 2; s++) {
		size_t b = 6 * s;

		mids[b] = OS_MODEL_BOS;
		mids[b + 1] = os_model_word_row(&cfg, 1 + (long)s);
		mids[b + 2] = os_model_word_row(&cfg, 9); /* unknown */
		mids[b + 3] = OS_MODEL_SEP;
		mids[b + 4] = (uint32_t)(os_model_sid_row(&cfg, 0) + code[s]);
		mids[b + 5] = (uint32_t)(os_model_sid_row(&cfg, 1) + code[2 + s]);
		for (size_t i = 0; i < 6; i++) {
			mpos[b + i] = (uint32_t)i;
			mseg[b + i] = (uint32_t)b;
		}
	}
	for (size_t i = 0; i < 12; i++)
		off[i + 1] = off[i] + (i == 1 || i == 7 ? 2 : 0);
	for (size_t i = 0; i < 6; i++)
		weight[i] = (os_real)(0.1 + 0.05 * (double)i);
	batch = (struct os_model_batch){.n = 12, .ids = mids, .pos = mpos,
					.seg = mseg, .ngram_off = off,
					.ngram = grams, .m = 6, .target_at = at,
					.target_code = code,
					.target_weight = weight,
					.level_targets = {2, 2, 2}};
	model_dropout = dropout;
	if (masked || prefix) {
		batch.allow_first = allow_first;
		batch.allow_count = allow_count;
		batch.allow_code = allow_code;
		batch.masked = masked;
		batch.node_row = prefix ? node_row : NULL;
	}
	if (hooks) {
		batch.embed_delta = randoms(12 * cfg.dim, 0.3);
		batch.logit_grad =
			randoms(os_model_logit_count(&cfg, &batch), 0.5);
	}
	model_loss();
	os_model_backward(&model, &batch);
	/* nodevec, fixed, is the last tensor */
	err = worst_error(model.params, model.grads,
			  model.nparams - cfg.prefix_rows * cfg.item_dim,
			  model_loss);
	snprintf(name, sizeof name, "whole model (dropout %g%s%s%s)", dropout,
		 hooks ? ", embeddings moved, logit gradient added" : "",
		 masked ? ", softmaxes over allowed codes" : "",
		 prefix == 2 ? ", prefix and item vectors"
		 : prefix    ? ", prefix vectors"
			     : "");
	check(name, err);
	if (prefix == 2) {
		double moved = 0;

		for (size_t i = 0; i < 4 * 3; i++)
			moved = fmax(moved, fabs((double)model.g.nodevec[i]));
		ok(moved == 0, "the item vectors' means get no gradient");
	}
	if (masked) {
		/* target 0 (codes 0 and 2 of 3) and target 3 (code 3 alone) */
		const os_real *p0 = model.a.probs, *p3 = model.a.probs + 2 * 3 + 4;

		ok(p0[1] == 0 && fabs((double)p0[0] + p0[2] - 1) < 1e-6 &&
		       p3[3] == 1 && model.a.losses[3] == 0,
		   "a code left out has probability 0; a lone allowed code 1");
	}
	batch.allow_first = batch.allow_count = batch.allow_code = NULL;
	batch.node_row = NULL;
	batch.masked = 0;
	if (hooks) {
		size_t codes, at3 = os_model_target_offset(&cfg, &batch, 3, &codes);

		ok(at3 == 2 * 3 + 1 * 4 && codes == 4,
		   "target 3 (level 1, second) has its logits after level 0's");
		free((void *)batch.embed_delta);
		free((void *)batch.logit_grad);
		batch.embed_delta = batch.logit_grad = NULL;
	}
	os_model_release(&model);
}

static const enum os_tensor_kind kind[] = {
#define KIND(name, rows, cols, tensor_kind) tensor_kind,
    OS_MODEL_PARAMS(KIND)
#undef KIND
};

/* One AdamW step of every parameter, element by element: the reference
 * for os_model_adamw() (m, v: the moments; g: the raw gradients). */
static void naive_adamw(os_real *p, os_real *m, os_real *v, const os_real *g,
			double scale, const struct os_adamw *o, long step)
{
	double c1 = 1 - pow(o->beta1, (double)step);
	double c2 = 1 - pow(o->beta2, (double)step);

	for (size_t i = 0; i < os_model_tensor_count(); i++) {
		size_t rows, cols, at;

		at = (size_t)(os_model_tensor(&model, model.params, i, &rows,
					      &cols) -
			      model.params);
		if (kind[i] == OS_TENSOR_FIXED)
			continue;
		for (size_t j = at; j < at + rows * cols; j++) {
			double gj = g[j] * scale;

			m[j] = o->beta1 * m[j] + (1 - o->beta1) * gj;
			v[j] = o->beta2 * v[j] + (1 - o->beta2) * gj * gj;
			m[j] = fabs(m[j]) < OS_REAL_MIN ? 0 : m[j];
			v[j] = v[j] < OS_REAL_MIN ? 0 : v[j];
			p[j] -=
			    o->lr * (m[j] / c1 / (sqrt(v[j] / c2) + o->eps) +
				     (kind[i] == OS_TENSOR_DECAYED
					  ? o->weight_decay * p[j]
					  : 0));
		}
	}
}

/* A short training run on the batch of test_model(): every step's gradient
 * norm and AdamW update (clipped to norm 1) match the naive ones, the
 * gradients are zero after each step, and the loss falls. */
static void test_training(void)
{
	struct os_model_config cfg = {.words = 5, .buckets = 4, .levels = 3,
				      .codes = {3, 4, 2}, .dim = 8, .layers = 2,
				      .heads = 2, .ff = 12, .context = 8};
	struct os_adamw opt = {.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999,
			       .eps = 1e-8, .weight_decay = 0.01};
	double first, last = 0, norm_error = 0, step_error = 0, left = 0;
	os_real *p, *m, *v, *g;
	size_t n;

	os_model_init(&model, &cfg, 5);
	n = model.nparams;
	p = malloc(n * sizeof *p);
	g = malloc(n * sizeof *g);
	m = zeros(n);
	v = zeros(n);
	first = os_model_forward(&model, &batch, 0, 1);
	for (int step = 0; step < 50; step++) {
		double norm, naive_norm = 0;

		last = os_model_forward(&model, &batch, 0.1, (uint64_t)step);
		os_model_backward(&model, &batch);
		memcpy(p, model.params, n * sizeof *p);
		memcpy(g, model.grads, n * sizeof *g);
		for (size_t j = 0; j < n; j++)
			naive_norm += g[j] * g[j];
		naive_norm = sqrt(naive_norm);
		norm = os_model_grad_norm(&model);
		norm_error = fmax(norm_error, fabs(norm - naive_norm) / naive_norm);
		os_model_adamw(&model, &opt, norm > 1 ? (os_real)(1 / norm) : 1);
		naive_adamw(p, m, v, g, naive_norm > 1 ? 1 / naive_norm : 1, &opt,
			    opt.step);
		for (size_t j = 0; j < n; j++) {
			step_error = fmax(step_error, fabs(model.params[j] - p[j]));
			left = fmax(left, fabs(model.grads[j]));
		}
	}
	printf("# largest differences: norm %.2g, parameters %.2g\n", norm_error,
	       step_error);
	ok(norm_error < 1e-12, "gradient norm = the naive one");
	ok(step_error < 1e-12, "AdamW steps = the naive ones");
	ok(left == 0, "AdamW leaves the gradients zero");
	model.adam_m[0] = -OS_REAL_MIN;
	model.adam_v[0] = OS_REAL_MIN;
	model.adam_m[1] = 2 * OS_REAL_MIN;
	os_model_adamw(&model, &opt, 1);
	ok(model.adam_m[0] == 0 && model.adam_v[0] == 0 &&
		   model.adam_m[1] == (os_real)(opt.beta1 * 2 * OS_REAL_MIN),
	   "a moment below the normal numbers becomes zero, not above");
	last = os_model_forward(&model, &batch, 0, 1);
	printf("# loss %g -> %g\n", first, last);
	ok(last < first * 0.2, "fifty AdamW steps fit the toy batch");
	os_model_release(&model);
	free(p);
	free(g);
	free(m);
	free(v);
}

/* BLAS (or the plain kernel) against the naive product, all transposes. */
static void test_gemm(void)
{
	enum { M = 37, K = 29, NN = 41 };
	float a[M * K], b[K * NN], c1[M * NN], c2[M * NN];
	double worst = 0;

	for (size_t i = 0; i < M * K; i++)
		a[i] = (float)os_rng_normal(&rng);
	for (size_t i = 0; i < K * NN; i++)
		b[i] = (float)os_rng_normal(&rng);
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++) {
			size_t lda = ta ? M : K, ldb = tb ? K : NN;

			for (size_t i = 0; i < M * NN; i++)
				c1[i] = c2[i] = (float)i * 0.01f;
			os_gemm(ta, tb, M, NN, K, 0.5f, a, lda, b, ldb, 1.0f, c1, NN);
			os_gemm_naive(ta, tb, M, NN, K, 0.5f, a, lda, b, ldb, 1.0f, c2, NN);
			for (size_t i = 0; i < M * NN; i++)
				worst = fmax(worst, fabs((double)c1[i] - c2[i]));
		}
	printf("# largest difference %g (%s)\n", worst, os_matmul_backend());
	ok(worst < 1e-4, "os_gemm agrees with the naive product for every transpose");
}

/* The float tanh of GELU against libm's, over and beyond its range. */
static void test_tanhf(void)
{
	double worst = 0;

	for (int i = -200000; i <= 200000; i++) {
		float x = (float)i * 5e-5f;

		worst = fmax(worst, fabs((double)os_nn_tanhf(x) - tanh((double)x)));
	}
	worst = fmax(worst, fabs((double)os_nn_tanhf(40) - 1));
	worst = fmax(worst, fabs((double)os_nn_tanhf(-40) + 1));
	printf("# largest tanh difference %g\n", worst);
	ok(worst < 1e-6, "os_nn_tanhf agrees with tanh to float precision");
}

static void test_schedule(void)
{
	ok(fabs(os_lr_schedule(1, 0, 10, 100, 0.1) - 0.1) < 1e-12,
	   "warmup starts at peak / warmup");
	ok(fabs(os_lr_schedule(1, 9, 10, 100, 0.1) - 1) < 1e-12,
	   "warmup ends at the peak");
	ok(fabs(os_lr_schedule(1, 55, 10, 100, 0.1) - 0.55) < 1e-12,
	   "halfway through the decay: the middle of peak and floor");
	ok(fabs(os_lr_schedule(1, 100, 10, 100, 0.1) - 0.1) < 1e-12,
	   "the decay ends at the floor");
}

int main(void)
{
	os_rng_seed(&rng, 42);
	test_layernorm();
	test_linear();
	test_attention();
	test_gelu();
	test_softmax_xent();
	test_embed();
	test_distill_terms();
	test_distill_batch();
	test_align_terms();
	test_align_advantages();
	test_model(0, 0, 0, 0);
	test_model(0.25, 0, 0, 0);
	test_model(0, 0, 1, 0);
	test_model(0.25, 1, 0, 0);
	test_model(0.25, 1, 1, 0);
	test_model(0, 0, 0, 1);
	test_model(0.25, 1, 1, 1);
	test_model(0.25, 1, 1, 2);
	test_training();
	test_gemm();
	test_tanhf();
	test_schedule();
	return tap_done();
}
