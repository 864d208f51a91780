/* SPDX-License-Identifier: MIT */
/* decode.h: searching with a trained model: constrained beam search over
 * the SID trie, so that every result is a real item.
 *
 * The prompt ([BOS] text [SEP]) runs through the model once and its keys
 * and values stay in a cache; each level then feeds one token per beam,
 * which attends to the prompt's cache and to its own beam's earlier codes.
 * At each level a beam may only take a code that the trie allows after
 * its prefix; the log-softmax is taken over those codes, so an item's
 * score is the log-probability of its SID among the catalog's SIDs. A
 * beam with one way to go needs no logits: at the last level (the
 * disambiguation code, which most items do not need) only the other beams
 * run through the model.
 *
 * Sampling (os_decoder_sample, for preference alignment) runs the same
 * levels, drawing each sample's next code instead of keeping the best.
 *
 * A decoder holds one thread's caches and scratch; it borrows the model
 * and the index, which must outlive it. */
#ifndef OS_DECODE_H
#define OS_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "rng.h"
#include "sequence.h"
#include "sidindex.h"

struct os_hit {
	uint32_t item;  /* index in the SID index */
	double score;   /* log-probability */
};

/* What --explain shows: after each level, the beams kept. */
struct os_trace_beam {
	uint32_t node;   /* trie node of the prefix */
	uint32_t parent; /* beam of the level before */
	double logp;     /* of this level's code */
	double score;    /* of the prefix */
};

struct os_trace {
	size_t levels;
	size_t nbeams[OS_MODEL_MAX_LEVELS];
	struct os_trace_beam *beams[OS_MODEL_MAX_LEVELS]; /* owned */
	/* level 1's distribution over all its codes, before the trie */
	double *first_probs;
	size_t first_codes;
};

void os_trace_release(struct os_trace *t);

/* The layer matrices of a block, in their order. */
enum os_layer_matrix { OS_W_QKV, OS_W_ATTPROJ, OS_W_FC, OS_W_FCPROJ, OS_W_N };

/* The model's layer matrices transposed, (in, out) each, for os_rowmm()
 * or, in bfloat16, for os_rowmm_bf16(): a search runs a few rows at a
 * time through them, which the model's own (out, in) layout makes a
 * general product that copies the whole matrix each time. Made once from
 * a model whose weights no longer change (a search's) and shared by its
 * decoders; it owns its block. */
struct os_decoder_weights {
	int bf16;                   /* which of the two below */
	float *f[OS_W_N];           /* (layers, in x out) floats */
	uint32_t *pairs[OS_W_N];    /* (layers, in/2 x out) bfloat16 pairs */
	void *block;                /* what they point into */
};

/* bf16: the matrices in bfloat16 (half the memory, products about twice
 * as fast where the CPU has AVX512-BF16; scores change in their third or
 * fourth digit). Returns 0, or -1 (memory). */
int os_decoder_weights_init(struct os_decoder_weights *p,
			    const struct os_model *m, int bf16);
void os_decoder_weights_release(struct os_decoder_weights *p);

struct os_decoder {
	const struct os_model *m;
	const struct os_sidindex *index;
	size_t beam;
	/* NULL (the model's own matrices), or the same transposed: set it
	 * after os_decoder_init() when the model's weights stay as they are
	 * while the decoder lives */
	const struct os_decoder_weights *weights;
	/* caches: (layers, context, C) for the prompt, (layers, beam, levels,
	 * C) for the beams' own tokens, and a copy for reordering */
	os_real *kp, *vp, *kb, *vb, *kb2, *vb2;
	/* scratch for `rows` tokens at once */
	size_t rows;
	os_real *x, *ln, *mean, *rstd, *qkv, *atty, *proj, *h, *hg, *att;
	os_real *lnf, *logits; /* (rows, C), (rows, largest level) */
	uint32_t *pairs;       /* (rows, max(C, ff) / 2): os_rowmm_bf16's */
	uint32_t *ids, *pos, *ngram_off, *ngram;
	size_t ngram_cap;
	/* the beams */
	uint32_t *node, *node2;
	uint32_t *slot; /* (beam) the beam of each row fed to the model */
	uint32_t *row;  /* (beam) each beam's row of logits */
	uint32_t *node_row; /* (trie nodes) each node's prefix vector
			     * (prefix.h), NULL for a model without */
	os_real *projected; /* (rows, item_dim) the normed states projected
			     * onto the item vectors, NULL for a model
			     * without */
	double *score, *score2;
	struct os_cand *cand, *pick; /* candidates; the draws of a level */
	size_t cand_cap, pick_cap;
};

/* Prepares a decoder for beams of up to `beam`. Returns 0 or -1 (memory). */
int os_decoder_init(struct os_decoder *d, const struct os_model *m,
		    const struct os_sidindex *index, size_t beam);
void os_decoder_release(struct os_decoder *d);

/* Searches for the text [text, text + len) of `pool` with `beam` beams
 * (at most the decoder's) and writes up to k hits, best first, to hits;
 * returns how many, or -1 (memory). When `trace` is not NULL it receives
 * the beams of every level (release it). */
long os_decoder_search(struct os_decoder *d, const struct os_text_pool *pool,
		       uint32_t text, uint32_t len, size_t beam, size_t k,
		       struct os_hit *hits, struct os_trace *trace);

/* How os_decoder_sample() draws: the temperature (> 0) of the allowed
 * codes' distribution, and the generator (borrowed). */
struct os_sampling {
	double temperature;
	struct os_rng *rng;
};

/* Draws n SIDs (n at most the decoder's beams) for the text, code by code,
 * each code from the distribution over the codes the trie allows after
 * the sample's prefix (tempered); writes their items and log-probabilities
 * (untempered) to hits, in the order drawn (an item may come more than
 * once). Returns n, or -1 (memory). */
long os_decoder_sample(struct os_decoder *d, const struct os_text_pool *pool,
		       uint32_t text, uint32_t len, size_t n,
		       const struct os_sampling *how, struct os_hit *hits);

#endif
