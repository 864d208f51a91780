/* SPDX-License-Identifier: MIT */
/* os-distill.h: what the files of os-distill share (see os-distill(1)):
 * the plan and options (os-distill.c), the training examples
 * (os-distill-data.c; pseudo-queries with dense labels in
 * os-distill-pseudo.c), the trainer whose steps os-distill-step.c takes,
 * and preference alignment's feedback and step (os-distill-align.c).
 * Every struct owns what it points to unless a comment says otherwise. */
#ifndef OS_DISTILL_PROGRAM_H
#define OS_DISTILL_PROGRAM_H

#include <stdint.h>
#include <stdio.h>

#include "lib/catalog.h"
#include "lib/cli.h"
#include "lib/distill.h"
#include "lib/generative.h"
#include "lib/grow.h"
#include "lib/model.h"
#include "lib/sequence.h"
#include "lib/validate.h"

enum stage { STAGE_SFT, STAGE_DISTILL, STAGE_ALIGN };

/* The most items --dense-top lets label a pseudo-query. */
#define OS_DENSE_TOP_MAX 64

/* Preference alignment (--stage align). */
struct align_plan {
	long group;         /* SIDs sampled a query */
	double temperature; /* of the sampling */
	double w_rel, w_beh, w_overlap; /* the reward's weights */
	double beta;        /* weight of KL(policy || reference) */
	double sft;         /* weight of the clicked items' cross-entropy */
	double gate;        /* advantage past a departure from the clicks */
	int unseen_mean;    /* a sample without feedback earns the query's
			       mean relevance and behaviour, not 0 */
	long shown;         /* group places given to the feedback's items */
	double pos[5];      /* position weights for five codes */
};

/* What decides the model and its training: compared on --resume. */
struct plan {
	struct os_model_config cfg;
	enum stage stage;
	long epochs, steps, batch, warmup, item_repeat, query_repeat, pseudo;
	double lr, min_lr, weight_decay, dropout, clip, min_grade;
	struct os_distill_weights distill;
	double fgm; /* FGM's eps, 0: off */
	int constrained; /* softmaxes over the codes the trie allows */
	int prefix_vectors; /* a new model gets prefix vectors (prefix.h) */
	long dense_labels; /* pseudo-queries drawn once, each labelled also
			     with this many of the dense ranking's first
			     items (0: none) */
	long dense_queries; /* each training query labelled also with this
			      many of the dense ranking's first items, its
			      relevant ones excepted (0: none) */
	double dense_query_weight; /* the weight of those examples */
	struct align_plan align;
	uint64_t seed;
};

struct options {
	const char *catalog, *output, *log, *checkpoint, *valid, *init;
	const char *dense_labels; /* --dense-labels VECTORS, or NULL */
	const char *item_vectors; /* --item-vectors VECTORS, or NULL */
	struct plan plan;
	long checkpoint_every, valid_every, log_every, beam;
	int resume;
	struct os_cli_common cli;
	char **inputs;
	size_t ninputs;
};

/* What an example has besides its text and SID. */
struct example_more {
	uint32_t teacher, teacher_len; /* the teacher's text in the pool
					* (query, [THINK], keywords); len 0:
					* none */
	unsigned char pseudo;          /* a pseudo-query drawn from its text */
};

/* One item of a query's feedback (--stage align). */
struct feedback {
	uint32_t item;   /* in the SID index */
	float relevance; /* 0-3, 0 when not given */
	unsigned char click, order;
};

/* A query of the feedback: its text in the pool, its items' feedback. */
struct feedback_query {
	uint32_t text, len;
	uint32_t first, n; /* its feedback, in data.fb */
};

struct data {
	struct os_text_pool pool;
	struct os_example *ex;
	struct example_more *more; /* (nex) */
	size_t nex, cap;
	size_t items, queries,
	    pairs,    /* titles, query records, query examples */
	    user_free, /* query examples repeated without their user */
	    taught,   /* query examples with a teacher's text */
	    dense_pseudo, /* --dense-labels: pseudo-queries drawn */
	    dense_other,  /* their examples of another item */
	    dense_query;  /* --dense-queries: queries' dense examples */
	long unknown; /* relevant ids not in the catalog */
	uint64_t
	    fingerprint; /* of the examples, to refuse a resume on others */
	/* --stage align: the queries are its examples (nex of them) */
	struct feedback_query *fq;
	struct feedback *fb;
	size_t nfb, fq_cap, fb_cap;
	long fb_lines, fb_unknown; /* feedback lines; items without a SID */
};

/* What an alignment step logs. */
struct align_terms {
	double reward, rel, beh, overlap; /* means over the samples */
	double policy, kl, sft;           /* the loss's terms */
	double positive;                  /* share of groups with a reward */
};

struct aligner;

/* An example of this step, with the pool its text is in. */
struct picked {
	struct os_example ex;
	const struct os_text_pool *pool;
	uint32_t teacher, teacher_len; /* in the data's pool; len 0: none */
};

struct trainer {
	const struct options *o;
	const struct plan *p;
	struct os_generative *g;
	struct data *d;
	struct os_model m;
	struct os_adamw opt;
	uint32_t *node_row; /* the trie's nodes' prefix vectors, NULL without */
	struct os_batch batch;
	struct os_text_pool views; /* this step's pseudo-queries */
	struct picked *picked;     /* (batch) this step's examples */
	/* distillation: the FGM pass's batch, the logits' extra gradient,
	 * FGM's move, which student each teacher teaches, the last terms */
	struct os_batch fgm_batch;
	os_real *logit_grad, *delta;
	size_t logit_grad_cap, delta_cap;
	uint32_t *teacher_of;
	struct os_distill_terms terms;
	struct aligner *align; /* --stage align */
	struct align_terms aterms;
	uint32_t *order;  /* this epoch's order of the examples */
	long order_epoch; /* the epoch `order` is for, -1: none */
	long step, total, steps_per_epoch;
	const char *checkpoint;
	FILE *log;
	struct os_validator *valid;
	double started, last_progress, loss_sum, window_start;
	long window_steps, window_examples;
	int tty;
};

/* Reads the examples of an epoch: the catalog's titles (and pseudo-query
 * sources) and the query records of the options' inputs, with the
 * teachers' texts for --stage distill. Returns 0, or -1 with err. */
int load_data(const struct options *o, struct os_catalog *cat,
	      struct os_generative *g, struct data *d, struct os_error *err);

/* Appends `repeat` examples of the item with SID index number `item`
 * whose text is pool tokens [text, text + len), each of weight `weight`
 * in the loss. Returns 0 or -1 (memory). */
int add_example(struct data *d, const struct os_sidindex *s, uint32_t text,
		uint32_t len, long item, long repeat, float weight,
		struct example_more more);

/* Texts waiting for their dense labels (--dense-labels): pseudo-queries
 * drawn from the titles and, with --dense-queries, the training queries,
 * ranked all at once by dense_label(). */
struct dense_text {
	size_t start;		  /* its text in dense_texts.text */
	long item;		  /* a pseudo-query's item, -1 for a query */
	uint32_t pool, len;	  /* a query's tokens in the data's pool */
	struct example_more more; /* a query's teacher */
	size_t rel, nrel;	  /* a query's relevant items, in .rel */
};

struct dense_texts {
	struct os_text text; /* the texts one after another, each with its
				NUL */
	struct dense_text *t;
	long *rel; /* the queries' relevant items (in the SID index) */
	size_t n, cap, nrel, rel_cap;
};

void dense_texts_release(struct dense_texts *dt);

/* Draws the plan's number of pseudo-queries from each catalog item's
 * title (1 to 3 of its words, in order) into dt. Returns 0, or -1 with
 * err. */
int dense_draw_pseudo(const struct options *o, struct os_catalog *cat,
		      const struct os_sidindex *index, struct dense_texts *dt,
		      struct os_error *err);

/* Adds a training query to dt: its text, its tokens [start, start + len)
 * in the data's pool with its teacher, its relevant items. Returns 0 or
 * -1 (memory). */
int dense_add_query(struct dense_texts *dt, const char *query, uint32_t start,
		    uint32_t len, struct example_more more, const long *rel,
		    size_t nrel);

/* Ranks the texts of dt with the catalog's encoder against the vectors of
 * o->dense_labels (as os-search --dense ranks) and adds their examples:
 * a pseudo-query is an example of its own item and of each other item
 * among the plan's dense_labels first; a query, at the plan's
 * dense_query_weight, of each item among its dense_queries first that is
 * not one of its relevant ones. Returns 0, or -1 with err (status 3 for
 * a bad vectors file, 1 without an encoder of their size). */
int dense_label(const struct options *o, struct os_catalog *cat,
		struct os_generative *g, struct data *d,
		const struct dense_texts *dt, struct os_error *err);

/* Reads --stage align's feedback (the options' inputs) into d: one
 * feedback_query a query (by "qid", else by the query's text), an
 * example each. Returns 0, or -1 with err (status 3 with file and line). */
int load_feedback(const struct options *o, struct os_generative *g,
		  struct data *d, struct os_error *err);

/* Prepares alignment: the reference (a frozen copy of --init), a decoder
 * a thread. Returns NULL with err. */
struct aligner *aligner_new(const struct trainer *t, struct os_error *err);
void aligner_free(struct aligner *a);

/* The alignment pass of one step over the queries order[0..n) of the
 * data: sampling, rewards, advantages, the policy, KL and SFT terms,
 * forward and backward. Returns 0 or -1 (memory). */
int align_pass(struct trainer *t, const uint32_t *order, size_t n,
	       double *loss);

/* Ends a batch of the step (os_batch_finish), with --constrained-loss
 * its targets' softmaxes limited to the codes the trie allows and with
 * prefix vectors their nodes' rows. Returns 0 or -1 (memory). */
int finish_batch(const struct trainer *t, struct os_batch *b,
		 struct os_model_batch *mb);

/* One training step: the step's examples, forward and backward (sft,
 * distill or align), clipping and AdamW. Returns 0, or -1 with err
 * (memory). */
int train_step(struct trainer *t, double *loss, double *lr, double *norm,
	       struct os_error *err);

#endif
