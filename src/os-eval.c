/* SPDX-License-Identifier: MIT */
/* os-eval: offline evaluation of one or more runs against judgments (see
 * os-eval(1)). Options, orchestration and output only; the metrics,
 * inputs, statistics and charts are in libonesearch. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/analyze.h"
#include "lib/catalog.h"
#include "lib/cli.h"
#include "lib/evaldata.h"
#include "lib/grow.h"
#include "lib/hash.h"
#include "lib/jsonl.h"
#include "lib/metrics.h"
#include "lib/output.h"
#include "lib/parallel.h"
#include "lib/record.h"
#include "lib/rng.h"
#include "lib/stats.h"
#include "lib/strmap.h"
#include "lib/svg.h"

#define MAX_CUTOFFS 32

struct options {
	const char *qrels;
	long cutoffs[MAX_CUTOFFS];
	size_t ncut;
	double min_grade;
	int by_rank, per_query, table;
	struct os_cli_common cli;
	int linear_gain;
	const char *freq;
	long head_min, tail_max;
	const char *catalog;
	long depth, trials;
	const char *svg;
	const char *output;
	char **runs;
	size_t nruns;
};

enum {
	OPT_QRELS = 256,
	OPT_MIN_GRADE,
	OPT_GAIN,
	OPT_BY_RANK,
	OPT_PER_QUERY,
	OPT_FREQ,
	OPT_HEAD_MIN,
	OPT_TAIL_MAX,
	OPT_DEPTH,
	OPT_TABLE,
	OPT_SVG,
	OPT_TRIALS,
};

static const struct option long_options[] = {
	{"qrels", required_argument, NULL, OPT_QRELS},
	{"cutoffs", required_argument, NULL, 'k'},
	{"min-grade", required_argument, NULL, OPT_MIN_GRADE},
	{"gain", required_argument, NULL, OPT_GAIN},
	{"by-rank", no_argument, NULL, OPT_BY_RANK},
	{"per-query", no_argument, NULL, OPT_PER_QUERY},
	{"freq", required_argument, NULL, OPT_FREQ},
	{"head-min", required_argument, NULL, OPT_HEAD_MIN},
	{"tail-max", required_argument, NULL, OPT_TAIL_MAX},
	{"catalog", required_argument, NULL, 'C'},
	{"depth", required_argument, NULL, OPT_DEPTH},
	{"table", no_argument, NULL, OPT_TABLE},
	{"svg", required_argument, NULL, OPT_SVG},
	{"trials", required_argument, NULL, OPT_TRIALS},
	{"output", required_argument, NULL, 'o'},
	OS_CLI_COMMON_LONG_OPTIONS,
	OS_CLI_STANDARD_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

static void help(void)
{
	printf("Usage: %s --qrels FILE [OPTION]... RUN...\n", os_cli_program());
	fputs("\
Evaluate each RUN against the judgments: Recall@K, MRR@K, NDCG@K,\n\
HitRate@K and P@K at each cutoff, MAP and MRR, averaged over every judged\n\
query; with two runs or more, each is compared with the first. Runs are\n\
os-search JSON lines or TREC run files; judgments are query records with\n\
\"relevant\"/\"graded\" or TREC qrels. Any input may be compressed.\n\
\n\
      --qrels=FILE         the judgments (required)\n\
  -k, --cutoffs=LIST       cutoffs K, comma-separated (default 1,5,10,50)\n\
      --min-grade=G        an item is relevant when its grade is at least G\n\
                           (default: a record's \"relevant\" list, else grade 1)\n\
      --gain=exp|linear    NDCG gain of a grade g: 2^g - 1 (default) or g\n\
      --by-rank            order results by their rank field, not by score\n\
      --per-query          also write one line of metrics per run and query\n\
      --freq=FILE          split queries into head, torso and tail by how often\n\
                           their text occurs in FILE (query records)\n\
      --head-min=N         head: at least N occurrences (default 10)\n\
      --tail-max=N         tail: at most N occurrences (default 1)\n\
  -C, --catalog=FILE       the catalog, for SID health and diversity\n\
                           (default: $OS_CATALOG when set)\n\
      --depth=N            results per query for SID health and diversity\n\
                           (default 10)\n\
      --table              write an aligned text table instead of JSON\n\
      --svg=FILE           also draw the metrics as an SVG chart in FILE\n\
      --trials=N           randomization and bootstrap draws per comparison\n\
                           (default 10000)\n\
      --seed=N             seed of those draws (default 1)\n\
      --threads=N          threads to read, order, score (default: all cores)\n\
      --max-line=BYTES     longest input line accepted (default 67108864)\n\
  -o, --output=FILE        write to FILE (whole or not at all)\n\
  -q, --quiet              no report on standard error\n\
  -v, --verbose            report what was read on standard error\n\
",
	      stdout);
	os_cli_help_tail("os-eval(1) for the formulas");
}

static int by_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static int parse_cutoffs(const char *arg, struct options *o)
{
	if (os_cli_parse_list("--cutoffs", arg, 1, 1000000, "integers",
			      o->cutoffs, MAX_CUTOFFS, &o->ncut) < 0)
		return -1;
	qsort(o->cutoffs, o->ncut, sizeof *o->cutoffs, by_long);
	for (size_t i = 1; i < o->ncut; i++)
		if (o->cutoffs[i] == o->cutoffs[i - 1]) {
			os_cli_warn("invalid --cutoffs value '%s' (K %ld twice)",
				    arg, o->cutoffs[i]);
			return -1;
		}
	return 0;
}

/* Returns 0 to run, 1 after --help or --version, -1 on a usage error. */
static int parse_options(int argc, char **argv, struct options *o)
{
	int c, common;

	memset(o, 0, sizeof *o);
	os_cli_common_init(&o->cli);
	o->min_grade = NAN;
	o->head_min = 10;
	o->tail_max = 1;
	o->depth = 10;
	o->trials = 10000;
	o->catalog = getenv("OS_CATALOG");
	parse_cutoffs("1,5,10,50", o);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:C:o:qvhV", long_options,
				NULL)) != -1) {
		common = os_cli_common_option(c, optarg, &o->cli);
		if (common < 0)
			return -1;
		if (common)
			continue;
		switch (c) {
		case OPT_QRELS:
			o->qrels = optarg;
			break;
		case 'k':
			if (parse_cutoffs(optarg, o) < 0)
				return -1;
			break;
		case OPT_MIN_GRADE:
			if (os_cli_parse_double("--min-grade", optarg, 0, 1e9,
						&o->min_grade) < 0)
				return -1;
			break;
		case OPT_GAIN: {
			static const char *const gains[] = {"exp", "linear",
							    NULL};
			int i;

			if (os_cli_parse_choice("--gain", optarg, gains, &i) <
			    0)
				return -1;
			o->linear_gain = i;
			break;
		}
		case OPT_BY_RANK:
			o->by_rank = 1;
			break;
		case OPT_PER_QUERY:
			o->per_query = 1;
			break;
		case OPT_FREQ:
			o->freq = optarg;
			break;
		case OPT_HEAD_MIN:
			if (os_cli_parse_long("--head-min", optarg, 1, 1L << 40,
					      &o->head_min) < 0)
				return -1;
			break;
		case OPT_TAIL_MAX:
			if (os_cli_parse_long("--tail-max", optarg, 0, 1L << 40,
					      &o->tail_max) < 0)
				return -1;
			break;
		case 'C':
			o->catalog = optarg;
			break;
		case OPT_DEPTH:
			if (os_cli_parse_long("--depth", optarg, 1, 1000000,
					      &o->depth) < 0)
				return -1;
			break;
		case OPT_TABLE:
			o->table = 1;
			break;
		case OPT_SVG:
			if (strcmp(optarg, "-") == 0) {
				os_cli_warn("--svg needs a file name; standard "
					    "output carries the metrics");
				return -1;
			}
			o->svg = optarg;
			break;
		case OPT_TRIALS:
			if (os_cli_parse_long("--trials", optarg, 0, 100000000,
					      &o->trials) < 0)
				return -1;
			break;
		case 'o':
			o->output = optarg;
			break;
		default:
			return os_cli_standard_option(c, argv, help) > 0 ? 1 : -1;
		}
	}
	os_parallel_set_threads(o->cli.threads);
	if (!o->qrels) {
		os_cli_warn("no judgments: give --qrels FILE");
		return -1;
	}
	if (o->tail_max >= o->head_min) {
		os_cli_warn("--tail-max must be below --head-min");
		return -1;
	}
	if (o->catalog && !*o->catalog)
		o->catalog = NULL;
	o->runs = argv + optind;
	o->nruns = (size_t)(argc - optind);
	if (o->nruns == 0) { /* one run, from standard input */
		static char *stdin_run[] = {"-"};

		o->runs = stdin_run;
		o->nruns = 1;
	}
	return 0;
}

/* What the catalog tells about an item. */
struct item_view {
	const char *category; /* interned in catalog_view.strings, or NULL */
	const char *brand;
	unsigned char in_catalog;
};

/* The catalog as evaluation sees it, indexed by interned item id. */
struct catalog_view {
	long items;              /* items in the catalog */
	struct item_view *item;
	size_t cap;
	struct os_strmap sids;   /* every SID of the catalog */
	struct os_strmap strings;/* owns the category and brand texts */
	struct os_strmap ids;    /* item id -> index into `item` */
	int failed;
};

/* Everything one evaluation holds. */
struct eval {
	struct options *o;
	struct os_metric_set set;
	size_t nm;                /* values per query */
	struct os_qrels qrels;
	size_t *judged;           /* indices of judged queries in qrels */
	size_t njudged;
	const char **freq_label;  /* head/torso/tail per judged query, or NULL */
	struct os_run *runs;
	double **values;          /* per run: njudged x nm */
	struct catalog_view cat;
	int have_catalog;
};

static const char *intern_text(struct catalog_view *v, const char *s)
{
	long i;

	if (!s || !*s)
		return NULL;
	i = os_strmap_intern(&v->strings, s, strlen(s), NULL);
	if (i < 0) {
		v->failed = 1;
		return NULL;
	}
	return os_strmap_key(&v->strings, (size_t)i);
}

static int view_item(void *ctx, const struct os_item *item)
{
	struct catalog_view *v = ctx;
	long id = os_strmap_intern(&v->ids, item->id, strlen(item->id), NULL);
	size_t old = v->cap;
	struct item_view *iv;

	if (id < 0 ||
	    !(iv = os_grow(v->item, &v->cap, (size_t)id + 1, sizeof *iv, 4096)))
		return 1;
	v->item = iv;
	memset(iv + old, 0, (v->cap - old) * sizeof *iv);
	iv[id].category = intern_text(v, item->category);
	iv[id].brand = intern_text(v, item->brand);
	iv[id].in_catalog = 1;
	v->items++;
	return v->failed;
}

static int view_sid(void *ctx, const char *item, const char *sid)
{
	struct catalog_view *v = ctx;

	(void)item;
	return os_strmap_intern(&v->sids, sid, strlen(sid), NULL) < 0;
}

static int load_catalog(struct eval *e, struct os_error *err)
{
	struct os_catalog *c;
	int rc;

	os_strmap_init(&e->cat.sids);
	os_strmap_init(&e->cat.strings);
	os_strmap_init(&e->cat.ids);
	if (!e->o->catalog)
		return 0;
	if (os_catalog_open(&c, e->o->catalog, OS_CATALOG_READ_ONLY, err) < 0)
		return -1;
	rc = os_catalog_items_each(c, view_item, &e->cat, err);
	if (rc == 0)
		rc = os_catalog_sids_each(c, view_sid, &e->cat, err);
	os_catalog_close(c);
	if (rc > 0)
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	e->have_catalog = rc == 0;
	return rc ? -1 : 0;
}

/* The canonical text of a query, for frequency counts. */
static char *query_key(const char *text)
{
	struct os_tokens t;
	struct os_error err;
	char *key = NULL;

	os_tokens_init(&t);
	if (os_analyze(&t, text, 0, &err) == 0 && (key = malloc(t.text_len + 1)))
		os_tokens_join(&t, 0, t.n, key, t.text_len + 1);
	os_tokens_release(&t);
	return key;
}

/* Labels each judged query head, torso or tail by how often its text is
 * in the --freq file. */
static int frequency_segments(struct eval *e, struct os_error *err)
{
	struct os_strmap counts;
	long *count = NULL;
	size_t cap = 0;
	struct os_jsonl_reader *r;
	cJSON *obj;
	int rc;

	if (!e->o->freq)
		return 0;
	os_strmap_init(&counts);
	r = os_jsonl_reader_new((char *const *)&e->o->freq, 1,
				(size_t)e->o->cli.max_line);
	e->freq_label = calloc(e->njudged + 1, sizeof *e->freq_label);
	if (!r || !e->freq_label) {
		os_jsonl_reader_free(r);
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	while ((rc = os_jsonl_reader_next(r, &obj, err)) > 0) {
		const char *q = os_record_query(obj, err);
		char *key = q ? query_key(q) : NULL;
		int added = 0;
		long i = key ? os_strmap_intern(&counts, key, strlen(key), &added)
			     : -1;
		long *c2 = i >= 0 ? os_grow(count, &cap, (size_t)i + 1,
					    sizeof *c2, 1024)
				  : NULL;

		free(key);
		cJSON_Delete(obj);
		if (!q) {
			os_error_locate(err, os_jsonl_reader_where(r),
					os_jsonl_reader_line(r));
			rc = -1;
			break;
		}
		if (!c2) {
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
			rc = -1;
			break;
		}
		count = c2;
		count[i] = added ? 1 : count[i] + 1;
	}
	os_jsonl_reader_free(r);
	for (size_t k = 0; rc == 0 && k < e->njudged; k++) {
		const char *text = e->qrels.q[e->judged[k]].query;
		char *key;
		long i, n = 0;

		for (size_t run = 0; !text && run < e->o->nruns; run++) {
			long rq = os_strmap_find(&e->runs[run].qids,
						 os_strmap_key(&e->qrels.qids, e->judged[k]),
						 strlen(os_strmap_key(&e->qrels.qids,
								      e->judged[k])));

			if (rq >= 0)
				text = e->runs[run].q[rq].query;
		}
		if (text && (key = query_key(text))) {
			i = os_strmap_find(&counts, key, strlen(key));
			n = i < 0 ? 0 : count[i];
			free(key);
		}
		e->freq_label[k] = n >= e->o->head_min   ? "head"
				   : n <= e->o->tail_max ? "tail"
							 : "torso";
	}
	free(count);
	os_strmap_release(&counts);
	return rc < 0 ? -1 : 0;
}

/* The NDCG gain of a grade. */
static double gain_of(const struct eval *e, double grade)
{
	return e->o->linear_gain ? grade : exp2(grade) - 1;
}

/* Buffers of one thread's per-query work. */
struct scratch {
	double *gain, *judged_gain;
	unsigned char *relevant;
	size_t cap;
};

static void scratch_release(struct scratch *s)
{
	free(s->gain);
	free(s->judged_gain);
	free(s->relevant);
}

static int scratch_reserve(struct scratch *s, size_t n)
{
	size_t c1 = s->cap, c2 = s->cap, c3 = s->cap;
	double *g;

	if (n <= s->cap)
		return 0;
	if (!(g = os_grow(s->gain, &c1, n, sizeof *g, 64)))
		return -1;
	s->gain = g;
	if (!(g = os_grow(s->judged_gain, &c2, n, sizeof *g, 64)))
		return -1;
	s->judged_gain = g;
	if (!(s->relevant = os_grow(s->relevant, &c3, n, 1, 64)))
		return -1;
	s->cap = c1;
	return 0;
}

/* The metrics of run `run` on judged query k, into out; returns 1 when the
 * run lacks the query, 0 when it has it, -1 when out of memory. */
static int evaluate_query(const struct eval *e, const struct os_run *run,
			  size_t k, struct scratch *s, double *out)
{
	size_t qi = e->judged[k], num_rel = 0;
	const struct os_judged_query *jq = &e->qrels.q[qi];
	const char *qid = os_strmap_key(&e->qrels.qids, qi);
	long rqi = os_strmap_find_near(&run->qids, qid, strlen(qid), qi);
	const struct os_run_query *rq = rqi >= 0 ? &run->q[rqi] : NULL;
	size_t n = rq ? rq->n : 0;

	if (scratch_reserve(s, (n > jq->n ? n : jq->n) + 1) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct os_judgment *j = os_qrels_find(
			&e->qrels, qi, rq->r[i].hash, os_result_id(run, &rq->r[i]));

		s->gain[i] = j ? gain_of(e, j->grade) : 0;
		s->relevant[i] = j ? j->relevant : 0;
	}
	for (size_t i = 0; i < jq->n; i++) {
		s->judged_gain[i] = gain_of(e, jq->j[i].grade);
		num_rel += jq->j[i].relevant;
	}
	os_metrics_query(&e->set, s->gain, s->relevant, n,
			 rq ? run->deep + rq->deep : NULL, rq ? rq->ndeep : 0,
			 s->judged_gain, jq->n, num_rel, out);
	return rq == NULL;
}

/* Per-query metrics of run `ri` for every judged query, into
 * e->values[ri], on all threads; counts the judged queries the run
 * lacks. */
static int evaluate_run(struct eval *e, size_t ri, size_t *missing)
{
	double *values = calloc(e->njudged * e->nm + 1, sizeof *values);
	size_t lacking = 0;
	int failed = 0;

	if (!values)
		return -1;
	e->values[ri] = values;
#pragma omp parallel reduction(+ : lacking) reduction(| : failed)
	{
		struct scratch s = {0};

#pragma omp for schedule(dynamic, 256)
		for (size_t k = 0; k < e->njudged; k++) {
			int rc = evaluate_query(e, &e->runs[ri], k, &s,
						values + k * e->nm);

			if (rc < 0)
				failed = 1;
			else
				lacking += (size_t)rc;
		}
		scratch_release(&s);
	}
	*missing = lacking;
	return failed ? -1 : 0;
}

static double round6(double x)
{
	return round(x * 1e6) / 1e6;
}

/* {"recall@1": mean, ...} over the judged queries k with want(k). */
static cJSON *metrics_json(const struct eval *e, const double *values,
			   const char *const *label, const char *only,
			   size_t *count)
{
	cJSON *obj = cJSON_CreateObject();
	char name[32];

	*count = 0;
	for (size_t k = 0; k < e->njudged; k++)
		*count += !only || strcmp(label[k], only) == 0;
	for (size_t m = 0; obj && m < e->nm; m++) {
		double sum = 0;

		for (size_t k = 0; k < e->njudged; k++)
			if (!only || strcmp(label[k], only) == 0)
				sum += values[k * e->nm + m];
		cJSON_AddNumberToObject(obj, os_metrics_name(&e->set, m, name, sizeof name),
					round6(*count ? sum / (double)*count : 0));
	}
	return obj;
}

/* The distinct labels of `label` (njudged entries), in first-seen order. */
static size_t distinct_labels(const struct eval *e, const char *const *label,
			      const char **out)
{
	size_t n = 0;

	for (size_t k = 0; k < e->njudged; k++) {
		size_t i;

		for (i = 0; i < n && strcmp(out[i], label[k]) != 0; i++)
			;
		if (i == n)
			out[n++] = label[k];
	}
	return n;
}

static cJSON *segments_json(const struct eval *e, const double *values,
			    const char *const *label)
{
	cJSON *obj = cJSON_CreateObject();
	const char **names = malloc((e->njudged + 1) * sizeof *names);
	size_t n;

	if (!obj || !names) {
		free(names);
		cJSON_Delete(obj);
		return NULL;
	}
	n = distinct_labels(e, label, names);
	for (size_t i = 0; i < n; i++) {
		cJSON *seg = cJSON_CreateObject();
		size_t count;
		cJSON *m = metrics_json(e, values, label, names[i], &count);

		cJSON_AddNumberToObject(seg, "queries", (double)count);
		cJSON_AddItemToObject(seg, "metrics", m);
		cJSON_AddItemToObject(obj, names[i], seg);
	}
	free(names);
	return obj;
}

/* SID health over the first --depth results of every query of the run. */
static cJSON *sid_json(const struct eval *e, const struct os_run *run)
{
	size_t depth = (size_t)e->o->depth, with_sid = 0, valid = 0;
	size_t raw = 0, dup = 0;
	cJSON *obj = cJSON_CreateObject();

	for (size_t q = 0; q < run->qids.count; q++) {
		const struct os_run_query *rq = &run->q[q];

		raw += rq->raw < depth ? rq->raw : depth;
		dup += rq->duplicates_top;
		for (size_t i = 0; i < rq->n && i < depth; i++) {
			uint32_t index = os_result_sid(run, &rq->r[i]);
			const char *sid;

			if (!index)
				continue;
			sid = os_strmap_key(&run->sids, index - 1);
			with_sid++;
			valid += e->have_catalog &&
				 os_strmap_find(&e->cat.sids, sid, strlen(sid)) >= 0;
		}
	}
	cJSON_AddNumberToObject(obj, "depth", (double)depth);
	cJSON_AddNumberToObject(obj, "results_with_sid", (double)with_sid);
	if (e->have_catalog && with_sid)
		cJSON_AddNumberToObject(obj, "valid_sid_rate",
					round6((double)valid / (double)with_sid));
	else
		cJSON_AddNullToObject(obj, "valid_sid_rate");
	cJSON_AddNumberToObject(obj, "duplicate_rate",
				round6(raw ? (double)dup / (double)raw : 0));
	return obj;
}

static int by_count(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Gini coefficient of exposure counts (sorted in place). */
static double gini(long *x, size_t n)
{
	double sum = 0, weighted = 0;

	qsort(x, n, sizeof *x, by_count);
	for (size_t i = 0; i < n; i++) {
		sum += (double)x[i];
		weighted += (2.0 * (double)(i + 1) - (double)n - 1) * (double)x[i];
	}
	return sum > 0 ? weighted / ((double)n * sum) : 0;
}

/* Distinct categories and brands per query, catalog coverage and the Gini
 * of exposure, over the first --depth results of every query. */
static cJSON *diversity_json(const struct eval *e, const struct os_run *run)
{
	size_t depth = (size_t)e->o->depth, nq = run->qids.count, covered = 0;
	long *exposure = calloc(e->cat.cap + 1, sizeof *exposure), *all;
	double categories = 0, brands = 0;
	cJSON *obj;
	size_t nitems = 0;

	if (!exposure)
		return NULL;
	const char **seen_c = malloc((depth + 1) * sizeof *seen_c);
	const char **seen_b = malloc((depth + 1) * sizeof *seen_b);

	if (!seen_c || !seen_b) {
		free(seen_c);
		free(seen_b);
		free(exposure);
		return NULL;
	}
	for (size_t q = 0; q < nq; q++) {
		const struct os_run_query *rq = &run->q[q];
		size_t nc = 0, nb = 0;

		for (size_t i = 0; i < rq->n && i < depth; i++) {
			const char *id = os_result_id(run, &rq->r[i]);
			long item = os_strmap_find(&e->cat.ids, id, strlen(id));
			const struct item_view *iv;
			size_t k;

			if (item < 0)
				continue;
			iv = &e->cat.item[item];
			exposure[item]++;
			for (k = 0; k < nc && seen_c[k] != iv->category; k++)
				;
			if (iv->category && k == nc)
				seen_c[nc++] = iv->category;
			for (k = 0; k < nb && seen_b[k] != iv->brand; k++)
				;
			if (iv->brand && k == nb)
				seen_b[nb++] = iv->brand;
		}
		categories += (double)nc;
		brands += (double)nb;
	}
	/* exposure over the catalog's items only, unexposed ones included */
	all = exposure;
	for (size_t i = 0; i < e->cat.cap; i++)
		if (e->cat.item[i].in_catalog) {
			covered += exposure[i] > 0;
			all[nitems++] = exposure[i];
		}
	obj = cJSON_CreateObject();
	cJSON_AddNumberToObject(obj, "depth", (double)depth);
	cJSON_AddNumberToObject(obj, "distinct_categories",
				round6(nq ? categories / (double)nq : 0));
	cJSON_AddNumberToObject(obj, "distinct_brands",
				round6(nq ? brands / (double)nq : 0));
	cJSON_AddNumberToObject(obj, "coverage",
				round6(e->cat.items ? (double)covered / (double)e->cat.items : 0));
	cJSON_AddNumberToObject(obj, "exposure_gini", round6(gini(all, nitems)));
	free(seen_c);
	free(seen_b);
	free(exposure);
	return obj;
}

static cJSON *run_json(const struct eval *e, size_t ri, size_t missing)
{
	const struct os_run *run = &e->runs[ri];
	cJSON *obj = cJSON_CreateObject(), *queries = cJSON_CreateObject();
	size_t unjudged = 0, count;
	const char **seg = malloc((e->njudged + 1) * sizeof *seg);
	int any_segment = 0;

	if (!obj || !queries || !seg) {
		free(seg);
		cJSON_Delete(obj);
		cJSON_Delete(queries);
		return NULL;
	}
	for (size_t q = 0; q < run->qids.count; q++) {
		const char *qid = os_strmap_key(&run->qids, q);
		long qi = os_strmap_find(&e->qrels.qids, qid, strlen(qid));

		unjudged += qi < 0 || e->qrels.q[qi].n == 0;
	}
	cJSON_AddStringToObject(obj, "run", run->name);
	cJSON_AddNumberToObject(queries, "evaluated", (double)e->njudged);
	cJSON_AddNumberToObject(queries, "missing", (double)missing);
	cJSON_AddNumberToObject(queries, "unjudged", (double)unjudged);
	cJSON_AddItemToObject(obj, "queries", queries);
	cJSON_AddItemToObject(obj, "metrics",
			      metrics_json(e, e->values[ri], NULL, NULL, &count));
	for (size_t k = 0; k < e->njudged; k++) {
		seg[k] = e->qrels.q[e->judged[k]].segment;
		any_segment |= seg[k] != NULL;
		if (!seg[k])
			seg[k] = "(none)";
	}
	if (any_segment)
		cJSON_AddItemToObject(obj, "by_segment",
				      segments_json(e, e->values[ri], seg));
	if (e->freq_label)
		cJSON_AddItemToObject(obj, "by_frequency",
				      segments_json(e, e->values[ri], e->freq_label));
	cJSON_AddItemToObject(obj, "sid", sid_json(e, run));
	if (e->have_catalog)
		cJSON_AddItemToObject(obj, "diversity", diversity_json(e, run));
	free(seg);
	return obj;
}

/* Each run against the first: per metric the mean difference, the paired
 * randomization p-value and the bootstrap 95% interval. */
static cJSON *comparisons_json(const struct eval *e)
{
	cJSON *arr = cJSON_CreateArray();
	double *d = malloc((e->njudged + 1) * sizeof *d);
	char name[32];

	if (!arr || !d) {
		free(d);
		cJSON_Delete(arr);
		return NULL;
	}
	for (size_t ri = 1; ri < e->o->nruns; ri++) {
		cJSON *cmp = cJSON_CreateObject(), *metrics = cJSON_CreateObject();

		cJSON_AddStringToObject(cmp, "baseline", e->runs[0].name);
		cJSON_AddStringToObject(cmp, "run", e->runs[ri].name);
		for (size_t m = 0; m < e->nm; m++) {
			cJSON *one = cJSON_CreateObject(), *ci = cJSON_CreateArray();
			struct os_rng rng;
			double lo, hi;

			for (size_t k = 0; k < e->njudged; k++)
				d[k] = e->values[ri][k * e->nm + m] -
				       e->values[0][k * e->nm + m];
			/* one stream per (run, metric name): results do not
			 * depend on which other metrics are evaluated */
			os_metrics_name(&e->set, m, name, sizeof name);
			os_rng_seed(&rng, (uint64_t)e->o->cli.seed ^
						  os_hash_mix(os_hash_bytes(OS_FNV_OFFSET, name,
									    strlen(name)) + ri));
			cJSON_AddNumberToObject(one, "diff", round6(os_stats_mean(d, e->njudged)));
			cJSON_AddNumberToObject(one, "p", round6(os_stats_randomization_p(
								 d, e->njudged, (size_t)e->o->trials, &rng)));
			os_stats_bootstrap_ci(d, e->njudged, (size_t)e->o->trials, 0.95,
					      &rng, &lo, &hi);
			cJSON_AddItemToArray(ci, cJSON_CreateNumber(round6(lo)));
			cJSON_AddItemToArray(ci, cJSON_CreateNumber(round6(hi)));
			cJSON_AddItemToObject(one, "ci95", ci);
			cJSON_AddItemToObject(metrics, os_metrics_name(&e->set, m, name,
								       sizeof name),
					      one);
		}
		cJSON_AddItemToObject(cmp, "metrics", metrics);
		cJSON_AddItemToArray(arr, cmp);
	}
	free(d);
	return arr;
}

static int write_per_query(struct eval *e, FILE *out)
{
	char name[32];

	for (size_t ri = 0; ri < e->o->nruns; ri++)
		for (size_t k = 0; k < e->njudged; k++) {
			const struct os_judged_query *jq = &e->qrels.q[e->judged[k]];
			cJSON *line = cJSON_CreateObject(), *m = cJSON_CreateObject();

			cJSON_AddStringToObject(line, "run", e->runs[ri].name);
			cJSON_AddStringToObject(line, "qid",
						os_strmap_key(&e->qrels.qids, e->judged[k]));
			if (jq->segment)
				cJSON_AddStringToObject(line, "segment", jq->segment);
			if (e->freq_label)
				cJSON_AddStringToObject(line, "frequency", e->freq_label[k]);
			for (size_t i = 0; i < e->nm; i++)
				cJSON_AddNumberToObject(m, os_metrics_name(&e->set, i, name, sizeof name),
							round6(e->values[ri][k * e->nm + i]));
			cJSON_AddItemToObject(line, "metrics", m);
			os_jsonl_write(out, line);
			cJSON_Delete(line);
		}
	return ferror(out) ? -1 : 0;
}

/* --- the text table, drawn from the summary ------------------------------ */

static void table_block(FILE *out, const char *title, cJSON *const *metrics,
			const cJSON *comparisons, size_t nruns,
			char *const *names)
{
	size_t w0 = strlen("metric"), w[64];

	fprintf(out, "%s\n", title);
	for (const cJSON *m = metrics[0]->child; m; m = m->next)
		if (strlen(m->string) > w0)
			w0 = strlen(m->string);
	fprintf(out, "%-*s", (int)w0, "metric");
	for (size_t r = 0; r < nruns && r < 64; r++) {
		w[r] = strlen(names[r]) > 8 ? strlen(names[r]) : 8;
		if (r > 0 && comparisons && w[r] < 30)
			w[r] = 30;
		fprintf(out, "  %-*s", r + 1 < nruns ? (int)w[r] : 0, names[r]);
	}
	fputc('\n', out);
	for (const cJSON *m = metrics[0]->child; m; m = m->next) {
		fprintf(out, "%-*s", (int)w0, m->string);
		for (size_t r = 0; r < nruns && r < 64; r++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(metrics[r], m->string);
			char cell[96];
			int len = snprintf(cell, sizeof cell, "%.4f", v ? v->valuedouble : 0);

			if (r > 0 && comparisons) {
				const cJSON *c = cJSON_GetArrayItem(comparisons, (int)r - 1);
				const cJSON *one = cJSON_GetObjectItemCaseSensitive(
					cJSON_GetObjectItemCaseSensitive(c, "metrics"), m->string);
				const cJSON *diff = cJSON_GetObjectItemCaseSensitive(one, "diff");
				const cJSON *p = cJSON_GetObjectItemCaseSensitive(one, "p");

				if (diff && p)
					snprintf(cell + len, sizeof cell - (size_t)len,
						 " %+.4f p=%.4f", diff->valuedouble,
						 p->valuedouble);
			}
			fprintf(out, "  %-*s", r + 1 < nruns ? (int)w[r] : 0, cell);
		}
		fputc('\n', out);
	}
}

static int write_table(FILE *out, const cJSON *summary)
{
	const cJSON *runs = cJSON_GetObjectItemCaseSensitive(summary, "runs");
	const cJSON *cmp = cJSON_GetObjectItemCaseSensitive(summary, "comparisons");
	size_t nruns = (size_t)cJSON_GetArraySize(runs);
	cJSON *metrics[64];
	char *names[64], title[256];
	static const char *const groupings[] = {"by_segment", "by_frequency"};
	const cJSON *run;
	size_t r = 0;

	cJSON_ArrayForEach(run, runs)
	{
		if (r == 64)
			break;
		metrics[r] = cJSON_GetObjectItemCaseSensitive(run, "metrics");
		names[r++] = cJSON_GetObjectItemCaseSensitive(run, "run")->valuestring;
	}
	nruns = r;
	if (nruns == 0)
		return 0;
	snprintf(title, sizeof title, "all judged queries (%.0f)",
		 cJSON_GetObjectItemCaseSensitive(summary, "judged_queries")->valuedouble);
	table_block(out, title, metrics, cmp, nruns, names);
	for (size_t g = 0; g < 2; g++) {
		const cJSON *first = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetArrayItem(runs, 0), groupings[g]);
		const cJSON *seg;

		cJSON_ArrayForEach(seg, first)
		{
			cJSON *sm[64];

			for (size_t i = 0; i < nruns; i++)
				sm[i] = cJSON_GetObjectItemCaseSensitive(
					cJSON_GetObjectItemCaseSensitive(
						cJSON_GetObjectItemCaseSensitive(
							cJSON_GetArrayItem(runs, (int)i), groupings[g]),
						seg->string),
					"metrics");
			double nq = cJSON_GetObjectItemCaseSensitive(seg, "queries")->valuedouble;

			snprintf(title, sizeof title, "\n%s %s (%.0f quer%s)",
				 g ? "frequency" : "segment", seg->string, nq,
				 nq == 1 ? "y" : "ies");
			table_block(out, title, sm, NULL, nruns, names);
		}
	}
	return ferror(out) ? -1 : 0;
}

/* --- the chart, drawn from the summary ----------------------------------- */

static const char *const families[] = {"recall", "ndcg", "mrr", "hit", "p"};

/* The cutoff the segment bars show: the largest K <= 10, else the least. */
static long bar_cutoff(const struct options *o)
{
	long k = o->cutoffs[0];

	for (size_t i = 0; i < o->ncut; i++)
		if (o->cutoffs[i] <= 10)
			k = o->cutoffs[i];
	return k;
}

static int write_svg(const struct eval *e, const cJSON *summary,
		     struct os_error *err)
{
	const cJSON *runs = cJSON_GetObjectItemCaseSensitive(summary, "runs");
	size_t nruns = e->o->nruns, ncharts = 0;
	struct os_chart charts[16];
	const char *cats[MAX_CUTOFFS], **series = calloc(nruns + 1, sizeof *series);
	char catbuf[MAX_CUTOFFS][16], name[32], titles[16][96];
	double *values = calloc(16 * (nruns + 1) * (MAX_CUTOFFS + 64), sizeof *values);
	double *v = values;
	const char *seg_names[2][64];
	struct os_output out;
	int rc = -1;

	if (!series || !values) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		goto out;
	}
	for (size_t r = 0; r < nruns; r++)
		series[r] = e->runs[r].name;
	for (size_t c = 0; c < e->o->ncut; c++) {
		snprintf(catbuf[c], sizeof catbuf[c], "@%ld", e->o->cutoffs[c]);
		cats[c] = catbuf[c];
	}
	for (size_t f = 0; f < sizeof families / sizeof *families; f++) {
		for (size_t r = 0; r < nruns; r++)
			for (size_t c = 0; c < e->o->ncut; c++) {
				snprintf(name, sizeof name, "%s@%ld", families[f],
					 e->o->cutoffs[c]);
				v[r * e->o->ncut + c] = cJSON_GetObjectItemCaseSensitive(
					cJSON_GetObjectItemCaseSensitive(
						cJSON_GetArrayItem(runs, (int)r), "metrics"),
					name)->valuedouble;
			}
		snprintf(titles[ncharts], sizeof titles[ncharts], "%s@K", families[f]);
		charts[ncharts] = (struct os_chart){titles[ncharts], 0, e->o->ncut,
						   cats, nruns, series, v};
		ncharts++;
		v += nruns * e->o->ncut;
	}
	for (size_t g = 0; g < 2; g++) {
		static const char *const groupings[] = {"by_segment", "by_frequency"};
		const cJSON *first = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetArrayItem(runs, 0), groupings[g]);
		const cJSON *seg;
		size_t nseg = 0;

		if (!first)
			continue;
		cJSON_ArrayForEach(seg, first) if (nseg < 64)
			seg_names[g][nseg++] = seg->string;
		snprintf(name, sizeof name, "recall@%ld", bar_cutoff(e->o));
		for (size_t r = 0; r < nruns; r++)
			for (size_t s = 0; s < nseg; s++)
				v[r * nseg + s] = cJSON_GetObjectItemCaseSensitive(
					cJSON_GetObjectItemCaseSensitive(
						cJSON_GetObjectItemCaseSensitive(
							cJSON_GetObjectItemCaseSensitive(
								cJSON_GetArrayItem(runs, (int)r),
								groupings[g]),
							seg_names[g][s]),
						"metrics"),
					name)->valuedouble;
		snprintf(titles[ncharts], sizeof titles[ncharts], "%s %s", name,
			 g ? "by query frequency" : "by segment");
		charts[ncharts] = (struct os_chart){titles[ncharts], 1, nseg,
						   seg_names[g], nruns, series, v};
		ncharts++;
		v += nruns * nseg;
	}
	if (os_output_open(&out, e->o->svg, err) < 0)
		goto out;
	if (os_svg_write(out.f, "os-eval", charts, ncharts) < 0) {
		os_output_abort(&out);
		os_error_set(err, OS_EXIT_FAILURE, "cannot write '%s'", e->o->svg);
		goto out;
	}
	rc = os_output_commit(&out, err);
out:
	free(series);
	free(values);
	return rc;
}

static cJSON *summary_json(struct eval *e, const size_t *missing)
{
	cJSON *obj = cJSON_CreateObject(), *cut = cJSON_CreateArray(), *runs;

	cJSON_AddStringToObject(obj, "qrels", e->o->qrels);
	cJSON_AddNumberToObject(obj, "judged_queries", (double)e->njudged);
	cJSON_AddNumberToObject(obj, "records_without_judgments",
				(double)e->qrels.without_judgments);
	for (size_t c = 0; c < e->o->ncut; c++)
		cJSON_AddItemToArray(cut, cJSON_CreateNumber((double)e->o->cutoffs[c]));
	cJSON_AddItemToObject(obj, "cutoffs", cut);
	runs = cJSON_AddArrayToObject(obj, "runs");
	for (size_t r = 0; r < e->o->nruns; r++)
		cJSON_AddItemToArray(runs, run_json(e, r, missing[r]));
	if (e->o->nruns > 1)
		cJSON_AddItemToObject(obj, "comparisons", comparisons_json(e));
	return obj;
}

static void eval_release(struct eval *e)
{
	for (size_t r = 0; e->runs && r < e->o->nruns; r++) {
		os_run_release(&e->runs[r]);
		free(e->values[r]);
	}
	free(e->runs);
	free(e->values);
	free(e->judged);
	free((void *)e->freq_label);
	free(e->cat.item);
	os_strmap_release(&e->cat.sids);
	os_strmap_release(&e->cat.strings);
	os_strmap_release(&e->cat.ids);
	os_qrels_release(&e->qrels);
}

static int run_eval(struct eval *e, struct os_output *out, struct os_error *err)
{
	struct os_qrels_opts qo = {e->o->min_grade, (size_t)e->o->cli.max_line};
	struct os_run_opts ro = {(size_t)e->o->cli.max_line, e->o->by_rank,
				 (size_t)e->o->depth, (size_t)e->o->depth,
				 &e->qrels};
	size_t *missing = calloc(e->o->nruns + 1, sizeof *missing);
	cJSON *summary = NULL;
	int rc = -1;

	e->runs = calloc(e->o->nruns + 1, sizeof *e->runs);
	e->values = calloc(e->o->nruns + 1, sizeof *e->values);
	if (!missing || !e->runs || !e->values)
		goto oom;
	if (os_qrels_load(&e->qrels, e->o->qrels, &qo, err) < 0)
		goto out;
	e->judged = malloc((e->qrels.qids.count + 1) * sizeof *e->judged);
	if (!e->judged)
		goto oom;
	for (size_t q = 0; q < e->qrels.qids.count; q++)
		if (e->qrels.q[q].n)
			e->judged[e->njudged++] = q;
	for (size_t c = 0; c < e->o->ncut; c++)
		if ((size_t)e->o->cutoffs[c] > ro.keep)
			ro.keep = (size_t)e->o->cutoffs[c];
	for (size_t r = 0; r < e->o->nruns; r++) {
		os_run_init(&e->runs[r]);
		if (os_run_load(&e->runs[r], e->o->runs[r], &ro, err) < 0)
			goto out;
		if (e->o->cli.verbose && !e->o->cli.quiet)
			os_cli_warn("%s: %zu queries, %zu results", e->runs[r].name,
				    e->runs[r].qids.count, e->runs[r].results);
	}
	if (load_catalog(e, err) < 0 || frequency_segments(e, err) < 0)
		goto out;
	for (size_t r = 0; r < e->o->nruns; r++)
		if (evaluate_run(e, r, &missing[r]) < 0)
			goto oom;
	if (!(summary = summary_json(e, missing)))
		goto oom;
	/* the chart first: when it fails nothing has been written */
	if (e->o->svg && write_svg(e, summary, err) < 0)
		goto out;
	if (e->o->per_query && write_per_query(e, out->f) < 0)
		goto write_error;
	if (e->o->table ? write_table(out->f, summary) < 0
			: os_jsonl_write(out->f, summary) < 0)
		goto write_error;
	rc = 0;
	goto out;
write_error:
	os_output_write_error(err, out->path);
	goto out;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
out:
	cJSON_Delete(summary);
	free(missing);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	struct eval e;
	struct os_output out;
	struct os_error err;
	int status;

	os_cli_init(argv[0]);
	os_error_clear(&err);
	status = parse_options(argc, argv, &o);
	if (status != 0) {
		return os_cli_options_exit(status);
	}
	memset(&e, 0, sizeof e);
	e.o = &o;
	e.set = (struct os_metric_set){o.cutoffs, o.ncut};
	e.nm = os_metrics_count(&e.set);
	os_qrels_init(&e.qrels);
	status = OS_EXIT_OK;
	if (os_output_open(&out, o.output, &err) < 0) {
		status = err.status;
	} else if (run_eval(&e, &out, &err) < 0) {
		status = err.status;
		os_output_abort(&out);
	} else if (os_output_commit(&out, &err) < 0) {
		status = err.status;
	}
	eval_release(&e);
	if (err.status)
		os_cli_report(&err);
	if (os_cli_close_stdout(status == OS_EXIT_OK) < 0 && status == OS_EXIT_OK)
		status = OS_EXIT_FAILURE;
	return status;
}
