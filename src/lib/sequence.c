/* SPDX-License-Identifier: MIT */
/* sequence.c: text pools and packed batches (see sequence.h). */
#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "ngram.h"
#include "sequence.h"

/* Grows parallel uint32_t arrays to hold `need` values each; *cap is the
 * capacity they share. */
static int grow_u32(uint32_t **arrays[], size_t count, size_t *cap,
		    size_t need)
{
	size_t newcap = *cap;

	if (need <= *cap)
		return 0;
	for (size_t i = 0; i < count; i++) {
		size_t c = *cap;
		uint32_t *p = os_grow(*arrays[i], &c, need, sizeof **arrays[i], 256);

		if (!p)
			return -1;
		*arrays[i] = p;
		newcap = c;
	}
	*cap = newcap;
	return 0;
}

void os_text_pool_init(struct os_text_pool *p)
{
	memset(p, 0, sizeof *p);
}

void os_text_pool_release(struct os_text_pool *p)
{
	free(p->row);
	free(p->ngram_start);
	free(p->ngram);
	memset(p, 0, sizeof *p);
}

void os_text_pool_clear(struct os_text_pool *p)
{
	p->n = 0;
	p->nngram = 0;
}

long os_text_pool_add(struct os_text_pool *p, const struct os_model_config *cfg,
		      const struct os_vocab *vocab, const struct os_tokens *t,
		      size_t max_tokens, uint32_t *start)
{
	size_t count = t->n < max_tokens ? t->n : max_tokens;
	uint32_t **arrays[] = {&p->row, &p->ngram_start};

	if (grow_u32(arrays, 2, &p->cap, p->n + count + 1) < 0)
		return -1;
	*start = (uint32_t)p->n;
	for (size_t i = 0; i < count; i++) {
		const char *tok = os_token_text(t, i);
		size_t len = t->v[i].len, got;
		uint32_t *g = os_grow(p->ngram, &p->ngram_cap,
				      p->nngram + OS_SEQUENCE_MAX_NGRAMS,
				      sizeof *p->ngram, 1024);

		if (!g)
			return -1;
		p->ngram = g;
		p->row[p->n] = os_model_word_row(cfg, os_vocab_id(vocab, tok, len));
		p->ngram_start[p->n] = (uint32_t)p->nngram;
		got = os_ngrams(tok, len, (uint32_t)cfg->buckets, g + p->nngram,
				OS_SEQUENCE_MAX_NGRAMS);
		p->nngram += got < OS_SEQUENCE_MAX_NGRAMS ? got : OS_SEQUENCE_MAX_NGRAMS;
		p->n++;
	}
	p->ngram_start[p->n] = (uint32_t)p->nngram;
	return (long)count;
}

int os_text_pool_add_special(struct os_text_pool *p, uint32_t row)
{
	uint32_t **arrays[] = {&p->row, &p->ngram_start};

	if (grow_u32(arrays, 2, &p->cap, p->n + 2) < 0)
		return -1;
	p->row[p->n] = row;
	p->ngram_start[p->n] = (uint32_t)p->nngram;
	p->n++;
	p->ngram_start[p->n] = (uint32_t)p->nngram;
	return 0;
}

int os_text_pool_sample(struct os_text_pool *dst, const struct os_text_pool *src,
			uint32_t text, uint32_t len, uint32_t k,
			struct os_rng *rng, uint32_t *start)
{
	uint32_t **arrays[] = {&dst->row, &dst->ngram_start};

	if (k > len)
		k = len;
	if (grow_u32(arrays, 2, &dst->cap, dst->n + k + 1) < 0)
		return -1;
	*start = (uint32_t)dst->n;
	/* selection sampling: token i is taken with probability
	 * (still needed) / (still left) */
	for (uint32_t i = 0, need = k; i < len && need > 0; i++) {
		uint32_t t = text + i;
		uint32_t g0 = src->ngram_start[t], g1 = src->ngram_start[t + 1];
		uint32_t *g;

		if (os_rng_below(rng, len - i) >= need)
			continue;
		need--;
		g = os_grow(dst->ngram, &dst->ngram_cap, dst->nngram + (g1 - g0),
			    sizeof *dst->ngram, 1024);
		if (!g)
			return -1;
		dst->ngram = g;
		dst->row[dst->n] = src->row[t];
		dst->ngram_start[dst->n] = (uint32_t)dst->nngram;
		memcpy(g + dst->nngram, src->ngram + g0, (g1 - g0) * sizeof *g);
		dst->nngram += g1 - g0;
		dst->n++;
	}
	dst->ngram_start[dst->n] = (uint32_t)dst->nngram;
	return 0;
}

size_t os_sequence_max_text(const struct os_model_config *cfg)
{
	return cfg->context - cfg->levels - 1;
}

void os_batch_init(struct os_batch *b)
{
	memset(b, 0, sizeof *b);
}

void os_batch_release(struct os_batch *b)
{
	free(b->ids);
	free(b->pos);
	free(b->seg);
	free(b->ngram_off);
	free(b->ngram);
	free(b->ex);
	free(b->first);
	free(b->target_at);
	free(b->target_code);
	free(b->target_weight);
	free(b->allow_first);
	free(b->allow_count);
	memset(b, 0, sizeof *b);
}

void os_batch_clear(struct os_batch *b)
{
	b->n = 0;
	b->nngram = 0;
	b->nex = 0;
}

/* Appends one token with n-grams [g0, g1) of the pool. */
static void push(struct os_batch *b, uint32_t row, uint32_t pos, uint32_t seg,
		 const struct os_text_pool *p, uint32_t g0, uint32_t g1)
{
	b->ids[b->n] = row;
	b->pos[b->n] = pos;
	b->seg[b->n] = seg;
	b->ngram_off[b->n] = (uint32_t)b->nngram;
	for (uint32_t g = g0; g < g1; g++)
		b->ngram[b->nngram++] = p->ngram[g];
	b->n++;
	b->ngram_off[b->n] = (uint32_t)b->nngram;
}

int os_batch_add(struct os_batch *b, const struct os_model_config *cfg,
		 const struct os_text_pool *p, const struct os_example *ex)
{
	size_t len = ex->len, max = os_sequence_max_text(cfg);
	uint32_t **arrays[] = {&b->ids, &b->pos, &b->seg, &b->ngram_off};
	uint32_t seg = (uint32_t)b->n, at = 0;
	size_t ngrams;
	uint32_t *g;
	struct os_example *e;
	uint32_t *first;

	if (len > max)
		len = max;
	ngrams = p->ngram_start[ex->text + len] - p->ngram_start[ex->text];
	if (grow_u32(arrays, 4, &b->cap, b->n + len + cfg->levels + 2) < 0 ||
	    !(g = os_grow(b->ngram, &b->ngram_cap, b->nngram + ngrams,
			  sizeof *b->ngram, 1024)))
		return -1;
	b->ngram = g;
	e = os_grow(b->ex, &b->ex_cap, b->nex + 1, sizeof *b->ex, 64);
	if (!e)
		return -1;
	b->ex = e;
	first = os_grow(b->first, &b->first_cap, b->nex + 1, sizeof *b->first, 64);
	if (!first)
		return -1;
	b->first = first;
	b->ex[b->nex] = *ex;
	b->first[b->nex++] = seg;
	push(b, OS_MODEL_BOS, at++, seg, p, 0, 0);
	for (size_t i = 0; i < len; i++) {
		uint32_t k = ex->text + (uint32_t)i;

		push(b, p->row[k], at++, seg, p, p->ngram_start[k],
		     p->ngram_start[k + 1]);
	}
	push(b, OS_MODEL_SEP, at++, seg, p, 0, 0);
	for (size_t l = 0; l + 1 < cfg->levels; l++)
		push(b, (uint32_t)(os_model_sid_row(cfg, l) + ex->code[l]), at++,
		     seg, p, 0, 0);
	return 0;
}

int os_batch_finish(struct os_batch *b, const struct os_model_config *cfg,
		    struct os_model_batch *mb)
{
	size_t L = cfg->levels, m = L * b->nex, t = 0;
	double total = 0;

	if (m > b->target_cap) {
		uint32_t *at = realloc(b->target_at, m * sizeof *at);
		uint32_t *code = at ? realloc(b->target_code, m * sizeof *code) : NULL;
		os_real *w = code ? realloc(b->target_weight, m * sizeof *w) : NULL;

		if (at)
			b->target_at = at;
		if (code)
			b->target_code = code;
		if (!w)
			return -1;
		b->target_weight = w;
		b->target_cap = m;
	}
	for (size_t e = 0; e < b->nex; e++)
		total += b->ex[e].weight;
	memset(mb, 0, sizeof *mb);
	for (size_t l = 0; l < L; l++) {
		for (size_t e = 0; e < b->nex; e++) {
			/* the SEP before s1 sits at levels - 1 tokens from the
			 * end of the example's sequence */
			uint32_t end = e + 1 < b->nex ? b->first[e + 1] : (uint32_t)b->n;
			uint32_t sep = end - (uint32_t)L;

			b->target_at[t] = sep + (uint32_t)l;
			b->target_code[t] = b->ex[e].code[l];
			b->target_weight[t] = (os_real)(total > 0 ? b->ex[e].weight / total : 0);
			t++;
		}
		mb->level_targets[l] = b->nex;
	}
	mb->n = b->n;
	mb->ids = b->ids;
	mb->pos = b->pos;
	mb->seg = b->seg;
	mb->ngram_off = b->ngram_off;
	mb->ngram = b->ngram;
	mb->m = m;
	mb->target_at = b->target_at;
	mb->target_code = b->target_code;
	mb->target_weight = b->target_weight;
	return 0;
}

int os_batch_allow(struct os_batch *b, const struct os_model_config *cfg,
		       const struct os_sidindex *s, struct os_model_batch *mb)
{
	uint32_t **arrays[] = {&b->allow_first, &b->allow_count};

	if (grow_u32(arrays, 2, &b->allow_cap, cfg->levels * b->nex) < 0)
		return -1;
	/* targets are ordered by level, then example (os_batch_finish) */
	for (size_t e = 0; e < b->nex; e++) {
		uint32_t node = 0; /* the root */

		for (size_t l = 0; l < cfg->levels; l++) {
			size_t t = l * b->nex + e;

			assert(node != OS_TRIE_NONE &&
			       s->first[node] != OS_TRIE_NONE);
			b->allow_first[t] = s->first[node];
			b->allow_count[t] = s->count[node];
			node = os_trie_child(s, node, b->ex[e].code[l]);
		}
	}
	mb->allow_first = b->allow_first;
	mb->allow_count = b->allow_count;
	mb->allow_code = s->code;
	return 0;
}
