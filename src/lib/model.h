/* SPDX-License-Identifier: MIT */
/* model.h: the SID generator, a decoder-only transformer (pre-LN, GELU,
 * learned positions, causal multi-head attention, dropout) that reads
 *   [BOS] (user tokens [USER]) query tokens [SEP] (keywords [THINK]) s1 .. sL
 * and predicts each SID code from what comes before it, with one output
 * vocabulary per SID level.
 *
 * Input rows of `wte`: the special tokens, then one row per catalog
 * vocabulary id (words the model was not trained with share row "unknown",
 * id 0), then the codes of every level. A word's embedding also gets the
 * mean of its hashed character n-gram rows (`wng`), so unknown words and
 * typos land near the words they resemble.
 *
 * Output rows of `headw`: the codes of every level. A model with prefix
 * vectors (prefix.h) also has `nodew`, one row per trie node that has a
 * vector, added to its code's row when its parent is the prefix. A model
 * with item vectors as well keeps, for each of those nodes, the mean of
 * its items' vectors (`nodevec`, fixed: training leaves it as it is) and
 * learns a projection of the normed state onto them (`nodeproj`): the
 * node's logit also gets the product of the projected state with its
 * items' mean, so that items the training data rarely names are told
 * apart by what their vectors say.
 *
 * Layout as in llm.c: one block of parameters with a struct of named
 * pointers into it, the same for gradients, AdamW moments and activations;
 * the tensor list lives in one X-macro table below, from which the struct,
 * the sizes and the names in the model file are made. The model owns all
 * its blocks; os_model_release() frees them. */
#ifndef OS_MODEL_H
#define OS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "nn.h"

#define OS_MODEL_MAX_LEVELS 8
#define OS_USER_HISTORY_MAX 64 /* the most items of user tokens */

/* The special tokens, rows 0..3 of wte. */
enum { OS_MODEL_BOS, OS_MODEL_SEP, OS_MODEL_THINK, OS_MODEL_USER,
       OS_MODEL_SPECIALS };

struct os_model_config {
	size_t words;   /* catalog vocabulary ids 0..words-1 (0: unknown) */
	size_t buckets; /* hashed n-gram rows */
	size_t levels;  /* SID length */
	size_t codes[OS_MODEL_MAX_LEVELS]; /* codes of each level */
	size_t dim, layers, heads, ff, context;
	size_t user_history; /* clicked items whose SID prefixes lead a query
			      * with a user (0: no user tokens) */
	size_t prefix_rows;  /* prefix vectors (prefix.h; 0: none) */
	size_t item_dim;     /* size of the nodes' item vectors (0: none;
			      * only with prefix vectors) */
};

/* How the optimizer treats a parameter tensor. */
enum os_tensor_kind {
	OS_TENSOR_PLAIN,   /* trained, no weight decay */
	OS_TENSOR_DECAYED, /* trained with weight decay */
	OS_TENSOR_FIXED    /* not trained: no gradient, no update */
};

/* X(name, rows, cols, kind): every parameter tensor, in file order, the
 * fixed ones last. Sizes are written in terms of `cfg` (a const struct
 * os_model_config *); decayed tensors get AdamW's weight decay (matrices,
 * not biases, norms, embeddings of positions or prefix vectors: a batch
 * touches few of those rows, which decay would shrink between their
 * visits). */
#define OS_MODEL_PARAMS(X)                                                   \
	X(wte, os_model_input_rows(cfg), cfg->dim, OS_TENSOR_DECAYED)        \
	X(wpe, cfg->context, cfg->dim, OS_TENSOR_PLAIN)                      \
	X(wng, cfg->buckets, cfg->dim, OS_TENSOR_DECAYED)                    \
	X(ln1w, cfg->layers, cfg->dim, OS_TENSOR_PLAIN)                      \
	X(ln1b, cfg->layers, cfg->dim, OS_TENSOR_PLAIN)                      \
	X(qkvw, cfg->layers, 3 * cfg->dim * cfg->dim, OS_TENSOR_DECAYED)     \
	X(qkvb, cfg->layers, 3 * cfg->dim, OS_TENSOR_PLAIN)                  \
	X(attprojw, cfg->layers, cfg->dim * cfg->dim, OS_TENSOR_DECAYED)     \
	X(attprojb, cfg->layers, cfg->dim, OS_TENSOR_PLAIN)                  \
	X(ln2w, cfg->layers, cfg->dim, OS_TENSOR_PLAIN)                      \
	X(ln2b, cfg->layers, cfg->dim, OS_TENSOR_PLAIN)                      \
	X(fcw, cfg->layers, cfg->ff * cfg->dim, OS_TENSOR_DECAYED)           \
	X(fcb, cfg->layers, cfg->ff, OS_TENSOR_PLAIN)                        \
	X(fcprojw, cfg->layers, cfg->dim * cfg->ff, OS_TENSOR_DECAYED)       \
	X(fcprojb, cfg->layers, cfg->dim, OS_TENSOR_PLAIN)                   \
	X(lnfw, 1, cfg->dim, OS_TENSOR_PLAIN)                                \
	X(lnfb, 1, cfg->dim, OS_TENSOR_PLAIN)                                \
	X(headw, os_model_output_rows(cfg), cfg->dim, OS_TENSOR_DECAYED)     \
	X(headb, os_model_output_rows(cfg), 1, OS_TENSOR_PLAIN)              \
	X(nodew, cfg->prefix_rows, cfg->dim, OS_TENSOR_PLAIN)                \
	X(nodeproj, cfg->item_dim, cfg->dim, OS_TENSOR_DECAYED)              \
	X(nodevec, cfg->prefix_rows, cfg->item_dim, OS_TENSOR_FIXED)

struct os_model_tensors {
#define OS_MODEL_FIELD(name, rows, cols, decayed) os_real *name;
	OS_MODEL_PARAMS(OS_MODEL_FIELD)
#undef OS_MODEL_FIELD
};

/* X(name, size): the activations kept from forward for backward, sized
 * for `n` tokens, `m` targets and `k` logits (the sum over targets of
 * their level's codes); in terms of `cfg`. */
#define OS_MODEL_ACTS(X)                                                     \
	X(encoded, n * cfg->dim)                                             \
	X(emb_mask, n * cfg->dim)                                            \
	X(ln1, cfg->layers * n * cfg->dim)                                   \
	X(ln1_mean, cfg->layers * n)                                         \
	X(ln1_rstd, cfg->layers * n)                                         \
	X(qkv, cfg->layers * n * 3 * cfg->dim)                               \
	X(atty, cfg->layers * n * cfg->dim)                                  \
	X(att, cfg->layers * n * cfg->heads * cfg->context)                  \
	X(attproj, cfg->layers * n * cfg->dim)                               \
	X(att_mask, cfg->layers * n * cfg->dim)                              \
	X(residual2, cfg->layers * n * cfg->dim)                             \
	X(ln2, cfg->layers * n * cfg->dim)                                   \
	X(ln2_mean, cfg->layers * n)                                         \
	X(ln2_rstd, cfg->layers * n)                                         \
	X(fch, cfg->layers * n * cfg->ff)                                    \
	X(fch_gelu, cfg->layers * n * cfg->ff)                               \
	X(fcproj, cfg->layers * n * cfg->dim)                                \
	X(fc_mask, cfg->layers * n * cfg->dim)                               \
	X(residual3, cfg->layers * n * cfg->dim)                             \
	X(lnf, n * cfg->dim)                                                 \
	X(lnf_mean, n)                                                       \
	X(lnf_rstd, n)                                                       \
	X(gathered, m * cfg->dim)                                            \
	X(projected, m * cfg->item_dim)                                      \
	X(logits, k)                                                         \
	X(probs, k)                                                          \
	X(losses, m)

struct os_model_acts {
#define OS_MODEL_FIELD(name, size) os_real *name;
	OS_MODEL_ACTS(OS_MODEL_FIELD)
#undef OS_MODEL_FIELD
};

/* A batch: sequences packed token after token, and the SID codes to
 * predict. Targets are ordered by level (all of level 0 first, ...), so
 * that each level's logits are one matrix product. The caller owns the
 * arrays. */
struct os_model_batch {
	size_t n;                /* tokens */
	const uint32_t *ids;     /* (N) rows of wte */
	const uint32_t *pos;     /* (N) position in its sequence */
	const uint32_t *seg;     /* (N) index of its sequence's first token */
	const uint32_t *ngram_off; /* (N+1) into ngram */
	const uint32_t *ngram;   /* n-gram rows of the words */
	size_t m;                /* targets */
	const uint32_t *target_at;   /* (M) token whose output predicts it */
	const uint32_t *target_code; /* (M) code within its level */
	const os_real *target_weight; /* (M) weight of its loss term */
	size_t level_targets[OS_MODEL_MAX_LEVELS]; /* targets of each level */
	/* optional, NULL when unused: */
	const os_real *embed_delta; /* (N x dim) added to the input
				     * embeddings before dropout (FGM) */
	const os_real *logit_grad;  /* laid out as the logits (see
				     * os_model_target_offset): added to the
				     * loss's gradient wrt them by backward,
				     * for loss terms computed outside */
	/* (M) the codes that may follow target t's prefix are those of the
	 * trie nodes allow_first[t] .. + allow_count[t], allow_code[node],
	 * in increasing order; when `masked`, t's softmax runs over them
	 * alone (the others' logits are set to OS_MODEL_MASKED) */
	const uint32_t *allow_first, *allow_count, *allow_code;
	int masked;
	/* with allow_*, for a model with prefix vectors: the nodew (and
	 * nodevec) row of each trie node (OS_PREFIX_NONE: none), added to its
	 * code's head row */
	const uint32_t *node_row;
};

/* The logit of a code outside a target's allowed ones: its probability is
 * 0 and its gradient 0, and it stays finite for the KL terms. */
#define OS_MODEL_MASKED ((os_real)-1e30)

struct os_model {
	struct os_model_config cfg;
	char fingerprint[17];    /* of the catalog codebooks, "" if none */
	size_t nparams;
	os_real *params;         /* one block, nparams values */
	struct os_model_tensors w;
	/* (prefix_rows x levels) the path of codes of each nodew row,
	 * padded with OS_PREFIX_NONE (prefix.h); owned */
	uint32_t *prefix_path;
	os_real *grads;          /* same shape, NULL until needed */
	struct os_model_tensors g;
	os_real *adam_m, *adam_v; /* AdamW moments, NULL until needed */
	struct os_model_acts a, da; /* activations and their gradients */
	os_real *acts, *dacts;
	size_t acts_n, acts_m, acts_k; /* capacity of the activation blocks */
	double dropout;          /* of the last forward pass */
	double loss;             /* weighted loss of the last forward pass */
	/* a model used in place in a mapped file: its tensors point into
	 * `file` (params is NULL), which release_file() frees */
	void *file;
	void (*release_file)(void *file);
};

size_t os_model_input_rows(const struct os_model_config *cfg);
size_t os_model_output_rows(const struct os_model_config *cfg);
/* The first row of level `level` in wte (input) and headw (output). */
size_t os_model_sid_row(const struct os_model_config *cfg, size_t level);
size_t os_model_code_offset(const struct os_model_config *cfg, size_t level);
/* wte's row of a catalog vocabulary id (unknown words: id 0). */
uint32_t os_model_word_row(const struct os_model_config *cfg, long word_id);

/* Checks a configuration; returns NULL or what is wrong with it. */
const char *os_model_config_check(const struct os_model_config *cfg);

/* Allocates the parameters and initializes them (normal(0, 0.02), output
 * projections scaled down by the depth as in GPT-2, norms at 1, prefix
 * vectors and the item vectors' projection at 0 so that a new model starts
 * as one without them; the caller sets prefix_path and nodevec). Returns
 * 0 or -1 (memory). */
int os_model_init(struct os_model *m, const struct os_model_config *cfg,
		  uint64_t seed);
/* Allocates the parameters only (zeros), for a loader. */
int os_model_alloc(struct os_model *m, const struct os_model_config *cfg);
void os_model_release(struct os_model *m);

/* The number of values of the parameter tensors and their names, in file
 * order; os_model_tensor() gives tensor i of a block laid out like params. */
size_t os_model_tensor_count(void);
const char *os_model_tensor_name(size_t i);
os_real *os_model_tensor(const struct os_model *m, os_real *block, size_t i,
			 size_t *rows, size_t *cols);
/* Whether tensor i is trained (has gradients and moments). */
int os_model_tensor_trained(size_t i);
/* The named pointer of tensor i, and its shape. */
os_real **os_model_tensor_field(struct os_model_tensors *t, size_t i);
void os_model_tensor_shape(const struct os_model_config *cfg, size_t i,
			   size_t *rows, size_t *cols);

/* Where target t's logits are in m->a.logits (and in a logit_grad): the
 * offset of its first, and *codes receives their number. */
size_t os_model_target_offset(const struct os_model_config *cfg,
			      const struct os_model_batch *b, size_t t,
			      size_t *codes);
/* The number of logits of a batch. */
size_t os_model_logit_count(const struct os_model_config *cfg,
			    const struct os_model_batch *b);

/* Runs the batch forward with dropout probability `dropout` (masks drawn
 * from `seed`) and returns the weighted loss over the targets. Returns a
 * negative value when memory runs out. */
double os_model_forward(struct os_model *m, const struct os_model_batch *b,
			double dropout, uint64_t seed);
/* Adds the gradient of the last forward pass's loss to the gradients
 * (allocated zero on first use; os_model_adamw() clears them). Returns 0
 * or -1 (memory). */
int os_model_backward(struct os_model *m, const struct os_model_batch *b);

/* The global norm of the gradients, the same for any thread count. */
double os_model_grad_norm(const struct os_model *m);

struct os_adamw {
	double lr, beta1, beta2, eps, weight_decay;
	long step; /* steps taken, 1 after the first */
};

/* One AdamW step with the gradients times grad_scale (1, or the factor
 * that clips their norm). The step consumes them: they are zero afterwards,
 * ready for the next step's backward passes. A moment that falls below
 * OS_REAL_MIN becomes zero. Returns 0 or -1 (memory). */
int os_model_adamw(struct os_model *m, struct os_adamw *opt,
		   os_real grad_scale);

/* The learning rate at `step` of `total`: linear warmup, then cosine
 * decay to `min_ratio` of the peak. */
double os_lr_schedule(double peak, long step, long warmup, long total,
		      double min_ratio);

#endif
