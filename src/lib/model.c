/* SPDX-License-Identifier: MIT */
/* model.c: the SID generator's parameters, forward and backward passes and
 * optimizer (see model.h). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "prefix.h"
#include "rng.h"

#ifdef OS_NN_DOUBLE
#define SQRT(x) sqrt(x)
#define FABS(x) fabs(x)
#else
#define SQRT(x) sqrtf(x)
#define FABS(x) fabsf(x)
#endif

size_t os_model_input_rows(const struct os_model_config *cfg)
{
	return OS_MODEL_SPECIALS + cfg->words + os_model_output_rows(cfg);
}

size_t os_model_output_rows(const struct os_model_config *cfg)
{
	size_t rows = 0;

	for (size_t l = 0; l < cfg->levels; l++)
		rows += cfg->codes[l];
	return rows;
}

size_t os_model_code_offset(const struct os_model_config *cfg, size_t level)
{
	size_t off = 0;

	for (size_t l = 0; l < level; l++)
		off += cfg->codes[l];
	return off;
}

size_t os_model_sid_row(const struct os_model_config *cfg, size_t level)
{
	return OS_MODEL_SPECIALS + cfg->words + os_model_code_offset(cfg, level);
}

uint32_t os_model_word_row(const struct os_model_config *cfg, long word_id)
{
	if (word_id < 0 || (size_t)word_id >= cfg->words)
		word_id = 0;
	return (uint32_t)(OS_MODEL_SPECIALS + (size_t)word_id);
}

const char *os_model_config_check(const struct os_model_config *cfg)
{
	if (cfg->dim == 0 || cfg->layers == 0 || cfg->heads == 0 || cfg->ff == 0)
		return "dim, layers, heads and ff must be positive";
	if (cfg->dim % cfg->heads)
		return "dim must be a multiple of heads";
	if (cfg->context < 2 || cfg->context > OS_NN_MAX_CONTEXT)
		return "context must be between 2 and 1024";
	if (cfg->levels == 0 || cfg->levels > OS_MODEL_MAX_LEVELS)
		return "a SID must have 1 to 8 levels";
	if (cfg->levels + 2 > cfg->context)
		return "context too short for a SID";
	for (size_t l = 0; l < cfg->levels; l++)
		if (cfg->codes[l] == 0)
			return "every SID level needs codes";
	if (cfg->words == 0 || cfg->buckets == 0)
		return "words and buckets must be positive";
	if (cfg->user_history > OS_USER_HISTORY_MAX)
		return "user_history must be at most 64";
	if (cfg->item_dim && !cfg->prefix_rows)
		return "item vectors need prefix vectors";
	return NULL;
}

/* The sizes of the parameter tensors, in table order. */
static size_t tensor_size(const struct os_model_config *cfg, size_t i,
			  size_t *rows, size_t *cols)
{
	size_t r[] = {
#define OS_MODEL_ROWS(name, nrows, ncols, kind) (nrows),
		OS_MODEL_PARAMS(OS_MODEL_ROWS)
#undef OS_MODEL_ROWS
	};
	size_t c[] = {
#define OS_MODEL_COLS(name, nrows, ncols, kind) (ncols),
		OS_MODEL_PARAMS(OS_MODEL_COLS)
#undef OS_MODEL_COLS
	};

	*rows = r[i];
	*cols = c[i];
	return r[i] * c[i];
}

static const char *const tensor_names[] = {
#define OS_MODEL_NAME(name, rows, cols, kind) #name,
	OS_MODEL_PARAMS(OS_MODEL_NAME)
#undef OS_MODEL_NAME
};

static const enum os_tensor_kind tensor_kind[] = {
#define OS_MODEL_KIND(name, rows, cols, kind) kind,
	OS_MODEL_PARAMS(OS_MODEL_KIND)
#undef OS_MODEL_KIND
};

size_t os_model_tensor_count(void)
{
	return sizeof tensor_names / sizeof *tensor_names;
}

const char *os_model_tensor_name(size_t i)
{
	return tensor_names[i];
}

int os_model_tensor_trained(size_t i)
{
	return tensor_kind[i] != OS_TENSOR_FIXED;
}

os_real *os_model_tensor(const struct os_model *m, os_real *block, size_t i,
			 size_t *rows, size_t *cols)
{
	size_t off = 0, r, c;

	for (size_t j = 0; j < i; j++)
		off += tensor_size(&m->cfg, j, &r, &c);
	tensor_size(&m->cfg, i, rows, cols);
	return block + off;
}

os_real **os_model_tensor_field(struct os_model_tensors *t, size_t i)
{
	os_real **field[] = {
#define OS_MODEL_PTR(name, rows, cols, kind) &t->name,
		OS_MODEL_PARAMS(OS_MODEL_PTR)
#undef OS_MODEL_PTR
	};

	return field[i];
}

void os_model_tensor_shape(const struct os_model_config *cfg, size_t i,
			   size_t *rows, size_t *cols)
{
	tensor_size(cfg, i, rows, cols);
}

/* Points the named tensors into a block. */
static void point_tensors(const struct os_model_config *cfg,
			  struct os_model_tensors *t, os_real *block)
{
	size_t r, c;

	for (size_t i = 0; i < os_model_tensor_count(); i++) {
		*os_model_tensor_field(t, i) = block;
		block += tensor_size(cfg, i, &r, &c);
	}
}

int os_model_alloc(struct os_model *m, const struct os_model_config *cfg)
{
	size_t r, c;

	memset(m, 0, sizeof *m);
	m->cfg = *cfg;
	for (size_t i = 0; i < os_model_tensor_count(); i++)
		m->nparams += tensor_size(cfg, i, &r, &c);
	m->params = calloc(m->nparams, sizeof *m->params);
	if (!m->params)
		return -1;
	point_tensors(cfg, &m->w, m->params);
	return 0;
}

int os_model_init(struct os_model *m, const struct os_model_config *cfg,
		  uint64_t seed)
{
	struct os_rng rng;
	size_t r, c;
	double proj_std = 0.02 / sqrt(2.0 * (double)cfg->layers);

	if (os_model_alloc(m, cfg) < 0)
		return -1;
	os_rng_seed(&rng, seed);
	for (size_t i = 0; i < os_model_tensor_count(); i++) {
		os_real *t = os_model_tensor(m, m->params, i, &r, &c);
		const char *name = tensor_names[i];
		size_t size = r * c;

		if (!strcmp(name, "ln1w") || !strcmp(name, "ln2w") ||
		    !strcmp(name, "lnfw")) {
			for (size_t j = 0; j < size; j++)
				t[j] = 1;
		} else if ((tensor_kind[i] == OS_TENSOR_DECAYED &&
			    strcmp(name, "nodeproj")) ||
			   !strcmp(name, "wpe")) {
			double std = !strcmp(name, "attprojw") ||
					     !strcmp(name, "fcprojw")
					     ? proj_std
					     : 0.02;

			for (size_t j = 0; j < size; j++)
				t[j] = (os_real)(std * os_rng_normal(&rng));
		}
	}
	return 0;
}

void os_model_release(struct os_model *m)
{
	if (m->release_file)
		m->release_file(m->file);
	free(m->params);
	free(m->prefix_path);
	free(m->grads);
	free(m->adam_m);
	free(m->adam_v);
	free(m->acts);
	free(m->dacts);
	memset(m, 0, sizeof *m);
}

/* Sizes the activation blocks for n tokens, nt targets and k logits. */
static size_t acts_size(const struct os_model_config *cfg,
			struct os_model_acts *a, os_real *block, size_t n,
			size_t m, size_t k)
{
	size_t total = 0;

#define OS_MODEL_ACT(name, size)                                             \
	a->name = block ? block + total : NULL;                              \
	total += (size);
	OS_MODEL_ACTS(OS_MODEL_ACT)
#undef OS_MODEL_ACT
	return total;
}

static size_t batch_logits(const struct os_model_config *cfg,
			   const struct os_model_batch *b)
{
	size_t k = 0;

	for (size_t l = 0; l < cfg->levels; l++)
		k += b->level_targets[l] * cfg->codes[l];
	return k;
}

/* Makes room for a batch in the activations (and, when `grads`, in their
 * gradients). */
static int reserve_acts(struct os_model *m, const struct os_model_batch *b,
			int grads)
{
	size_t k = batch_logits(&m->cfg, b);
	size_t n = b->n > m->acts_n ? b->n : m->acts_n;
	size_t nt = b->m > m->acts_m ? b->m : m->acts_m;

	k = k > m->acts_k ? k : m->acts_k;
	if (n != m->acts_n || nt != m->acts_m || k != m->acts_k) {
		size_t size = acts_size(&m->cfg, &m->a, NULL, n, nt, k);

		free(m->acts);
		free(m->dacts);
		m->dacts = NULL;
		m->acts = malloc(size * sizeof *m->acts);
		if (!m->acts)
			return -1;
		m->acts_n = n;
		m->acts_m = nt;
		m->acts_k = k;
	}
	acts_size(&m->cfg, &m->a, m->acts, m->acts_n, m->acts_m, m->acts_k);
	if (grads) {
		size_t size = acts_size(&m->cfg, &m->da, NULL, m->acts_n,
					m->acts_m, m->acts_k);

		if (!m->dacts && !(m->dacts = malloc(size * sizeof *m->dacts)))
			return -1;
		acts_size(&m->cfg, &m->da, m->dacts, m->acts_n, m->acts_m,
			  m->acts_k);
		memset(m->dacts, 0, size * sizeof *m->dacts);
	}
	return 0;
}

/* Dropout in place at one site of the network (its number makes its
 * mask differ from the other sites' for one seed); the mask is kept for
 * backward. */
static void dropout_site(os_real *x, os_real *mask, size_t n, double p,
			 uint64_t seed, size_t site)
{
	if (p <= 0)
		return;
	os_nn_dropout_mask(mask, n, p, seed * 0x9e3779b97f4a7c15ULL + site);
	os_nn_mul_forward(x, x, mask, n);
}

/* Sets the logits (or their gradients) of targets [t0, t0 + mt) (K codes
 * each) that their allowed codes leave out to `value`. */
static void mask_logits(os_real *logits, const struct os_model_batch *b,
			size_t t0, size_t mt, size_t K, os_real value)
{
	for (size_t i = 0; i < mt; i++) {
		const uint32_t *code = b->allow_code + b->allow_first[t0 + i];
		size_t n = b->allow_count[t0 + i], j = 0;
		os_real *z = logits + i * K;

		for (size_t k = 0; k < K; k++) {
			if (j < n && code[j] == k)
				j++;
			else
				z[k] = value;
		}
	}
}

/* With prefix vectors: adds to the logits of targets [t0, t0 + mt) (K codes
 * each) the product of each target's row of `h` (D values) with row
 * node_row[node] of `table` for each allowed code's node: the normed
 * states with nodew, or the projected states with nodevec. */
static void node_logits_forward(os_real *logits, const os_real *h,
				const os_real *table, size_t D,
				const struct os_model_batch *b, size_t t0,
				size_t mt, size_t K)
{
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < mt; i++)
		os_prefix_add_logits(logits + i * K, K, h + i * D, table, D,
				     b->node_row, b->allow_code,
				     b->allow_first[t0 + i],
				     b->allow_count[t0 + i]);
}

/* The backward of node_logits_forward: adds to the rows' gradient (dh)
 * and, unless gtable is NULL (a fixed table), to the table's (gtable).
 * One thread, since targets share node rows. */
static void node_logits_backward(os_real *dh, os_real *gtable,
				 const os_real *dlogits, const os_real *h,
				 const os_real *table, size_t D,
				 const struct os_model_batch *b, size_t t0,
				 size_t mt, size_t K)
{
	for (size_t i = 0; i < mt; i++) {
		uint32_t first = b->allow_first[t0 + i];
		uint32_t end = first + b->allow_count[t0 + i];

		for (uint32_t node = first; node < end; node++) {
			uint32_t r = b->node_row[node];
			os_real g = dlogits[i * K + b->allow_code[node]];
			const os_real *v;

			if (r == OS_PREFIX_NONE || g == 0)
				continue;
			v = table + (size_t)r * D;
			for (size_t c = 0; c < D; c++)
				dh[i * D + c] += g * v[c];
			if (gtable)
				for (size_t c = 0; c < D; c++)
					gtable[(size_t)r * D + c] +=
					    g * h[i * D + c];
		}
	}
}

double os_model_forward(struct os_model *m, const struct os_model_batch *b,
			double dropout, uint64_t seed)
{
	const struct os_model_config *cfg = &m->cfg;
	const struct os_model_tensors *w = &m->w;
	struct os_model_acts *a = &m->a;
	size_t n = b->n, C = cfg->dim, F = cfg->ff, T = cfg->context;
	size_t nc = n * C, D = cfg->item_dim;
	const os_real *residual;
	double loss = 0;

	if (reserve_acts(m, b, 0) < 0)
		return -1;
	m->dropout = dropout;
	os_nn_embed_forward(a->encoded, b->ids, b->pos, b->ngram_off, b->ngram,
			    w->wte, w->wpe, w->wng, n, C);
	if (b->embed_delta)
		os_nn_residual_forward(a->encoded, a->encoded, b->embed_delta, nc);
	dropout_site(a->encoded, a->emb_mask, nc, dropout, seed, 0);
	residual = a->encoded;
	for (size_t l = 0; l < cfg->layers; l++) {
		os_real *ln1 = a->ln1 + l * nc, *qkv = a->qkv + l * 3 * nc;
		os_real *atty = a->atty + l * nc, *attproj = a->attproj + l * nc;
		os_real *res2 = a->residual2 + l * nc, *ln2 = a->ln2 + l * nc;
		os_real *fch = a->fch + l * n * F, *gelu = a->fch_gelu + l * n * F;
		os_real *fcproj = a->fcproj + l * nc, *res3 = a->residual3 + l * nc;

		os_nn_layernorm_forward(ln1, a->ln1_mean + l * n, a->ln1_rstd + l * n,
					residual, w->ln1w + l * C, w->ln1b + l * C,
					n, C);
		os_nn_linear_forward(qkv, ln1, w->qkvw + l * 3 * C * C,
				     w->qkvb + l * 3 * C, n, C, 3 * C);
		os_nn_attention_forward(atty, a->att + l * n * cfg->heads * T, qkv,
					b->seg, n, C, cfg->heads, T);
		os_nn_linear_forward(attproj, atty, w->attprojw + l * C * C,
				     w->attprojb + l * C, n, C, C);
		dropout_site(attproj, a->att_mask + l * nc, nc, dropout, seed, 1 + 2 * l);
		os_nn_residual_forward(res2, residual, attproj, nc);
		os_nn_layernorm_forward(ln2, a->ln2_mean + l * n, a->ln2_rstd + l * n,
					res2, w->ln2w + l * C, w->ln2b + l * C, n,
					C);
		os_nn_linear_forward(fch, ln2, w->fcw + l * F * C, w->fcb + l * F, n,
				     C, F);
		os_nn_gelu_forward(gelu, fch, n * F);
		os_nn_linear_forward(fcproj, gelu, w->fcprojw + l * C * F,
				     w->fcprojb + l * C, n, F, C);
		dropout_site(fcproj, a->fc_mask + l * nc, nc, dropout, seed, 2 + 2 * l);
		os_nn_residual_forward(res3, res2, fcproj, nc);
		residual = res3;
	}
	/* only the rows that predict a code go through the last norm and the
	 * heads */
	for (size_t t = 0; t < b->m; t++)
		memcpy(a->gathered + t * C, residual + (size_t)b->target_at[t] * C,
		       C * sizeof *a->gathered);
	os_nn_layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, a->gathered,
				w->lnfw, w->lnfb, b->m, C);
	for (size_t l = 0, t0 = 0, k0 = 0; l < cfg->levels; l++) {
		size_t mt = b->level_targets[l], K = cfg->codes[l];
		size_t off = os_model_code_offset(cfg, l);

		if (!mt)
			continue;
		os_nn_linear_forward(a->logits + k0, a->lnf + t0 * C,
				     w->headw + off * C, w->headb + off, mt, C, K);
		if (b->node_row)
			node_logits_forward(a->logits + k0, a->lnf + t0 * C,
					    w->nodew, C, b, t0, mt, K);
		if (b->node_row && D) {
			os_nn_linear_forward(a->projected + t0 * D,
					     a->lnf + t0 * C, w->nodeproj, NULL,
					     mt, C, D);
			node_logits_forward(a->logits + k0,
					    a->projected + t0 * D, w->nodevec,
					    D, b, t0, mt, K);
		}
		if (b->masked)
			mask_logits(a->logits + k0, b, t0, mt, K,
				    OS_MODEL_MASKED);
		os_nn_softmax_xent_forward(a->losses + t0, a->probs + k0,
					   a->logits + k0, b->target_code + t0, mt,
					   K);
		t0 += mt;
		k0 += mt * K;
	}
	for (size_t t = 0; t < b->m; t++)
		loss += (double)b->target_weight[t] * a->losses[t];
	m->loss = loss;
	return loss;
}

size_t os_model_target_offset(const struct os_model_config *cfg,
			      const struct os_model_batch *b, size_t t,
			      size_t *codes)
{
	size_t k0 = 0;

	for (size_t l = 0; l < cfg->levels; l++) {
		size_t mt = b->level_targets[l];

		if (t < mt) {
			*codes = cfg->codes[l];
			return k0 + t * cfg->codes[l];
		}
		t -= mt;
		k0 += mt * cfg->codes[l];
	}
	*codes = 0;
	return k0;
}

size_t os_model_logit_count(const struct os_model_config *cfg,
			    const struct os_model_batch *b)
{
	size_t k = 0;

	for (size_t l = 0; l < cfg->levels; l++)
		k += b->level_targets[l] * cfg->codes[l];
	return k;
}

static int reserve_grads(struct os_model *m)
{
	if (m->grads)
		return 0;
	m->grads = calloc(m->nparams, sizeof *m->grads);
	if (!m->grads)
		return -1;
	point_tensors(&m->cfg, &m->g, m->grads);
	return 0;
}

int os_model_backward(struct os_model *m, const struct os_model_batch *b)
{
	const struct os_model_config *cfg = &m->cfg;
	const struct os_model_tensors *w = &m->w, *g = &m->g;
	struct os_model_acts *a = &m->a, *da = &m->da;
	size_t n = b->n, C = cfg->dim, F = cfg->ff, T = cfg->context;
	size_t nc = n * C, L = cfg->layers, D = cfg->item_dim;
	os_real *dlast;

	if (reserve_grads(m) < 0 || reserve_acts(m, b, 1) < 0)
		return -1;
	for (size_t t = 0; t < b->m; t++)
		da->losses[t] = b->target_weight[t];
	for (size_t l = 0, t0 = 0, k0 = 0; l < cfg->levels; l++) {
		size_t mt = b->level_targets[l], K = cfg->codes[l];
		size_t off = os_model_code_offset(cfg, l);

		if (!mt)
			continue;
		os_nn_softmax_xent_backward(da->logits + k0, da->losses + t0,
					    a->probs + k0, b->target_code + t0, mt,
					    K);
		if (b->logit_grad)
			os_nn_residual_forward(da->logits + k0, da->logits + k0,
					       b->logit_grad + k0, mt * K);
		/* a masked logit is a constant: no gradient flows through it */
		if (b->masked)
			mask_logits(da->logits + k0, b, t0, mt, K, 0);
		if (b->node_row)
			node_logits_backward(da->lnf + t0 * C, g->nodew,
					     da->logits + k0, a->lnf + t0 * C,
					     w->nodew, C, b, t0, mt, K);
		if (b->node_row && D) {
			node_logits_backward(
			    da->projected + t0 * D, NULL, da->logits + k0,
			    a->projected + t0 * D, w->nodevec, D, b, t0, mt, K);
			os_nn_linear_backward(da->lnf + t0 * C, g->nodeproj,
					      NULL, da->projected + t0 * D,
					      a->lnf + t0 * C, w->nodeproj, mt,
					      C, D);
		}
		os_nn_linear_backward(da->lnf + t0 * C, g->headw + off * C,
				      g->headb + off, da->logits + k0,
				      a->lnf + t0 * C, w->headw + off * C, mt, C,
				      K);
		t0 += mt;
		k0 += mt * K;
	}
	os_nn_layernorm_backward(da->gathered, g->lnfw, g->lnfb, da->lnf,
				 a->gathered, w->lnfw, a->lnf_mean, a->lnf_rstd,
				 b->m, C);
	dlast = da->residual3 + (L - 1) * nc;
	for (size_t t = 0; t < b->m; t++) {
		os_real *d = dlast + (size_t)b->target_at[t] * C;
		const os_real *s = da->gathered + t * C;

		for (size_t j = 0; j < C; j++)
			d[j] += s[j];
	}
	for (size_t l = L; l-- > 0;) {
		const os_real *res_in = l ? a->residual3 + (l - 1) * nc : a->encoded;
		os_real *dres_in = l ? da->residual3 + (l - 1) * nc : da->encoded;
		os_real *dres2 = da->residual2 + l * nc, *dfcproj = da->fcproj + l * nc;
		os_real *dgelu = da->fch_gelu + l * n * F, *dfch = da->fch + l * n * F;
		os_real *dln2 = da->ln2 + l * nc, *dattproj = da->attproj + l * nc;
		os_real *datty = da->atty + l * nc, *dqkv = da->qkv + l * 3 * nc;
		os_real *dln1 = da->ln1 + l * nc;

		os_nn_residual_backward(dres2, dfcproj, da->residual3 + l * nc, nc);
		if (m->dropout > 0)
			os_nn_mul_forward(dfcproj, dfcproj, a->fc_mask + l * nc, nc);
		os_nn_linear_backward(dgelu, g->fcprojw + l * C * F,
				      g->fcprojb + l * C, dfcproj,
				      a->fch_gelu + l * n * F,
				      w->fcprojw + l * C * F, n, F, C);
		os_nn_gelu_backward(dfch, a->fch + l * n * F, dgelu, n * F);
		os_nn_linear_backward(dln2, g->fcw + l * F * C, g->fcb + l * F, dfch,
				      a->ln2 + l * nc, w->fcw + l * F * C, n, C, F);
		os_nn_layernorm_backward(dres2, g->ln2w + l * C, g->ln2b + l * C,
					 dln2, a->residual2 + l * nc,
					 w->ln2w + l * C, a->ln2_mean + l * n,
					 a->ln2_rstd + l * n, n, C);
		os_nn_residual_backward(dres_in, dattproj, dres2, nc);
		if (m->dropout > 0)
			os_nn_mul_forward(dattproj, dattproj, a->att_mask + l * nc, nc);
		os_nn_linear_backward(datty, g->attprojw + l * C * C,
				      g->attprojb + l * C, dattproj,
				      a->atty + l * nc, w->attprojw + l * C * C,
				      n, C, C);
		os_nn_attention_backward(dqkv, datty, a->qkv + l * 3 * nc,
					 a->att + l * n * cfg->heads * T, b->seg,
					 n, C, cfg->heads, T);
		os_nn_linear_backward(dln1, g->qkvw + l * 3 * C * C,
				      g->qkvb + l * 3 * C, dqkv, a->ln1 + l * nc,
				      w->qkvw + l * 3 * C * C, n, C, 3 * C);
		os_nn_layernorm_backward(dres_in, g->ln1w + l * C, g->ln1b + l * C,
					 dln1, res_in, w->ln1w + l * C,
					 a->ln1_mean + l * n, a->ln1_rstd + l * n,
					 n, C);
	}
	if (m->dropout > 0)
		os_nn_mul_forward(da->encoded, da->encoded, a->emb_mask, nc);
	os_nn_embed_backward(g->wte, g->wpe, g->wng, da->encoded, b->ids, b->pos,
			     b->ngram_off, b->ngram, n, C);
	return 0;
}

/* Sums of squares in fixed chunks added in order, so the result does not
 * depend on the thread count. */
static double sum_squares(const os_real *x, size_t n)
{
	enum { CHUNKS = 64 };
	double part[CHUNKS], sum = 0;

#pragma omp parallel for schedule(static)
	for (size_t c = 0; c < CHUNKS; c++) {
		size_t i0 = n * c / CHUNKS, i1 = n * (c + 1) / CHUNKS;
		double s = 0;

		for (size_t i = i0; i < i1; i++)
			s += (double)x[i] * x[i];
		part[c] = s;
	}
	for (size_t c = 0; c < CHUNKS; c++)
		sum += part[c];
	return sum;
}

double os_model_grad_norm(const struct os_model *m)
{
	return sqrt(sum_squares(m->grads, m->nparams));
}

int os_model_adamw(struct os_model *m, struct os_adamw *opt, os_real grad_scale)
{
	double c1, c2;
	os_real *p = m->params;

	if (!m->adam_m) {
		m->adam_m = calloc(m->nparams, sizeof *m->adam_m);
		m->adam_v = calloc(m->nparams, sizeof *m->adam_v);
		if (!m->adam_m || !m->adam_v)
			return -1;
	}
	opt->step++;
	c1 = 1 - pow(opt->beta1, (double)opt->step);
	c2 = 1 - pow(opt->beta2, (double)opt->step);
	for (size_t i = 0; i < os_model_tensor_count(); i++) {
		size_t r, c, size;
		os_real *t = os_model_tensor(m, m->params, i, &r, &c);
		os_real *gt = m->grads + (t - p), *mt = m->adam_m + (t - p);
		os_real *vt = m->adam_v + (t - p);
		os_real b1 = (os_real)opt->beta1, b2 = (os_real)opt->beta2;
		os_real lr = (os_real)opt->lr, eps = (os_real)opt->eps;
		os_real wd = tensor_kind[i] == OS_TENSOR_DECAYED
				 ? (os_real)opt->weight_decay
				 : 0;
		os_real ic1 = (os_real)(1 / c1), ic2 = (os_real)(1 / c2);

		if (!os_model_tensor_trained(i))
			continue;
		size = r * c;
#pragma omp parallel for simd schedule(static)
		for (size_t j = 0; j < size; j++) {
			os_real gj = gt[j] * grad_scale;
			os_real mj = b1 * mt[j] + (1 - b1) * gj;
			os_real vj = b2 * vt[j] + (1 - b2) * gj * gj;

			/* The moments of a row no batch has touched for
			 * some hundred steps decay below the normal numbers,
			 * where every operation takes many times longer:
			 * they end there. */
			mj = FABS(mj) < OS_REAL_MIN ? 0 : mj;
			vj = vj < OS_REAL_MIN ? 0 : vj;
			gt[j] = 0;
			mt[j] = mj;
			vt[j] = vj;
			t[j] -= lr * ((mj * ic1) / (SQRT(vj * ic2) + eps) + wd * t[j]);
		}
	}
	return 0;
}

double os_lr_schedule(double peak, long step, long warmup, long total,
		      double min_ratio)
{
	double progress;

	if (step < warmup)
		return peak * (double)(step + 1) / (double)warmup;
	if (total <= warmup)
		return peak;
	progress = (double)(step - warmup) / (double)(total - warmup);
	if (progress > 1)
		progress = 1;
	return peak * (min_ratio + (1 - min_ratio) * 0.5 * (1 + cos(M_PI * progress)));
}
