/* SPDX-License-Identifier: MIT */
/* decode.c: the model's forward pass with a key/value cache, and the
 * constrained beam search on it (see decode.h). Runs on the calling
 * thread: a program searching many queries gives each thread a decoder. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "grow.h"
#include "prefix.h"
#include "rowmm.h"

struct os_cand {
	uint32_t beam, node;
	double logp, score;
};

void os_trace_release(struct os_trace *t)
{
	for (size_t l = 0; l < OS_MODEL_MAX_LEVELS; l++)
		free(t->beams[l]);
	free(t->first_probs);
	memset(t, 0, sizeof *t);
}

static size_t largest_level(const struct os_model_config *cfg)
{
	size_t k = 0;

	for (size_t l = 0; l < cfg->levels; l++)
		if (cfg->codes[l] > k)
			k = cfg->codes[l];
	return k;
}

/* dst (in x out) = src (out x in) transposed, for each of `layers`. */
static void transpose_layers(float *dst, const os_real *src, size_t layers,
			     size_t out, size_t in)
{
	for (size_t l = 0; l < layers; l++, dst += out * in, src += out * in)
		for (size_t o = 0; o < out; o++)
			for (size_t i = 0; i < in; i++)
				dst[i * out + o] = (float)src[o * in + i];
}

/* A layer matrix's shape, and where the model keeps it and its bias. */
struct layer_matrix {
	size_t in, out;
	const os_real *w, *bias; /* (layers, out x in), (layers, out) */
};

static struct layer_matrix layer_matrix(const struct os_model *m,
					enum os_layer_matrix which)
{
	size_t C = m->cfg.dim, F = m->cfg.ff;
	const struct os_model_tensors *w = &m->w;

	switch (which) {
	case OS_W_QKV:
		return (struct layer_matrix){C, 3 * C, w->qkvw, w->qkvb};
	case OS_W_ATTPROJ:
		return (struct layer_matrix){C, C, w->attprojw, w->attprojb};
	case OS_W_FC:
		return (struct layer_matrix){C, F, w->fcw, w->fcb};
	default:
		return (struct layer_matrix){F, C, w->fcprojw, w->fcprojb};
	}
}

/* The rows of one layer's matrix as laid out for the search: its inputs,
 * or their pairs in bfloat16. */
static size_t laid_rows(const struct layer_matrix *lm, int bf16)
{
	return bf16 ? (lm->in + 1) / 2 : lm->in;
}

int os_decoder_weights_init(struct os_decoder_weights *p,
			    const struct os_model *m, int bf16)
{
	size_t L = m->cfg.layers, total = 0, at = 0;

	memset(p, 0, sizeof *p);
	p->bf16 = bf16;
	for (int i = 0; i < OS_W_N; i++) {
		struct layer_matrix lm = layer_matrix(m, (enum os_layer_matrix)i);

		total += L * laid_rows(&lm, bf16) * lm.out;
	}
	/* floats and pairs are both 4 bytes */
	if (!(p->block = malloc(total * sizeof(uint32_t))))
		return -1;
	for (int i = 0; i < OS_W_N; i++) {
		struct layer_matrix lm = layer_matrix(m, (enum os_layer_matrix)i);
		size_t rows = laid_rows(&lm, bf16);

		if (bf16) {
			p->pairs[i] = (uint32_t *)p->block + at;
			for (size_t l = 0; l < L; l++)
				os_rowmm_bf16_pack(p->pairs[i] + l * rows * lm.out,
						   lm.w + l * lm.in * lm.out, lm.in,
						   lm.out, 1, lm.in);
		} else {
			p->f[i] = (float *)p->block + at;
			transpose_layers(p->f[i], lm.w, L, lm.out, lm.in);
		}
		at += L * rows * lm.out;
	}
	return 0;
}

void os_decoder_weights_release(struct os_decoder_weights *p)
{
	free(p->block);
	memset(p, 0, sizeof *p);
}

void os_decoder_release(struct os_decoder *d)
{
	os_real *blocks[] = {d->kp, d->vp, d->kb, d->vb, d->kb2, d->vb2, d->x,
			     d->ln, d->mean, d->rstd, d->qkv, d->atty, d->proj,
			     d->h, d->hg, d->att, d->lnf, d->logits};

	for (size_t i = 0; i < sizeof blocks / sizeof *blocks; i++)
		free(blocks[i]);
	free(d->pairs);
	free(d->ids);
	free(d->pos);
	free(d->ngram_off);
	free(d->ngram);
	free(d->node);
	free(d->node2);
	free(d->slot);
	free(d->row);
	free(d->node_row);
	free(d->projected);
	free(d->score);
	free(d->score2);
	free(d->cand);
	free(d->pick);
	memset(d, 0, sizeof *d);
}

int os_decoder_init(struct os_decoder *d, const struct os_model *m,
		    const struct os_sidindex *index, size_t beam)
{
	const struct os_model_config *cfg = &m->cfg;
	size_t C = cfg->dim, T = cfg->context, L = cfg->layers, V = cfg->levels;
	size_t rows = T > beam ? T : beam, K = largest_level(cfg);
	size_t kp = L * T * C, kb = L * beam * V * C;

	memset(d, 0, sizeof *d);
	d->m = m;
	d->index = index;
	d->beam = beam;
	d->rows = rows;
	d->kp = malloc(kp * sizeof(os_real));
	d->vp = malloc(kp * sizeof(os_real));
	d->kb = malloc(kb * sizeof(os_real));
	d->vb = malloc(kb * sizeof(os_real));
	d->kb2 = malloc(kb * sizeof(os_real));
	d->vb2 = malloc(kb * sizeof(os_real));
	d->x = malloc(rows * C * sizeof(os_real));
	d->ln = malloc(rows * C * sizeof(os_real));
	d->mean = malloc(rows * sizeof(os_real));
	d->rstd = malloc(rows * sizeof(os_real));
	d->qkv = malloc(rows * 3 * C * sizeof(os_real));
	d->atty = malloc(rows * C * sizeof(os_real));
	d->proj = malloc(rows * C * sizeof(os_real));
	d->h = malloc(rows * cfg->ff * sizeof(os_real));
	d->hg = malloc(rows * cfg->ff * sizeof(os_real));
	d->att = malloc((T + V) * sizeof(os_real));
	d->lnf = malloc(rows * C * sizeof(os_real));
	d->logits = malloc(rows * K * sizeof(os_real));
	d->pairs = malloc(rows * (((cfg->ff > C ? cfg->ff : C) + 1) / 2) *
			  sizeof *d->pairs);
	d->ids = malloc(rows * sizeof *d->ids);
	d->pos = malloc(rows * sizeof *d->pos);
	d->ngram_off = malloc((rows + 1) * sizeof *d->ngram_off);
	d->node = malloc(beam * sizeof *d->node);
	d->node2 = malloc(beam * sizeof *d->node2);
	d->slot = malloc(beam * sizeof *d->slot);
	d->row = malloc(beam * sizeof *d->row);
	d->score = malloc(beam * sizeof *d->score);
	d->score2 = malloc(beam * sizeof *d->score2);
	if (cfg->item_dim)
		d->projected =
		    malloc(rows * cfg->item_dim * sizeof *d->projected);
	if ((cfg->item_dim && !d->projected) ||
	    !d->kp || !d->vp || !d->kb || !d->vb || !d->kb2 || !d->vb2 ||
	    !d->x || !d->ln || !d->mean || !d->rstd || !d->qkv || !d->atty ||
	    !d->proj || !d->h || !d->hg || !d->att || !d->lnf || !d->logits ||
	    !d->pairs ||
	    !d->ids || !d->pos || !d->ngram_off || !d->node || !d->node2 ||
	    !d->slot || !d->row ||
	    !d->score || !d->score2 ||
	    (cfg->prefix_rows &&
	     os_prefix_node_rows(m->prefix_path, cfg->prefix_rows, V, index,
				 &d->node_row) < 0)) {
		os_decoder_release(d);
		return -1;
	}
	return 0;
}

/* Attention of one token's query q (one head's slice) over `n` keys and
 * values, each `stride` apart, adding to out. */
static void attend(os_real *out, os_real *att, const os_real *q,
		   const os_real *k, const os_real *v, size_t n, size_t stride,
		   size_t hs, os_real scale, const os_real *k2, const os_real *v2,
		   size_t n2)
{
	os_real max = -INFINITY, sum = 0;

	for (size_t j = 0; j < n + n2; j++) {
		const os_real *kj = j < n ? k + j * stride : k2 + (j - n) * stride;
		os_real dot = 0;

		for (size_t e = 0; e < hs; e++)
			dot += q[e] * kj[e];
		att[j] = dot * scale;
		if (att[j] > max)
			max = att[j];
	}
	for (size_t j = 0; j < n + n2; j++) {
		att[j] = expf(att[j] - max);
		sum += att[j];
	}
	for (size_t j = 0; j < n + n2; j++) {
		const os_real *vj = j < n ? v + j * stride : v2 + (j - n) * stride;
		os_real a = att[j] / sum;

		for (size_t e = 0; e < hs; e++)
			out[e] += a * vj[e];
	}
}

/* out (r x out) = inp (r x in) W^T + bias for layer l's matrix `which`,
 * read from the decoder's laid-out weights when it has them (see struct
 * os_decoder_weights), else from the model. */
static void layer_linear(struct os_decoder *d, os_real *out,
			 const os_real *inp, enum os_layer_matrix which,
			 size_t l, size_t r)
{
	const struct os_decoder_weights *tw = d->weights;
	struct layer_matrix lm = layer_matrix(d->m, which);
	const os_real *bias = lm.bias + l * lm.out;
	size_t at = tw ? l * laid_rows(&lm, tw->bf16) * lm.out : 0;

	if (tw && tw->bf16)
		os_rowmm_bf16(out, inp, tw->pairs[which] + at, bias, r, lm.out,
			      lm.in, d->pairs);
	else if (tw)
		os_rowmm(out, inp, tw->f[which] + at, bias, r, lm.out, lm.in);
	else
		os_nn_linear_forward(out, inp, lm.w + l * lm.in * lm.out, bias,
				     r, lm.in, lm.out);
}

/* Runs r tokens (d->ids, d->pos, n-grams) through the layers into d->x.
 * Prompt mode (plen == 0): token i is prompt position i and attends to
 * positions 0..i. Beam mode: token i belongs to beam d->slot[i], is its
 * code of level `step`, and attends to the plen prompt positions and its
 * beam's codes 0..step. */
static void run_layers(struct os_decoder *d, size_t r, size_t plen,
		       size_t step)
{
	const struct os_model_config *cfg = &d->m->cfg;
	const struct os_model_tensors *w = &d->m->w;
	size_t C = cfg->dim, F = cfg->ff, T = cfg->context, V = cfg->levels;
	size_t NH = cfg->heads, hs = C / NH;
	os_real scale = (os_real)(1 / sqrt((double)hs));

	os_nn_embed_forward(d->x, d->ids, d->pos, d->ngram_off, d->ngram,
			    w->wte, w->wpe, w->wng, r, C);
	for (size_t l = 0; l < cfg->layers; l++) {
		os_real *kp = d->kp + l * T * C, *vp = d->vp + l * T * C;
		os_real *kb = d->kb + l * d->beam * V * C;
		os_real *vb = d->vb + l * d->beam * V * C;

		os_nn_layernorm_forward(d->ln, d->mean, d->rstd, d->x,
					w->ln1w + l * C, w->ln1b + l * C, r, C);
		layer_linear(d, d->qkv, d->ln, OS_W_QKV, l, r);
		for (size_t i = 0; i < r; i++) {
			size_t at = plen ? (d->slot[i] * V + step) * C : i * C;
			os_real *k = plen ? kb : kp, *v = plen ? vb : vp;

			memcpy(k + at, d->qkv + i * 3 * C + C, C * sizeof *k);
			memcpy(v + at, d->qkv + i * 3 * C + 2 * C, C * sizeof *v);
		}
		memset(d->atty, 0, r * C * sizeof *d->atty);
		for (size_t i = 0; i < r; i++)
			for (size_t h = 0; h < NH; h++) {
				const os_real *q = d->qkv + i * 3 * C + h * hs;
				os_real *out = d->atty + i * C + h * hs;

				if (plen)
					attend(out, d->att, q, kp + h * hs, vp + h * hs,
					       plen, C, hs, scale,
					       kb + d->slot[i] * V * C + h * hs,
					       vb + d->slot[i] * V * C + h * hs, step + 1);
				else
					attend(out, d->att, q, kp + h * hs, vp + h * hs,
					       i + 1, C, hs, scale, NULL, NULL, 0);
			}
		layer_linear(d, d->proj, d->atty, OS_W_ATTPROJ, l, r);
		os_nn_residual_forward(d->x, d->x, d->proj, r * C);
		os_nn_layernorm_forward(d->ln, d->mean, d->rstd, d->x,
					w->ln2w + l * C, w->ln2b + l * C, r, C);
		layer_linear(d, d->h, d->ln, OS_W_FC, l, r);
		os_nn_gelu_forward(d->hg, d->h, r * F);
		layer_linear(d, d->proj, d->hg, OS_W_FCPROJ, l, r);
		os_nn_residual_forward(d->x, d->x, d->proj, r * C);
	}
}

/* Logits of `level` for r rows of d->x starting at row `from`, into
 * d->logits (r, codes of the level). */
static void heads(struct os_decoder *d, size_t from, size_t r, size_t level)
{
	const struct os_model_config *cfg = &d->m->cfg;
	const struct os_model_tensors *w = &d->m->w;
	size_t C = cfg->dim, off = os_model_code_offset(cfg, level);

	os_nn_layernorm_forward(d->lnf, d->mean, d->rstd, d->x + from * C,
				w->lnfw, w->lnfb, r, C);
	os_nn_linear_forward(d->logits, d->lnf, w->headw + off * C,
			     w->headb + off, r, C, cfg->codes[level]);
	if (cfg->item_dim)
		os_nn_linear_forward(d->projected, d->lnf, w->nodeproj, NULL, r,
				     C, cfg->item_dim);
}

/* Candidates rank by score, then by trie node, so ties break the same
 * way on every run. */
static int cand_better(const struct os_cand *a, const struct os_cand *b)
{
	return a->score > b->score || (a->score == b->score && a->node < b->node);
}

/* Keeps the best `beam` candidates at the front of c, in order; returns
 * how many. */
static size_t select_best(struct os_cand *c, size_t n, size_t beam)
{
	size_t kept = 0;

	/* insertion into a sorted prefix: n is a few thousand at most and
	 * most candidates fall below the worst kept one at once */
	for (size_t i = 0; i < n; i++) {
		struct os_cand x = c[i];
		size_t j;

		if (kept == beam && !cand_better(&x, &c[kept - 1]))
			continue;
		j = kept < beam ? kept++ : kept - 1;
		while (j > 0 && cand_better(&x, &c[j - 1])) {
			c[j] = c[j - 1];
			j--;
		}
		c[j] = x;
	}
	return kept;
}

/* Adds the prefix vectors' logits (and the item vectors') of the trie
 * nodes first .. first + count - 1 to row `row` of d->logits (K codes). */
static void node_logits(struct os_decoder *d, size_t row, size_t K,
			uint32_t first, uint32_t count)
{
	const struct os_model *m = d->m;
	size_t C = m->cfg.dim, D = m->cfg.item_dim;
	os_real *logits = d->logits + row * K;

	os_prefix_add_logits(logits, K, d->lnf + row * C, m->w.nodew, C,
			     d->node_row, d->index->code, first, count);
	if (D)
		os_prefix_add_logits(logits, K, d->projected + row * D,
				     m->w.nodevec, D, d->node_row,
				     d->index->code, first, count);
}

/* The candidates of every beam's allowed codes at `level`; the logits of
 * beam b are row d->row[b] of d->logits, unless its node has one child. */
static long candidates(struct os_decoder *d, size_t nb, size_t level)
{
	const struct os_sidindex *s = d->index;
	size_t K = d->m->cfg.codes[level], n = 0;

	for (size_t b = 0; b < nb; b++) {
		uint32_t node = d->node[b], first = s->first[node];
		size_t count = s->count[node];
		const os_real *lg = d->logits + (size_t)d->row[b] * K;
		double max = -INFINITY, sum = 0, lse;
		struct os_cand *c = os_grow(d->cand, &d->cand_cap, n + count,
					    sizeof *d->cand, 256);

		if (!c)
			return -1;
		d->cand = c;
		if (count == 1) {
			d->cand[n++] = (struct os_cand){(uint32_t)b, first, 0, d->score[b]};
			continue;
		}
		if (d->node_row)
			node_logits(d, d->row[b], K, first, (uint32_t)count);
		for (size_t j = 0; j < count; j++)
			if (s->code[first + j] < K && lg[s->code[first + j]] > max)
				max = lg[s->code[first + j]];
		for (size_t j = 0; j < count; j++)
			if (s->code[first + j] < K)
				sum += exp((double)lg[s->code[first + j]] - max);
		lse = max + log(sum);
		for (size_t j = 0; j < count; j++) {
			uint32_t code = s->code[first + j];
			double lp;

			/* codes the model never saw (items given SIDs after
			 * training) cannot be generated */
			if (code >= K)
				continue;
			lp = (double)lg[code] - lse;
			d->cand[n++] = (struct os_cand){(uint32_t)b, first + (uint32_t)j,
							lp, d->score[b] + lp};
		}
	}
	return (long)n;
}

static int trace_level(struct os_trace *t, size_t level,
		       const struct os_cand *c, size_t n)
{
	struct os_trace_beam *b = malloc((n ? n : 1) * sizeof *b);

	if (!b)
		return -1;
	for (size_t i = 0; i < n; i++)
		b[i] = (struct os_trace_beam){c[i].node, c[i].beam, c[i].logp,
					      c[i].score};
	t->beams[level] = b;
	t->nbeams[level] = n;
	return 0;
}

static int trace_first(struct os_trace *t, const os_real *logits, size_t K)
{
	double max = -INFINITY, sum = 0;

	if (!(t->first_probs = malloc(K * sizeof *t->first_probs)))
		return -1;
	t->first_codes = K;
	for (size_t j = 0; j < K; j++)
		max = fmax(max, logits[j]);
	for (size_t j = 0; j < K; j++)
		sum += t->first_probs[j] = exp((double)logits[j] - max);
	for (size_t j = 0; j < K; j++)
		t->first_probs[j] /= sum;
	return 0;
}

/* Loads the prompt [BOS] text [SEP] into the decoder's token arrays;
 * returns its length, or -1 (memory). */
static long load_prompt(struct os_decoder *d, const struct os_text_pool *p,
			uint32_t text, uint32_t len)
{
	size_t n = 0, ng = p->ngram_start[text + len] - p->ngram_start[text];
	uint32_t *g = os_grow(d->ngram, &d->ngram_cap, ng + 1, sizeof *d->ngram, 256);

	if (!g)
		return -1;
	d->ngram = g;
	d->ngram_off[0] = 0;
	d->ids[n] = OS_MODEL_BOS;
	d->pos[n] = 0;
	d->ngram_off[++n] = 0;
	for (uint32_t i = text; i < text + len; i++) {
		uint32_t g0 = p->ngram_start[i], g1 = p->ngram_start[i + 1];

		d->ids[n] = p->row[i];
		d->pos[n] = (uint32_t)n;
		memcpy(d->ngram + d->ngram_off[n], p->ngram + g0, (g1 - g0) * sizeof *g);
		d->ngram_off[n + 1] = d->ngram_off[n] + (g1 - g0);
		n++;
	}
	d->ids[n] = OS_MODEL_SEP;
	d->pos[n] = (uint32_t)n;
	d->ngram_off[n + 1] = d->ngram_off[n];
	return (long)(n + 1);
}

/* Moves the beams' caches so that new beam i holds the codes of its
 * parent's beam, up to level `step`. */
static void reorder(struct os_decoder *d, const struct os_cand *c, size_t n,
		    size_t step)
{
	const struct os_model_config *cfg = &d->m->cfg;
	size_t C = cfg->dim, V = cfg->levels, B = d->beam;
	size_t bytes = step * C * sizeof(os_real);
	os_real *t;

	for (size_t l = 0; l < cfg->layers; l++)
		for (size_t i = 0; i < n; i++) {
			size_t from = (l * B + c[i].beam) * V * C, to = (l * B + i) * V * C;

			memcpy(d->kb2 + to, d->kb + from, bytes);
			memcpy(d->vb2 + to, d->vb + from, bytes);
		}
	t = d->kb, d->kb = d->kb2, d->kb2 = t;
	t = d->vb, d->vb = d->vb2, d->vb2 = t;
}

/* Draws each sample's next code from the `n` candidates of `nb` beams: at
 * the first level (one beam, the prompt) `width` draws, after that one
 * draw from each sample's own candidates, each code with a probability
 * proportional to exp(logp / temperature). The draws go to the front of
 * d->cand in sample order. Returns how many, or -1 (memory). */
static long select_sample(struct os_decoder *d, size_t n, size_t nb,
			  size_t width, const struct os_sampling *how)
{
	struct os_cand *pick = os_grow(d->pick, &d->pick_cap, width,
				       sizeof *d->pick, 64);
	size_t lo = 0, drawn = 0;

	if (!pick)
		return -1;
	d->pick = pick;
	for (size_t b = 0; b < nb; b++) {
		size_t hi = lo, draws = nb == 1 ? width : 1;
		double best = -INFINITY;

		while (hi < n && d->cand[hi].beam == b)
			best = fmax(best, d->cand[hi++].logp);
		for (size_t r = 0; r < draws && hi > lo; r++) {
			double total = 0, u;
			size_t j = lo;

			for (size_t i = lo; i < hi; i++)
				total += exp((d->cand[i].logp - best) / how->temperature);
			u = os_rng_uniform(how->rng) * total;
			for (; j + 1 < hi; j++) {
				u -= exp((d->cand[j].logp - best) / how->temperature);
				if (u < 0)
					break;
			}
			pick[drawn++] = d->cand[j];
		}
		lo = hi;
	}
	memcpy(d->cand, pick, drawn * sizeof *pick);
	return (long)drawn;
}

/* Runs the levels for [text, text + len) of `pool` with up to `width`
 * beams, kept by score, or drawn when `how` is given; the last level's
 * are left in d->cand. Returns their number, or -1 (memory). */
static long decode(struct os_decoder *d, const struct os_text_pool *pool,
		   uint32_t text, uint32_t len, size_t width,
		   const struct os_sampling *how, struct os_trace *trace)
{
	const struct os_model_config *cfg = &d->m->cfg;
	const struct os_sidindex *s = d->index;
	size_t V = cfg->levels, nb = 1, max = os_sequence_max_text(cfg);
	long plen;

	if (width > d->beam)
		width = d->beam;
	if (len > max)
		len = (uint32_t)max;
	if (trace) {
		memset(trace, 0, sizeof *trace);
		trace->levels = V;
	}
	if ((plen = load_prompt(d, pool, text, len)) < 0)
		return -1;
	run_layers(d, (size_t)plen, 0, 0);
	heads(d, (size_t)plen - 1, 1, 0);
	if (trace && trace_first(trace, d->logits, cfg->codes[0]) < 0)
		return -1;
	d->node[0] = 0;
	d->score[0] = 0;
	d->row[0] = 0;
	for (size_t level = 0;; level++) {
		long n = candidates(d, nb, level), kept;
		size_t rows;

		if (n < 0)
			return -1;
		kept = how ? select_sample(d, (size_t)n, nb, width, how)
			   : (long)select_best(d->cand, (size_t)n, width);
		if (kept < 0 ||
		    (trace && trace_level(trace, level, d->cand, (size_t)kept) < 0))
			return -1;
		if (level + 1 == V)
			return kept;
		reorder(d, d->cand, (size_t)kept, level);
		/* feed each beam's code; before the last level only the beams
		 * with a choice to make, since no later level needs the keys */
		rows = 0;
		for (size_t i = 0; i < (size_t)kept; i++) {
			d->node[i] = d->cand[i].node;
			d->score[i] = d->cand[i].score;
			if (level + 2 == V && s->count[d->node[i]] == 1)
				continue;
			d->row[i] = (uint32_t)rows;
			d->slot[rows] = (uint32_t)i;
			d->ids[rows] = (uint32_t)(os_model_sid_row(cfg, level) +
						  s->code[d->node[i]]);
			d->pos[rows] = (uint32_t)plen + (uint32_t)level;
			d->ngram_off[rows + 1] = d->ngram_off[rows] = 0;
			rows++;
		}
		nb = (size_t)kept;
		if (rows == 0)
			continue;
		run_layers(d, rows, (size_t)plen, level);
		heads(d, 0, rows, level + 1);
	}
}

/* The items of the first n of d->cand, into hits. */
static long write_hits(const struct os_decoder *d, size_t n,
		       struct os_hit *hits)
{
	for (size_t i = 0; i < n; i++)
		hits[i] = (struct os_hit){d->index->item[d->cand[i].node],
					  d->cand[i].score};
	return (long)n;
}

long os_decoder_search(struct os_decoder *d, const struct os_text_pool *pool,
		       uint32_t text, uint32_t len, size_t beam, size_t k,
		       struct os_hit *hits, struct os_trace *trace)
{
	long kept = decode(d, pool, text, len, beam, NULL, trace);

	return kept < 0 ? -1 : write_hits(d, (size_t)kept < k ? (size_t)kept : k, hits);
}

long os_decoder_sample(struct os_decoder *d, const struct os_text_pool *pool,
		       uint32_t text, uint32_t len, size_t n,
		       const struct os_sampling *how, struct os_hit *hits)
{
	long drawn = decode(d, pool, text, len, n, how, NULL);

	return drawn < 0 ? -1 : write_hits(d, (size_t)drawn, hits);
}
