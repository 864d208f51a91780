/* SPDX-License-Identifier: MIT */
/* os-cot: the keyword chain-of-thought of query records (see os-cot(1)):
 * each record comes back with a "cot" object, from the catalog's cache or
 * from the backend. Options, reading, the cache and output; the backends
 * are in libonesearch (stats: cotstats.c, cotinfer.c; llm: llm.c). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/catalog.h"
#include "lib/cli.h"
#include "lib/cot.h"
#include "lib/cotstats.h"
#include "lib/grow.h"
#include "lib/hash.h"
#include "lib/jsonl.h"
#include "lib/lines.h"
#include "lib/llm.h"
#include "lib/output.h"
#include "lib/parallel.h"
#include "lib/record.h"

enum backend { BACKEND_STATS, BACKEND_LLM };

/* The default prompt of the llm backend: share/cot-prompt.txt. */
static const char default_prompt[] =
#include "cot-prompt.inc"
	;

struct options {
	const char *catalog, *output;
	enum backend backend;
	const char *endpoint, *model, *prompt;
	double timeout;
	long retries, parallel;
	char **train;
	size_t ntrain;
	struct os_cot_stats_options stats;
	struct os_cli_common cli;
	int explain, refresh, no_cache;
	char **inputs;
	size_t ninputs;
};

enum {
	OPT_BACKEND = 256,
	OPT_TRAIN,
	OPT_ENDPOINT,
	OPT_MODEL,
	OPT_PROMPT,
	OPT_TIMEOUT,
	OPT_RETRIES,
	OPT_PARALLEL,
	OPT_MIN_GRADE,
	OPT_MIN_SUPPORT,
	OPT_SMOOTHING,
	OPT_MIN_SCORE,
	OPT_MIN_ATTRIBUTE,
	OPT_MIN_LIFT,
	OPT_MIN_PERSONAL,
	OPT_HISTORY,
	OPT_MAX_CATEGORY,
	OPT_MAX_SUBSTITUTES,
	OPT_MAX_KEYWORDS,
	OPT_NO_LEAVE_ONE_OUT,
	OPT_EXPLAIN,
	OPT_REFRESH,
	OPT_NO_CACHE,
};

static const struct option long_options[] = {
    {"catalog", required_argument, NULL, 'C'},
    {"output", required_argument, NULL, 'o'},
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"train", required_argument, NULL, OPT_TRAIN},
    {"endpoint", required_argument, NULL, OPT_ENDPOINT},
    {"model", required_argument, NULL, OPT_MODEL},
    {"prompt", required_argument, NULL, OPT_PROMPT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"parallel", required_argument, NULL, OPT_PARALLEL},
    {"min-grade", required_argument, NULL, OPT_MIN_GRADE},
    {"min-support", required_argument, NULL, OPT_MIN_SUPPORT},
    {"smoothing", required_argument, NULL, OPT_SMOOTHING},
    {"min-score", required_argument, NULL, OPT_MIN_SCORE},
    {"min-attribute", required_argument, NULL, OPT_MIN_ATTRIBUTE},
    {"min-lift", required_argument, NULL, OPT_MIN_LIFT},
    {"min-personal", required_argument, NULL, OPT_MIN_PERSONAL},
    {"history", required_argument, NULL, OPT_HISTORY},
    {"max-category", required_argument, NULL, OPT_MAX_CATEGORY},
    {"max-substitutes", required_argument, NULL, OPT_MAX_SUBSTITUTES},
    {"max-keywords", required_argument, NULL, OPT_MAX_KEYWORDS},
    {"no-leave-one-out", no_argument, NULL, OPT_NO_LEAVE_ONE_OUT},
    {"explain", no_argument, NULL, OPT_EXPLAIN},
    {"refresh", no_argument, NULL, OPT_REFRESH},
    {"no-cache", no_argument, NULL, OPT_NO_CACHE},
    OS_CLI_COMMON_LONG_OPTIONS,
    OS_CLI_STANDARD_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

static void help(void)
{
	printf("Usage: %s -C CATALOG [--train FILE]... [OPTION]... [FILE]...\n"
	       "  or:  %s -C CATALOG --backend llm --endpoint URL --model NAME "
	       "[OPTION]... [FILE]...\n",
	       os_cli_program(), os_cli_program());
	fputs("\
Add to each query record (\"query\", and \"user\" when known) of the FILEs\n\
its keyword chain-of-thought, \"cot\": intent, category, attributes,\n\
negative constraints, substitutes, personal preferences and at most 8\n\
keywords, what os-distill's teacher reads. Answers are cached in the\n\
catalog. With no FILE, or when FILE is -, read standard input.\n\
\n\
  -C, --catalog=FILE      the catalog (default: $OS_CATALOG)\n\
      --backend=NAME      stats (default): inferred from the catalog's\n\
                          keywords and the training pairs; llm: asked of a\n\
                          chat model (key from $OS_LLM_API_KEY)\n\
Stats backend:\n\
      --train=FILE        training query records (\"query\", \"relevant\"\n\
                          or \"graded\") for the statistics (repeatable)\n\
      --min-grade=X       a graded item of at least X is relevant (default:\n\
                          os-eval's rule)\n\
      --min-support=N     training queries a word needs (default 2)\n\
      --smoothing=A       weight of the catalog prior (default 1)\n\
      --min-score=X       score of an inferred category or substitute\n\
                          (default 0.5)\n\
      --min-attribute=X   score of an inferred attribute (default 0.7)\n\
      --min-lift=X        score over the keyword's catalog share (default 2)\n\
      --min-personal=X    share of the history for a preference (default\n\
                          0.3)\n\
      --history=N         most recent history items read (default 20)\n\
      --max-category=N    categories (default 2)\n\
      --max-substitutes=N substitutes (default 3)\n\
      --max-keywords=N    keywords, 1 to 8 (default 8)\n\
      --no-leave-one-out  let a training query's own pairs count\n\
LLM backend:\n\
      --endpoint=URL      an OpenAI-compatible chat completions URL, such as\n\
                          https://api.openai.com/v1/chat/completions\n\
      --model=NAME        the model to ask\n\
      --prompt=FILE       the prompt template (default: the one installed as\n\
                          cot-prompt.txt)\n\
      --timeout=SECS      a request's time limit (default 60)\n\
      --retries=N         tries after the first, on timeouts, HTTP 429 and\n\
                          5xx and bad answers (default 3)\n\
      --parallel=N        requests in flight (default 4)\n\
Output and cache:\n\
      --explain           add \"cot_explain\": where each keyword came from\n\
                          (the cache is not read)\n\
      --refresh           do not read the cache (answers are still stored)\n\
      --no-cache          neither read nor write the cache\n\
      --seed=N            accepted for uniformity: the backend draws nothing\n\
      --threads=N         threads over queries (default: all cores)\n\
      --max-line=BYTES    longest input line accepted (default 67108864)\n\
  -o, --output=FILE       write to FILE (whole or not at all)\n\
  -q, --quiet             no report on standard error\n\
  -v, --verbose           report the statistics and the cache's hits\n\
",
	      stdout);
	os_cli_help_tail("os-cot(1), os-distill(1), os-tokenize(1)");
}

static int parse_fraction(const char *option, const char *arg, double *out)
{
	return os_cli_parse_double(option, arg, 0, 1, out);
}

/* Returns 0 to run, 1 after --help or --version, -1 on a usage error. */
static int parse_options(int argc, char **argv, struct options *o)
{
	struct os_cot_stats_options *so = &o->stats;
	int c, common, rc = 0;
	long v;

	memset(o, 0, sizeof *o);
	os_cli_common_init(&o->cli);
	os_cot_stats_defaults(so);
	o->catalog = getenv("OS_CATALOG");
	o->timeout = 60;
	o->retries = 3;
	o->parallel = 4;
	if (!(o->train = calloc((size_t)argc, sizeof *o->train))) {
		os_cli_warn("out of memory");
		return -1;
	}
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, ":C:o:qvhV",
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
		case 'o':
			o->output = optarg;
			break;
		case OPT_BACKEND: {
			static const char *const backends[] = {"stats", "llm",
							       NULL};
			int i;

			if (os_cli_parse_choice("--backend", optarg, backends,
						&i) < 0)
				return -1;
			o->backend = i ? BACKEND_LLM : BACKEND_STATS;
			break;
		}
		case OPT_ENDPOINT:
			o->endpoint = optarg;
			break;
		case OPT_MODEL:
			o->model = optarg;
			break;
		case OPT_PROMPT:
			o->prompt = optarg;
			break;
		case OPT_TIMEOUT:
			rc = os_cli_parse_double("--timeout", optarg, 0.001,
						 86400, &o->timeout);
			break;
		case OPT_RETRIES:
			rc = os_cli_parse_long("--retries", optarg, 0, 100,
					       &o->retries);
			break;
		case OPT_PARALLEL:
			rc = os_cli_parse_long("--parallel", optarg, 1, 256,
					       &o->parallel);
			break;
		case OPT_TRAIN:
			o->train[o->ntrain++] = optarg;
			break;
		case OPT_MIN_GRADE:
			rc = os_cli_parse_double("--min-grade", optarg, 0, 1e9,
						 &so->min_grade);
			break;
		case OPT_MIN_SUPPORT:
			rc = os_cli_parse_long("--min-support", optarg, 1,
					       1L << 30, &so->min_support);
			break;
		case OPT_SMOOTHING:
			rc = os_cli_parse_double("--smoothing", optarg, 0, 1e6,
						 &so->smoothing);
			break;
		case OPT_MIN_SCORE:
			rc = parse_fraction("--min-score", optarg,
					    &so->min_score);
			break;
		case OPT_MIN_ATTRIBUTE:
			rc = parse_fraction("--min-attribute", optarg,
					    &so->min_attribute);
			break;
		case OPT_MIN_LIFT:
			rc = os_cli_parse_double("--min-lift", optarg, 0, 1e9,
						 &so->min_lift);
			break;
		case OPT_MIN_PERSONAL:
			rc = parse_fraction("--min-personal", optarg,
					    &so->min_personal);
			break;
		case OPT_HISTORY:
			rc = os_cli_parse_long("--history", optarg, 0, 256,
					       &so->history);
			break;
		case OPT_MAX_CATEGORY:
			rc = os_cli_parse_long("--max-category", optarg, 0, 8,
					       &v);
			so->max_category = (int)v;
			break;
		case OPT_MAX_SUBSTITUTES:
			rc = os_cli_parse_long("--max-substitutes", optarg, 0,
					       8, &v);
			so->max_substitutes = (int)v;
			break;
		case OPT_MAX_KEYWORDS:
			rc = os_cli_parse_long("--max-keywords", optarg, 1,
					       OS_COT_MAX_KEYWORDS, &v);
			so->max_keywords = (int)v;
			break;
		case OPT_NO_LEAVE_ONE_OUT:
			so->leave_one_out = 0;
			break;
		case OPT_EXPLAIN:
			o->explain = 1;
			break;
		case OPT_REFRESH:
			o->refresh = 1;
			break;
		case OPT_NO_CACHE:
			o->no_cache = 1;
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
	if (o->backend == BACKEND_LLM && (!o->endpoint || !o->model)) {
		os_cli_warn("--backend llm needs --endpoint URL and --model NAME");
		return -1;
	}
	if (o->backend == BACKEND_LLM && o->explain) {
		os_cli_warn("--explain explains the stats backend's keywords");
		return -1;
	}
	for (size_t i = 0; i < o->ntrain; i++)
		if (strcmp(o->train[i], "-") == 0) {
			os_cli_warn("--train needs a file: standard input "
				    "holds the queries");
			return -1;
		}
	so->max_line = (size_t)o->cli.max_line;
	o->inputs = argv + optind;
	o->ninputs = (size_t)(argc - optind);
	return 0;
}

/* ---- a chunk of records ---- */

enum { CHUNK = 256 };

struct query {
	cJSON *obj;         /* the record */
	const char *text;   /* its "query" */
	const cJSON *user;  /* its "user", or NULL */
	char key[17];       /* in the cache */
	cJSON *cot, *explain; /* the answer, until written */
	int cached;
	int no_answer;      /* the llm gave none: written without a cot */
	struct os_error err;
	const char *where;  /* its file and line, for errors */
	long line;
};

struct run {
	const struct options *o;
	struct os_catalog *cat;
	const char *backend;  /* its name */
	char fingerprint[17]; /* of the statistics' inputs, or of the llm's
			       * model and prompt */
	char *prompt;         /* the llm's template */
	long failed;          /* queries the llm did not answer */
	struct os_cot_stats stats;
	int have_stats;
	struct query q[CHUNK];
	size_t nq;
	long records, hits;
	double start;
};

/* The cache key of a query: everything its answer depends on. */
static void cache_key(const struct run *r, struct query *q)
{
	uint64_t h = OS_FNV_OFFSET;
	char *user = q->user ? cJSON_PrintUnformatted(q->user) : NULL;

	h = os_hash_bytes(h, r->backend, strlen(r->backend) + 1);
	h = os_hash_bytes(h, r->fingerprint, 16);
	h = os_hash_bytes(h, q->text, strlen(q->text) + 1);
	if (user)
		h = os_hash_bytes(h, user, strlen(user));
	free(user);
	snprintf(q->key, sizeof q->key, "%016llx",
		 (unsigned long long)os_hash_mix(h));
}

/* The cached answer of q, if any and valid. */
static int cache_read(struct run *r, struct query *q, struct os_error *err)
{
	char *text = os_catalog_cot_get(r->cat, q->key, err);
	struct os_error bad;

	if (!text)
		return err->status ? -1 : 0;
	q->cot = cJSON_Parse(text);
	free(text);
	if (q->cot && os_cot_check(q->cot, &bad) < 0) {
		cJSON_Delete(q->cot);
		q->cot = NULL;
	}
	q->cached = q->cot != NULL;
	r->hits += q->cached;
	return 0;
}

static int build_stats(struct run *r, struct os_error *err)
{
	const struct options *o = r->o;
	double t0 = os_cli_now();

	if (os_cot_stats_build(&r->stats, r->cat, o->train, o->ntrain,
			       &o->stats, err) < 0) {
		os_cot_stats_release(&r->stats);
		return -1;
	}
	r->have_stats = 1;
	if (o->cli.verbose && !o->cli.quiet)
		fprintf(stderr,
			"%s: statistics of %zu items, %zu keywords (%s as "
			"category), %ld training queries (%ld without a "
			"catalog item), %zu words (%.2f s)\n",
			os_cli_program(), r->stats.items.count,
			r->stats.dict.n, r->stats.category_type,
			r->stats.train_records, r->stats.train_skipped,
			r->stats.features.count, os_cli_now() - t0);
	return 0;
}

/* The user's recent items for the prompt: the titles of the first
 * --history ids that are catalog items, joined by "; " (malloc'd), or
 * NULL when there are none (err->status 0) or on error. */
static char *history_text(struct run *r, const cJSON *history,
			  struct os_error *err)
{
	struct os_text text = {0};
	char id[OS_RECORD_ID_MAX];
	long looked = 0;
	const cJSON *v;

	os_error_clear(err);
	cJSON_ArrayForEach(v, history) {
		char *title;
		int failed;

		if (looked++ >= r->o->stats.history)
			break;
		if (!os_record_id(v, "user.history", id, sizeof id, err))
			goto fail;
		if (!(title = os_catalog_item_title(r->cat, id, err))) {
			if (err->status)
				goto fail;
			continue;
		}
		failed = (text.n && os_text_add(&text, "; ", 2) < 0) ||
			 os_text_add(&text, title, strlen(title)) < 0;
		free(title);
		if (failed) {
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
			goto fail;
		}
	}
	return text.s;
fail:
	free(text.s);
	return NULL;
}

/* The llm backend: the chunk's unanswered queries asked at once. A query
 * the model does not answer is written without a CoT (and reported). */
static int ask_llm(struct run *r, struct os_error *err)
{
	const struct options *o = r->o;
	struct os_llm_options lo = {o->endpoint, o->model, getenv("OS_LLM_API_KEY"),
				    r->prompt, o->timeout, 0.5, o->retries,
				    o->parallel};
	struct os_llm_job jobs[CHUNK];
	size_t at[CHUNK], n = 0;
	int rc = 0;

	for (size_t i = 0; i < r->nq && rc == 0; i++) {
		struct query *q = &r->q[i];
		const cJSON *history, *profile;
		char *text;

		if (q->cot || os_cot_user(q->user, &history, &profile, &q->err) < 0)
			continue; /* a bad user is reported in order */
		text = history_text(r, history, &q->err);
		if (!text && q->err.status == OS_EXIT_BAD_INPUT)
			continue;
		if (!text && q->err.status) {
			*err = q->err;
			rc = -1;
			break;
		}
		jobs[n] = (struct os_llm_job){.query = q->text, .history = text,
					      .profile = profile};
		at[n++] = i;
	}
	if (rc == 0)
		rc = os_llm_run(&lo, jobs, n, err);
	for (size_t k = 0; k < n; k++) {
		struct query *q = &r->q[at[k]];

		free((char *)jobs[k].history);
		if (rc < 0)
			continue;
		q->cot = jobs[k].cot;
		if (!q->cot) {
			q->no_answer = 1;
			q->err = jobs[k].err;
		}
	}
	return rc;
}

/* Answers the queries of the chunk that the cache did not. */
static int infer_chunk(struct run *r, struct os_error *err)
{
	int need = 0;

	for (size_t i = 0; i < r->nq; i++)
		need |= !r->q[i].cot;
	if (!need)
		return 0;
	if (r->o->backend == BACKEND_LLM)
		return ask_llm(r, err);
	if (!r->have_stats && build_stats(r, err) < 0)
		return -1;
#pragma omp parallel for schedule(dynamic, 8)
	for (size_t i = 0; i < r->nq; i++) {
		struct query *q = &r->q[i];

		if (!q->cot)
			q->cot = os_cot_stats_infer(&r->stats, q->text, q->user,
						    r->o->explain ? &q->explain
								  : NULL,
						    &q->err);
	}
	return 0;
}

/* Stores the new answers of the chunk, in one transaction. */
static int cache_write(struct run *r, struct os_error *err)
{
	if (r->o->no_cache)
		return 0;
	if (os_catalog_begin(r->cat, err) < 0)
		return -1;
	for (size_t i = 0; i < r->nq; i++) {
		struct query *q = &r->q[i];
		char *text;
		int rc;

		if (q->cached || !q->cot)
			continue;
		if (!(text = cJSON_PrintUnformatted(q->cot))) {
			os_catalog_rollback(r->cat);
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
			return -1;
		}
		rc = os_catalog_cot_put(r->cat, q->key, r->backend, text, err);
		free(text);
		if (rc < 0) {
			os_catalog_rollback(r->cat);
			return -1;
		}
	}
	return os_catalog_commit(r->cat, err);
}

/* Writes the chunk's records in order, up to the first that failed. */
static int write_chunk(struct run *r, FILE *out, struct os_error *err)
{
	int rc = 0;

	for (size_t i = 0; i < r->nq; i++) {
		struct query *q = &r->q[i];

		if (rc == 0 && q->no_answer) {
			struct os_error e = q->err;

			os_error_locate(&e, q->where, q->line);
			os_cli_report(&e);
			r->failed++;
			cJSON_DeleteItemFromObjectCaseSensitive(q->obj, "cot");
		} else if (rc == 0 && !q->cot) {
			*err = q->err;
			if (err->status == OS_EXIT_BAD_INPUT)
				os_error_locate(err, q->where, q->line);
			rc = -1;
		}
		if (rc == 0 && !q->no_answer &&
		    (os_json_set(q->obj, "cot", q->cot) < 0 ||
		     (q->explain &&
		      os_json_set(q->obj, "cot_explain", q->explain) < 0))) {
			q->cot = q->explain = NULL; /* owned by obj, or freed */
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
			rc = -1;
		}
		if (rc == 0) {
			q->cot = q->explain = NULL; /* owned by obj now */
			if (os_jsonl_write(out, q->obj) < 0) {
				os_output_write_error(err, r->o->output);
				rc = -1;
			}
		}
		cJSON_Delete(q->cot);
		cJSON_Delete(q->explain);
		cJSON_Delete(q->obj);
		memset(q, 0, sizeof *q);
	}
	r->nq = 0;
	return rc;
}

static int flush_chunk(struct run *r, FILE *out, struct os_error *err)
{
	if (infer_chunk(r, err) < 0 || cache_write(r, err) < 0)
		return -1;
	return write_chunk(r, out, err);
}

/* Takes one record into the chunk. */
static int take(struct run *r, cJSON *obj, struct os_jsonl_reader *rd,
		struct os_error *err)
{
	struct query *q = &r->q[r->nq++];

	q->obj = obj;
	q->where = os_jsonl_reader_where(rd);
	q->line = os_jsonl_reader_line(rd);
	if (!(q->text = os_record_query(obj, err)))
		return -1;
	q->user = cJSON_GetObjectItemCaseSensitive(obj, "user");
	if (cJSON_IsNull(q->user))
		q->user = NULL;
	cache_key(r, q);
	r->records++;
	if (r->o->refresh || r->o->explain || r->o->no_cache)
		return 0;
	return cache_read(r, q, err);
}

/* After an error at a record: answers and writes the records before it,
 * and keeps the first error in input order. */
static void flush_before_error(struct run *r, FILE *out, struct os_error *err)
{
	struct os_error first = *err;

	if (flush_chunk(r, out, err) == 0)
		*err = first;
}

static int run(struct run *r, FILE *out, struct os_error *err)
{
	struct os_jsonl_reader *rd = os_jsonl_reader_new(
		r->o->inputs, r->o->ninputs, (size_t)r->o->cli.max_line);
	cJSON *obj;
	int rc;

	if (!rd) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	while ((rc = os_jsonl_reader_next(rd, &obj, err)) > 0) {
		if (take(r, obj, rd, err) < 0) {
			if (err->status == OS_EXIT_BAD_INPUT)
				os_error_locate(err, os_jsonl_reader_where(rd),
						os_jsonl_reader_line(rd));
			r->nq--;
			cJSON_Delete(r->q[r->nq].obj);
			memset(&r->q[r->nq], 0, sizeof r->q[r->nq]);
			rc = -1;
			break;
		}
		if (r->nq == CHUNK && flush_chunk(r, out, err) < 0) {
			rc = -1;
			break;
		}
	}
	if (rc < 0 && r->nq)
		flush_before_error(r, out, err);
	else if (rc == 0 && r->nq && flush_chunk(r, out, err) < 0)
		rc = -1;
	os_jsonl_reader_free(rd);
	return rc;
}

/* The whole of a small text file (malloc'd), or NULL with err. */
static char *read_text(const char *path, struct os_error *err)
{
	FILE *f = fopen(path, "rb");
	struct os_text text = {0};
	char buf[4096];
	size_t got;

	os_error_clear(err);
	if (!f) {
		os_error_set(err, OS_EXIT_FAILURE, "cannot open '%s': %s", path,
			     strerror(errno));
		return NULL;
	}
	if (os_text_add(&text, "", 0) < 0)
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	while (!err->status && (got = fread(buf, 1, sizeof buf, f)) > 0)
		if (os_text_add(&text, buf, got) < 0)
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	if (!err->status && ferror(f))
		os_error_set(err, OS_EXIT_FAILURE, "cannot read '%s': %s", path,
			     strerror(errno));
	fclose(f);
	if (err->status) {
		free(text.s);
		return NULL;
	}
	return text.s;
}

/* The llm backend's prompt, and the fingerprint of its model and prompt
 * for the cache. */
static int setup_llm(struct run *r, struct os_error *err)
{
	const struct options *o = r->o;
	uint64_t h = OS_FNV_OFFSET;

	r->prompt = o->prompt ? read_text(o->prompt, err) : strdup(default_prompt);
	if (!r->prompt) {
		if (!err->status)
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	h = os_hash_bytes(h, o->model, strlen(o->model) + 1);
	h = os_hash_bytes(h, r->prompt, strlen(r->prompt));
	snprintf(r->fingerprint, sizeof r->fingerprint, "%016llx",
		 (unsigned long long)os_hash_mix(h));
	return 0;
}

static int setup(struct run *r, struct os_error *err)
{
	const struct options *o = r->o;

	r->backend = o->backend == BACKEND_LLM ? "llm" : "stats";
	if (os_catalog_open(&r->cat, o->catalog,
			    o->no_cache ? OS_CATALOG_READ_ONLY
					: OS_CATALOG_EXISTING,
			    err) < 0)
		return -1;
	if (o->backend == BACKEND_LLM)
		return setup_llm(r, err);
	return os_cot_stats_fingerprint(r->cat, o->train, o->ntrain, &o->stats,
					r->fingerprint, err);
}

int main(int argc, char **argv)
{
	struct options o;
	struct run *r = NULL;
	struct os_output out;
	struct os_error err;
	int status, have_out = 0;

	os_cli_init(argv[0]);
	os_error_clear(&err);
	status = parse_options(argc, argv, &o);
	if (status != 0) {
		free(o.train);
		return os_cli_options_exit(status);
	}
	os_parallel_set_threads(o.cli.threads);
	if (!(r = calloc(1, sizeof *r))) {
		os_error_set(&err, OS_EXIT_FAILURE, "out of memory");
		goto done;
	}
	r->o = &o;
	r->start = os_cli_now();
	if (setup(r, &err) < 0 || os_output_open(&out, o.output, &err) < 0)
		goto done;
	have_out = 1;
	if (run(r, out.f, &err) < 0)
		goto done;
	if (os_output_commit(&out, &err) == 0)
		have_out = 0;
	if (o.cli.verbose && !o.cli.quiet)
		fprintf(stderr, "%s: %ld queries, %ld from the cache (%.2f s)\n",
			os_cli_program(), r->records, r->hits,
			os_cli_now() - r->start);
	if (r->failed && !err.status)
		os_error_set(&err, OS_EXIT_FAILURE,
			     "%ld of %ld queries got no CoT from the llm (see "
			     "above); their records were written without one",
			     r->failed, r->records);
done:
	if (have_out)
		os_output_abort(&out);
	status = err.status;
	if (status)
		os_cli_report(&err);
	if (r) {
		for (size_t i = 0; i < r->nq; i++) {
			cJSON_Delete(r->q[i].obj);
			cJSON_Delete(r->q[i].cot);
			cJSON_Delete(r->q[i].explain);
		}
		if (r->have_stats)
			os_cot_stats_release(&r->stats);
		free(r->prompt);
		os_catalog_close(r->cat);
	}
	free(r);
	free(o.train);
	if (os_cli_close_stdout(status == OS_EXIT_OK) < 0 &&
	    status == OS_EXIT_OK)
		status = OS_EXIT_FAILURE;
	return status;
}
