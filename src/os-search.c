/* SPDX-License-Identifier: MIT */
/* os-search: ranked items for queries, by the generative model's
 * constrained beam search, by BM25 over the titles, by the dot product of
 * dense vectors, or a model's list and BM25's fused (see os-search(1)).
 * Options, reading, fusion and output; the searches themselves are in
 * libonesearch (decode.c, dense.c, and the catalog's full-text index). */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/analyze.h"
#include "lib/blascpu.h"
#include "lib/catalog.h"
#include "lib/cli.h"
#include "lib/cot.h"
#include "lib/decode.h"
#include "lib/dense.h"
#include "lib/dense_index.h"
#include "lib/generative.h"
#include "lib/grow.h"
#include "lib/jsonl.h"
#include "lib/matmul.h"
#include "lib/model_io.h"
#include "lib/normalize.h"
#include "lib/output.h"
#include "lib/parallel.h"
#include "lib/record.h"

enum fusion { FUSE_RRF, FUSE_SCORE };

struct options {
	const char *catalog, *model, *dense, *output, *query;
	long k, beam, depth;
	int bm25, fuse, explain, with_cot, bf16;
	struct os_cli_common cli;
	enum fusion fusion;
	double rrf_k, weight_model, weight_bm25;
	char **inputs;
	size_t ninputs;
};

enum {
	OPT_BEAM = 256,
	OPT_BM25,
	OPT_FUSE,
	OPT_FUSION,
	OPT_RRF_K,
	OPT_WEIGHT_MODEL,
	OPT_WEIGHT_BM25,
	OPT_DEPTH,
	OPT_EXPLAIN,
	OPT_WITH_COT,
	OPT_QUERY,
	OPT_DENSE,
	OPT_PRECISION,
};

static const struct option long_options[] = {
    {"catalog", required_argument, NULL, 'C'},
    {"model", required_argument, NULL, 'm'},
    {"output", required_argument, NULL, 'o'},
    {"results", required_argument, NULL, 'k'},
    {"beam", required_argument, NULL, OPT_BEAM},
    {"bm25", no_argument, NULL, OPT_BM25},
    {"dense", required_argument, NULL, OPT_DENSE},
    {"fuse", required_argument, NULL, OPT_FUSE},
    {"fusion", required_argument, NULL, OPT_FUSION},
    {"rrf-k", required_argument, NULL, OPT_RRF_K},
    {"weight-model", required_argument, NULL, OPT_WEIGHT_MODEL},
    {"weight-bm25", required_argument, NULL, OPT_WEIGHT_BM25},
    {"depth", required_argument, NULL, OPT_DEPTH},
    {"explain", no_argument, NULL, OPT_EXPLAIN},
    {"with-cot", no_argument, NULL, OPT_WITH_COT},
    {"query", required_argument, NULL, OPT_QUERY},
    {"precision", required_argument, NULL, OPT_PRECISION},
    OS_CLI_COMMON_LONG_OPTIONS,
    OS_CLI_STANDARD_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

static void help(void)
{
	printf("Usage: %s -C CATALOG -m MODEL [OPTION]... [FILE]...\n"
	       "  or:  %s -C CATALOG --bm25 [OPTION]... [FILE]...\n"
	       "  or:  %s -C CATALOG --dense VECTORS [OPTION]... [FILE]...\n",
	       os_cli_program(), os_cli_program(), os_cli_program());
	fputs("\
Search the catalog for each query record (\"qid\", \"query\") of the FILEs\n\
and write one run line a query: {\"qid\",\"query\",\"results\":[{\"id\",\n\
\"sid\",\"score\",\"rank\"}]}, the input of os-eval. The model generates\n\
SIDs by beam search in which every step must stay on a catalog item's\n\
SID, so every result is a real item; its score is the log-probability of\n\
the item's SID.\n\
With no FILE, or when FILE is -, read standard input.\n\
\n\
  -C, --catalog=FILE    the catalog (default: $OS_CATALOG)\n\
  -m, --model=FILE      the model made by os-distill\n\
  -k, --results=N       results a query (default 10)\n\
      --beam=N          beams of the search, at least -k (default 20)\n\
      --precision=P     of the model's layer matrices: fp32 (default) or\n\
                        bf16 (half the memory and faster, scores a little\n\
                        rounded)\n\
      --bm25            rank by BM25 over the items' titles instead (no\n\
                        model needed)\n\
      --dense=VECTORS   rank by the dot product of the query's vector with\n\
                        the item vectors of VECTORS (records \"id\",\n\
                        \"embedding\", as os-tokenize --emit embedding\n\
                        writes them) instead; a query's vector is its\n\
                        record's \"embedding\", else the catalog encoder's\n\
      --fuse=bm25       merge the model's (or the dense) list with BM25's\n\
      --fusion=METHOD   rrf (reciprocal rank, default) or score (scores\n\
                        scaled to 0..1 in each list, then added)\n\
      --rrf-k=X         the constant of reciprocal-rank fusion (default 60)\n\
      --weight-model=X  weight of the model's list in fusion (default 1)\n\
      --weight-bm25=X   weight of BM25's list in fusion (default 1)\n\
      --depth=N         results of each list fused (default 100)\n\
      --query=TEXT      search this text (qid \"1\") instead of reading FILEs\n\
      --with-cot        give the model the records' \"cot\" keywords after\n\
                        the query, as distillation's teacher reads them\n\
      --explain         show, for each query, the codes each level found\n\
                        with their probabilities, the beams, and the items'\n\
                        titles, as text\n\
      --seed=N          accepted for uniformity: the search draws nothing\n\
      --threads=N       threads over queries (default: all cores)\n\
      --max-line=BYTES  longest input line accepted (default 67108864)\n\
  -o, --output=FILE     write to FILE (whole or not at all)\n\
  -q, --quiet           no report on standard error\n\
  -v, --verbose         report the queries a second and the latency of a\n\
                        query (median, 99th percentile, largest)\n\
",
	      stdout);
	os_cli_help_tail("os-search(1), os-distill(1), os-eval(1)");
}

/* Returns 0 to run, 1 after --help or --version, -1 on a usage error. */
static int parse_options(int argc, char **argv, struct options *o)
{
	int c, common, rc = 0;

	memset(o, 0, sizeof *o);
	os_cli_common_init(&o->cli);
	o->catalog = getenv("OS_CATALOG");
	o->k = 10;
	o->beam = 20;
	o->depth = 100;
	o->rrf_k = 60;
	o->weight_model = 1;
	o->weight_bm25 = 1;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, ":C:m:o:k:qvhV",
					   long_options, NULL)) != -1) {
		common = os_cli_common_option(c, optarg, &o->cli);
		if (common < 0)
			return -1;
		if (common)
			continue;
		switch (c) {
		case 'C':
			o->catalog = optarg;
			break;
		case 'm':
			o->model = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'k':
			rc = os_cli_parse_long("--results", optarg, 1, 100000,
					       &o->k);
			break;
		case OPT_BEAM:
			rc = os_cli_parse_long("--beam", optarg, 1, 100000,
					       &o->beam);
			break;
		case OPT_BM25:
			o->bm25 = 1;
			break;
		case OPT_DENSE:
			o->dense = optarg;
			break;
		case OPT_FUSE: {
			static const char *const lists[] = {"bm25", NULL};
			int i;

			if (os_cli_parse_choice("--fuse", optarg, lists, &i) <
			    0)
				return -1;
			o->fuse = 1;
			break;
		}
		case OPT_FUSION: {
			static const char *const fusions[] = {"rrf", "score",
							      NULL};
			int i;

			if (os_cli_parse_choice("--fusion", optarg, fusions,
						&i) < 0)
				return -1;
			o->fusion = i ? FUSE_SCORE : FUSE_RRF;
			break;
		}
		case OPT_RRF_K:
			rc = os_cli_parse_double("--rrf-k", optarg, 0, 1e9,
						 &o->rrf_k);
			break;
		case OPT_WEIGHT_MODEL:
			rc = os_cli_parse_double("--weight-model", optarg, 0,
						 1e9, &o->weight_model);
			break;
		case OPT_WEIGHT_BM25:
			rc = os_cli_parse_double("--weight-bm25", optarg, 0,
						 1e9, &o->weight_bm25);
			break;
		case OPT_DEPTH:
			rc = os_cli_parse_long("--depth", optarg, 1, 100000,
					       &o->depth);
			break;
		case OPT_EXPLAIN:
			o->explain = 1;
			break;
		case OPT_PRECISION: {
			static const char *const precisions[] = {"fp32", "bf16",
								 NULL};
			int i;

			if (os_cli_parse_choice("--precision", optarg,
						precisions, &i) < 0)
				return -1;
			o->bf16 = i;
			break;
		}
		case OPT_WITH_COT:
			o->with_cot = 1;
			break;
		case OPT_QUERY:
			o->query = optarg;
			break;
		default:
			return os_cli_standard_option(c, argv, help) > 0 ? 1
									 : -1;
		}
	}
	if (rc < 0)
		return -1;
	if (!o->catalog || !*o->catalog) {
		os_cli_warn("no catalog: give -C FILE or set OS_CATALOG");
		return -1;
	}
	if (o->bm25 && (o->fuse || o->model || o->dense)) {
		os_cli_warn("--bm25 ranks by BM25 alone; for both give -m "
			    "MODEL (or --dense VECTORS) --fuse bm25");
		return -1;
	}
	if (o->model && o->dense) {
		os_cli_warn("give -m MODEL or --dense VECTORS, not both");
		return -1;
	}
	if (!o->bm25 && !o->model && !o->dense) {
		os_cli_warn("no model: give -m MODEL (or --bm25, or --dense "
			    "VECTORS)");
		return -1;
	}
	if (o->model && o->k > o->beam) {
		os_cli_warn("-k (%ld) cannot exceed --beam (%ld)", o->k,
			    o->beam);
		return -1;
	}
	if (!o->model && o->with_cot) {
		os_cli_warn("--with-cot gives the model the CoT; it needs -m "
			    "MODEL");
		return -1;
	}
	if (!o->model && o->explain) {
		os_cli_warn(
		    "--explain shows the model's search; it needs -m MODEL");
		return -1;
	}
	if (o->query && optind < argc) {
		os_cli_warn("give either --query or FILEs");
		return -1;
	}
	o->inputs = argv + optind;
	o->ninputs = (size_t)(argc - optind);
	return 0;
}

/* ---- one result list ---- */

struct result {
	char *id;  /* owned */
	long item; /* index in the SID index, or -1 */
	double score;
};

struct list {
	struct result *r;
	size_t n, cap;
};

static void list_clear(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->r[i].id);
	l->n = 0;
}

static int list_add(struct list *l, const char *id, long item, double score)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct result *r = realloc(l->r, cap * sizeof *r);

		if (!r)
			return -1;
		l->r = r;
		l->cap = cap;
	}
	if (!(l->r[l->n].id = strdup(id)))
		return -1;
	l->r[l->n].item = item;
	l->r[l->n].score = score;
	l->n++;
	return 0;
}

/* ---- the queries of a chunk ---- */

enum { CHUNK = 512 };

struct query {
	cJSON *obj; /* the record (owns the text) */
	const char *text;
	uint32_t start, len; /* its tokens in the chunk's pool */
	struct os_hit *hits; /* (beam) the model's, `nhits` of them */
	long nhits;
	struct os_trace trace;
	double seconds; /* its search took */
};

struct search {
	const struct options *o;
	struct os_catalog *cat;
	struct os_generative g;
	int have_g;
	struct os_model m;
	struct os_text_pool pool;
	struct os_decoder *dec; /* one a thread */
	int ndec;
	struct os_decoder_weights weights; /* the model's, shared by dec */
	struct os_dense_index dense; /* --dense */
	int have_dense;
	size_t dense_k;              /* results of the dense list */
	float *qvec;                 /* CHUNK query vectors */
	float *scores;               /* a row of dot products a thread */
	struct os_dense_hit *dhits;  /* dense_k a thread */
	struct query q[CHUNK];
	size_t nq;
	struct os_strmap titles; /* --explain: item id -> index into title */
	char **title;
	size_t ntitle;
	struct list model_list, bm25_list, fused;
	struct os_tokens tokens;
	unsigned norm_flags; /* the catalog's normalization */
	double *latency;     /* -v: every query's seconds */
	size_t nlatency, latency_cap;
};

static int load_title(void *ctx, const struct os_item *item)
{
	struct search *s = ctx;
	long i = os_strmap_intern(&s->titles, item->id, strlen(item->id), NULL);
	char **t;

	if (i < 0 || !(t = realloc(s->title, (size_t)(i + 1) * sizeof *t)))
		return 1;
	s->title = t;
	if ((size_t)i >= s->ntitle) {
		s->ntitle = (size_t)i + 1;
		t[i] = NULL;
	}
	free(t[i]);
	return (t[i] = strdup(item->title)) ? 0 : 1;
}

static const char *title_of(const struct search *s, const char *id)
{
	long i = os_strmap_find(&s->titles, id, strlen(id));

	return i < 0 || !s->title[i] ? "" : s->title[i];
}

/* --dense: the item vectors, the encoder, and room for the searches. */
static int setup_dense(struct search *s, struct os_error *err)
{
	const struct options *o = s->o;
	size_t n, t = (size_t)s->ndec;

	if (os_dense_index_load(&s->dense, s->cat, o->dense,
				(size_t)o->cli.max_line, err) < 0)
		return -1;
	s->have_dense = 1;
	n = s->dense.n;
	s->dense_k = (size_t)(o->fuse && o->depth > o->k ? o->depth : o->k);
	if (!(s->qvec = malloc(CHUNK * s->dense.dim * sizeof *s->qvec)) ||
	    !(s->scores = malloc(t * n * sizeof *s->scores)) ||
	    !(s->dhits = malloc(t * s->dense_k * sizeof *s->dhits)))
		goto oom;
	for (size_t i = 0; i < CHUNK; i++)
		if (!(s->q[i].hits = malloc(s->dense_k * sizeof *s->q[i].hits)))
			goto oom;
	return 0;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return -1;
}

static int setup(struct search *s, struct os_error *err)
{
	const struct options *o = s->o;

	char *norm;

	if (os_catalog_open(&s->cat, o->catalog, OS_CATALOG_READ_ONLY, err) < 0)
		return -1;
	norm = os_catalog_meta_get(s->cat, "normalization", err);
	if (!norm && err->status)
		return -1;
	s->norm_flags = os_norm_flags_of(norm);
	free(norm);
#ifdef _OPENMP
	s->ndec = omp_get_max_threads();
#else
	s->ndec = 1;
#endif
	if (o->bm25)
		return 0;
	if (o->dense)
		return setup_dense(s, err);
	if (os_generative_load(&s->g, s->cat, err) < 0)
		return -1;
	s->have_g = 1;
	if (os_model_map(&s->m, o->model, err) < 0 ||
	    os_generative_check(&s->g, &s->m, o->model, err) < 0 ||
	    os_generative_load_brands(&s->g, s->cat, &s->m.cfg, err) < 0)
		return -1;
	if (!(s->dec = calloc((size_t)s->ndec, sizeof *s->dec)) ||
	    os_decoder_weights_init(&s->weights, &s->m, o->bf16) < 0)
		goto oom;
	for (int t = 0; t < s->ndec; t++) {
		if (os_decoder_init(&s->dec[t], &s->m, &s->g.index,
				    (size_t)o->beam) < 0)
			goto oom;
		s->dec[t].weights = &s->weights;
	}
	for (size_t i = 0; i < CHUNK; i++)
		if (!(s->q[i].hits =
			  malloc((size_t)o->beam * sizeof *s->q[i].hits)))
			goto oom;
	if (o->explain) {
		int rc = os_catalog_items_each(s->cat, load_title, s, err);

		if (rc > 0)
			goto oom;
		if (rc < 0)
			return -1;
	}
	return 0;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return -1;
}

static void teardown(struct search *s)
{
	for (int t = 0; s->dec && t < s->ndec; t++)
		os_decoder_release(&s->dec[t]);
	free(s->dec);
	os_decoder_weights_release(&s->weights);
	for (size_t i = 0; i < CHUNK; i++) {
		free(s->q[i].hits);
		cJSON_Delete(s->q[i].obj);
		os_trace_release(&s->q[i].trace);
	}
	for (size_t i = 0; i < s->ntitle; i++)
		free(s->title[i]);
	free(s->title);
	os_strmap_release(&s->titles);
	list_clear(&s->model_list);
	list_clear(&s->bm25_list);
	list_clear(&s->fused);
	free(s->model_list.r);
	free(s->bm25_list.r);
	free(s->fused.r);
	free(s->latency);
	free(s->qvec);
	free(s->scores);
	free(s->dhits);
	os_dense_index_release(&s->dense);
	os_tokens_release(&s->tokens);
	os_text_pool_release(&s->pool);
	os_model_release(&s->m);
	if (s->have_g)
		os_generative_release(&s->g);
	os_catalog_close(s->cat);
}

/* The dense search of every query of the chunk, on all threads. */
static void dense_chunk(struct search *s)
{
	const struct os_dense_index *d = &s->dense;

#pragma omp parallel for schedule(dynamic, 1)
	for (size_t i = 0; i < s->nq; i++) {
		size_t t = 0, got;
		struct query *q = &s->q[i];
		struct os_dense_hit *h;
		double t0 = os_cli_now();

#ifdef _OPENMP
		t = (size_t)omp_get_thread_num();
#endif
		h = s->dhits + t * s->dense_k;
		got = os_dense_top(d->x, d->n, d->dim, s->qvec + i * d->dim,
				   s->dense_k, s->scores + t * d->n, h);
		for (size_t j = 0; j < got; j++)
			q->hits[j] = (struct os_hit){(uint32_t)h[j].row,
						     h[j].score};
		q->nhits = (long)got;
		q->seconds = os_cli_now() - t0;
	}
}

/* The model's (or the dense) search of every query of the chunk, on all
 * threads. */
static int search_chunk(struct search *s, struct os_error *err)
{
	int failed = 0;
	size_t beam = (size_t)s->o->beam, k = beam;

	if (s->have_dense) {
		dense_chunk(s);
		return 0;
	}
#pragma omp parallel for schedule(dynamic, 1) reduction(| : failed)
	for (size_t i = 0; i < s->nq; i++) {
		int t = 0;
		struct query *q = &s->q[i];
		double t0 = os_cli_now();

#ifdef _OPENMP
		t = omp_get_thread_num();
#endif
		q->nhits = os_decoder_search(&s->dec[t], &s->pool, q->start,
					     q->len, beam, k, q->hits,
					     s->o->explain ? &q->trace : NULL);
		q->seconds = os_cli_now() - t0;
		failed |= q->nhits < 0;
	}
	if (failed) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return 0;
}

static int add_bm25(void *ctx, long seq, const char *id, double score)
{
	struct search *s = ctx;
	long item = s->have_g ? os_sidindex_find(&s->g.index, id) : -1;

	(void)seq;
	return list_add(&s->bm25_list, id, item, score) < 0 ? 1 : 0;
}

static int bm25(struct search *s, const char *text, struct os_error *err)
{
	const char **terms;
	int rc;

	list_clear(&s->bm25_list);
	if (os_analyze(&s->tokens, text, s->norm_flags, err) < 0)
		return -1;
	if (!(terms = malloc((s->tokens.n + 1) * sizeof *terms))) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < s->tokens.n; i++)
		terms[i] = os_token_text(&s->tokens, i);
	rc = os_catalog_bm25(s->cat, terms, s->tokens.n,
			     (size_t)(s->o->fuse ? s->o->depth : s->o->k),
			     add_bm25, s, err);
	free(terms);
	if (rc > 0)
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return rc ? -1 : 0;
}

/* Adds a list's contribution to the fused scores. */
static int fuse_in(struct list *fused, const struct list *l, double weight,
		   const struct options *o)
{
	double lo = INFINITY, hi = -INFINITY;

	for (size_t i = 0; i < l->n; i++) {
		lo = fmin(lo, l->r[i].score);
		hi = fmax(hi, l->r[i].score);
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct result *r = &l->r[i];
		double add =
		    o->fusion == FUSE_RRF
			? weight / (o->rrf_k + (double)(i + 1))
			: weight * (hi > lo ? (r->score - lo) / (hi - lo) : 1);
		size_t j;

		for (j = 0; j < fused->n; j++)
			if (strcmp(fused->r[j].id, r->id) == 0)
				break;
		if (j == fused->n && list_add(fused, r->id, r->item, 0) < 0)
			return -1;
		fused->r[j].score += add;
		if (fused->r[j].item < 0)
			fused->r[j].item = r->item;
	}
	return 0;
}

static int by_score(const void *a, const void *b)
{
	const struct result *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return strcmp(x->id, y->id);
}

static cJSON *sid_array(const struct search *s, long item)
{
	cJSON *a = cJSON_CreateArray();

	if (!a)
		return a;
	for (size_t l = 0; l < s->g.index.levels; l++)
		cJSON_AddItemToArray(
		    a, cJSON_CreateNumber(
			   s->g.index
			       .codes[(size_t)item * s->g.index.levels + l]));
	return a;
}

static int write_run(struct search *s, const struct query *q,
		     const struct list *l, FILE *out, struct os_error *err)
{
	cJSON *line = cJSON_CreateObject(), *results = cJSON_CreateArray();
	const cJSON *qid = cJSON_GetObjectItemCaseSensitive(q->obj, "qid");
	size_t n = l->n < (size_t)s->o->k ? l->n : (size_t)s->o->k;
	int rc = -1;

	if (!line || !results)
		goto done;
	cJSON_AddItemToObject(line, "qid",
			      qid ? cJSON_Duplicate(qid, 1)
				  : cJSON_CreateString("1"));
	cJSON_AddItemToObject(line, "query", cJSON_CreateString(q->text));
	cJSON_AddItemToObject(line, "results", results);
	results = NULL;
	for (size_t i = 0; i < n; i++) {
		cJSON *r = cJSON_CreateObject();

		if (!r)
			goto done;
		cJSON_AddItemToArray(
		    cJSON_GetObjectItemCaseSensitive(line, "results"), r);
		cJSON_AddItemToObject(r, "id", cJSON_CreateString(l->r[i].id));
		if (s->have_g)
			cJSON_AddItemToObject(r, "sid",
					      sid_array(s, l->r[i].item));
		cJSON_AddItemToObject(
		    r, "score",
		    cJSON_CreateNumber(round(l->r[i].score * 1e6) / 1e6));
		cJSON_AddItemToObject(r, "rank",
				      cJSON_CreateNumber((double)(i + 1)));
	}
	rc = os_jsonl_write(out, line) < 0 ? -1 : 0;
	if (rc < 0)
		os_output_write_error(err, s->o->output);
done:
	if (rc < 0 && !err->status)
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	cJSON_Delete(line);
	cJSON_Delete(results);
	return rc;
}

static void print_sid(FILE *out, const struct search *s, uint32_t node)
{
	uint32_t path[OS_SID_MAX_LEVELS];
	size_t depth = 0;

	for (; node != 0 && depth < OS_SID_MAX_LEVELS;
	     node = s->g.index.parent[node])
		path[depth++] = s->g.index.code[node];
	while (depth--)
		fprintf(out, "%u%s", path[depth], depth ? "," : "");
}

static void explain(FILE *out, struct search *s, const struct query *q,
		    const struct list *l)
{
	const struct os_trace *t = &q->trace;
	size_t show = 10;
	struct os_error e;

	fprintf(out, "query: %s\ntokens (? unknown to the model):", q->text);
	if (os_analyze(&s->tokens, q->text, s->norm_flags, &e) == 0)
		for (uint32_t i = 0; i < q->len && i < s->tokens.n; i++)
			fprintf(out, " %s%s", os_token_text(&s->tokens, i),
				s->pool.row[q->start + i] ==
					os_model_word_row(&s->m.cfg, 0)
				    ? "?"
				    : "");
	fputc('\n', out);
	if (t->first_probs) {
		uint32_t best[10];
		size_t nb = 0;

		for (size_t c = 0; c < t->first_codes; c++) {
			size_t j;

			if (nb < show)
				j = nb++;
			else if (t->first_probs[c] <=
				 t->first_probs[best[show - 1]])
				continue;
			else
				j = show - 1;
			while (j > 0 && t->first_probs[c] >
					    t->first_probs[best[j - 1]]) {
				best[j] = best[j - 1];
				j--;
			}
			best[j] = (uint32_t)c;
		}
		fprintf(out, "level 1, most likely codes before the trie:\n");
		for (size_t i = 0; i < nb; i++)
			fprintf(out, "  %5u  p=%.4f\n", best[i],
				t->first_probs[best[i]]);
	}
	for (size_t lv = 0; lv < t->levels; lv++) {
		fprintf(out,
			"level %zu beams (prefix, log p of the code, score):\n",
			lv + 1);
		for (size_t b = 0; b < t->nbeams[lv] && b < show; b++) {
			fprintf(out, "  ");
			print_sid(out, s, t->beams[lv][b].node);
			fprintf(out, "  %.4f  %.4f\n", t->beams[lv][b].logp,
				t->beams[lv][b].score);
		}
		if (t->nbeams[lv] > show)
			fprintf(out, "  ... %zu more\n", t->nbeams[lv] - show);
	}
	fprintf(out, "results:\n");
	for (size_t i = 0; i < l->n && i < (size_t)s->o->k; i++)
		fprintf(out, "  %2zu  %10.4f  %-12s  %s\n", i + 1,
			l->r[i].score, l->r[i].id, title_of(s, l->r[i].id));
	fputc('\n', out);
}

static int record_latency(struct search *s, double seconds)
{
	double *l = os_grow(s->latency, &s->latency_cap, s->nlatency + 1,
			    sizeof *l, 1024);

	if (!l)
		return -1;
	s->latency = l;
	l[s->nlatency++] = seconds;
	return 0;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* -v: the queries a second and the latency of one query. */
static void report_latency(struct search *s, double wall)
{
	size_t n = s->nlatency;

	if (n == 0)
		return;
	qsort(s->latency, n, sizeof *s->latency, by_value);
	os_cli_warn("%zu queries in %.3f s (%.1f a second, threads: %d); a "
		    "query's latency: p50 %.3f ms, p99 %.3f ms, max %.3f ms",
		    n, wall, (double)n / wall, s->ndec ? s->ndec : 1,
		    1e3 * s->latency[(n - 1) / 2], 1e3 * s->latency[(n * 99 - 1) / 100],
		    1e3 * s->latency[n - 1]);
}

static const char *hit_id(const struct search *s, const struct os_hit *h)
{
	return s->have_dense ? os_dense_index_id(&s->dense, h->item)
			     : os_sidindex_id(&s->g.index, h->item);
}

/* Ranks, fuses and writes the chunk's queries in input order. */
static int finish_chunk(struct search *s, FILE *out, struct os_error *err)
{
	const struct options *o = s->o;

	for (size_t i = 0; i < s->nq; i++) {
		struct query *q = &s->q[i];
		const struct list *l;
		double t0 = os_cli_now();

		list_clear(&s->model_list);
		for (long h = 0; h < q->nhits && !o->bm25; h++)
			if (list_add(&s->model_list, hit_id(s, &q->hits[h]),
				     s->have_g ? (long)q->hits[h].item : -1,
				     q->hits[h].score) < 0)
				goto oom;
		if ((o->bm25 || o->fuse) && bm25(s, q->text, err) < 0)
			return -1;
		l = o->bm25 ? &s->bm25_list : &s->model_list;
		if (o->fuse) {
			list_clear(&s->fused);
			if (fuse_in(&s->fused, &s->model_list, o->weight_model,
				    o) < 0 ||
			    fuse_in(&s->fused, &s->bm25_list, o->weight_bm25,
				    o) < 0)
				goto oom;
			qsort(s->fused.r, s->fused.n, sizeof *s->fused.r,
			      by_score);
			l = &s->fused;
		}
		q->seconds += os_cli_now() - t0;
		if (o->cli.verbose && record_latency(s, q->seconds) < 0)
			goto oom;
		if (o->explain)
			explain(out, s, q, l);
		else if (write_run(s, q, l, out, err) < 0)
			return -1;
		cJSON_Delete(q->obj);
		q->obj = NULL;
		os_trace_release(&q->trace);
	}
	s->nq = 0;
	os_text_pool_clear(&s->pool);
	return 0;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return -1;
}

/* Takes one query record into the chunk. */
static int take(struct search *s, cJSON *obj, struct os_error *err)
{
	struct query *q = &s->q[s->nq];
	char qid[OS_RECORD_ID_MAX], keywords[1024] = "";
	long n;

	q->obj = obj;
	if (!os_record_id(cJSON_GetObjectItemCaseSensitive(obj, "qid"), "qid",
			  qid, sizeof qid, err) ||
	    !(q->text = os_record_query(obj, err)))
		return -1;
	q->len = 0;
	q->start = 0;
	q->seconds = 0;
	if (s->have_dense &&
	    os_dense_query_vector(&s->dense, obj, q->text, &s->tokens,
				  s->qvec + s->nq * s->dense.dim, err) < 0)
		return -1;
	if (s->have_g) {
		if (s->o->with_cot &&
		    os_cot_keyword_text(obj, keywords, sizeof keywords, err) < 0)
			return -1;
		if ((n = os_generative_query_text(&s->g, &s->m.cfg, &s->pool,
						  obj, q->text, keywords,
						  &q->start, err)) < 0)
			return -1;
		q->len = (uint32_t)n;
	}
	s->nq++;
	return 0;
}

/* Whether a model or the dense vectors search (else BM25 alone). */
static int searches(const struct search *s)
{
	return s->have_g || s->have_dense;
}

static int run(struct search *s, FILE *out, struct os_error *err)
{
	const struct options *o = s->o;
	struct os_jsonl_reader *rd = NULL;
	cJSON *obj;
	int rc;

	if (o->query) {
		obj = cJSON_CreateObject();
		if (!obj || !cJSON_AddStringToObject(obj, "qid", "1") ||
		    !cJSON_AddStringToObject(obj, "query", o->query)) {
			cJSON_Delete(obj);
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
			return -1;
		}
		if (take(s, obj, err) < 0)
			return -1;
		return (searches(s) && search_chunk(s, err) < 0)
			   ? -1
			   : finish_chunk(s, out, err);
	}
	if (!(rd = os_jsonl_reader_new(o->inputs, o->ninputs,
				       (size_t)o->cli.max_line))) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	while ((rc = os_jsonl_reader_next(rd, &obj, err)) > 0) {
		if (take(s, obj, err) < 0) {
			os_error_locate(err, os_jsonl_reader_where(rd),
					os_jsonl_reader_line(rd));
			rc = -1;
			break;
		}
		if (s->nq == CHUNK &&
		    ((searches(s) && search_chunk(s, err) < 0) ||
		     finish_chunk(s, out, err) < 0)) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && s->nq &&
	    ((searches(s) && search_chunk(s, err) < 0) ||
	     finish_chunk(s, out, err) < 0))
		rc = -1;
	os_jsonl_reader_free(rd);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	struct search *s = NULL;
	struct os_output out;
	struct os_error err;
	int status, have_out = 0;
	double start;

	os_blas_fit_cpu(argv);
	os_cli_init(argv[0]);
	os_error_clear(&err);
	status = parse_options(argc, argv, &o);
	if (status != 0) {
		return os_cli_options_exit(status);
	}
	os_parallel_set_threads(o.cli.threads);
	os_matmul_single_threaded();
	if (!(s = calloc(1, sizeof *s))) {
		os_error_set(&err, OS_EXIT_FAILURE, "out of memory");
		goto done;
	}
	s->o = &o;
	os_strmap_init(&s->titles);
	os_dense_index_init(&s->dense);
	os_tokens_init(&s->tokens);
	os_text_pool_init(&s->pool);
	if (setup(s, &err) < 0 || os_output_open(&out, o.output, &err) < 0)
		goto done;
	have_out = 1;
	start = os_cli_now();
	if (run(s, out.f, &err) < 0)
		goto done;
	if (o.cli.verbose)
		report_latency(s, os_cli_now() - start);
	if (os_output_commit(&out, &err) == 0)
		have_out = 0;
done:
	if (have_out)
		os_output_abort(&out);
	status = err.status;
	if (status)
		os_cli_report(&err);
	if (s)
		teardown(s);
	free(s);
	if (os_cli_close_stdout(status == OS_EXIT_OK) < 0 &&
	    status == OS_EXIT_OK)
		status = OS_EXIT_FAILURE;
	return status;
}
