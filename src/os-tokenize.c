/* SPDX-License-Identifier: MIT */
/* os-tokenize: ingest items into the catalog, mine and match the typed
 * keyword dictionary, and annotate item or query records (see
 * os-tokenize(1)). Options and orchestration only; the work is in
 * libonesearch. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/analyze.h"
#include "lib/blascpu.h"
#include "lib/catalog.h"
#include "lib/cli.h"
#include "lib/encoder_io.h"
#include "lib/grow.h"
#include "lib/jsonl.h"
#include "lib/matmul.h"
#include "lib/keyword_io.h"
#include "lib/keywords.h"
#include "lib/mine.h"
#include "lib/ngram.h"
#include "lib/normalize.h"
#include "lib/output.h"
#include "lib/parallel.h"
#include "lib/record.h"
#include "lib/strmap.h"
#include "lib/vocab.h"

enum emit {
	EMIT_KEYWORDS = 1,
	EMIT_TOKENS = 2,
	EMIT_WORDS = 4,
	EMIT_NGRAMS = 8,
	EMIT_EMBEDDING = 16,
};

enum mode {
	MODE_INGEST,
	MODE_QUERIES,
	MODE_SUMMARY,
	MODE_DUMP_KEYWORDS,
	MODE_TRAIN_ENCODER,
};

struct options {
	const char *catalog;
	const char *output;
	enum mode mode;
	char **keyword_files;
	size_t nkeyword_files;
	int no_lexicon, no_mine, keep_accents, keep_going;
	struct os_cli_common cli;
	unsigned emit;
	long batch, ngram_buckets;
	struct os_mine_opts mine;
	const char *pairs;   /* --train-encoder */
	long encoder_dim, encoder_buckets;
	struct os_encoder_opts enc;
	double fusion;       /* weight of an item's own vector */
	long query_repeat;   /* copies of each query-item pair an epoch */
	long title_queries;  /* pairs of a few title words with the title */
	char **inputs;
	size_t ninputs;
};

enum {
	OPT_QUERIES = 256,
	OPT_KEYWORDS,
	OPT_NO_LEXICON,
	OPT_NO_MINE,
	OPT_MIN_BRAND,
	OPT_MIN_PRODUCT,
	OPT_MIN_COLOR,
	OPT_EMIT,
	OPT_NGRAM_BUCKETS,
	OPT_KEEP_ACCENTS,
	OPT_BATCH,
	OPT_DUMP_KEYWORDS,
	OPT_SUMMARY,
	OPT_TRAIN_ENCODER,
	OPT_ENCODER_DIM,
	OPT_ENCODER_BUCKETS,
	OPT_ENCODER_EPOCHS,
	OPT_ENCODER_BATCH,
	OPT_ENCODER_TEMPERATURE,
	OPT_ENCODER_LR,
	OPT_ENCODER_QUERY_REPEAT,
	OPT_ENCODER_TITLE_QUERIES,
	OPT_FUSION,
};

static const struct option long_options[] = {
	{"catalog", required_argument, NULL, 'C'},
	{"queries", no_argument, NULL, OPT_QUERIES},
	{"keywords", required_argument, NULL, OPT_KEYWORDS},
	{"no-lexicon", no_argument, NULL, OPT_NO_LEXICON},
	{"no-mine", no_argument, NULL, OPT_NO_MINE},
	{"min-brand", required_argument, NULL, OPT_MIN_BRAND},
	{"min-product", required_argument, NULL, OPT_MIN_PRODUCT},
	{"min-color", required_argument, NULL, OPT_MIN_COLOR},
	{"emit", required_argument, NULL, OPT_EMIT},
	{"ngram-buckets", required_argument, NULL, OPT_NGRAM_BUCKETS},
	{"keep-accents", no_argument, NULL, OPT_KEEP_ACCENTS},
	{"batch", required_argument, NULL, OPT_BATCH},
	{"dump-keywords", no_argument, NULL, OPT_DUMP_KEYWORDS},
	{"summary", no_argument, NULL, OPT_SUMMARY},
	{"keep-going", no_argument, NULL, 'k'},
	{"output", required_argument, NULL, 'o'},
	{"train-encoder", required_argument, NULL, OPT_TRAIN_ENCODER},
	{"encoder-dim", required_argument, NULL, OPT_ENCODER_DIM},
	{"encoder-buckets", required_argument, NULL, OPT_ENCODER_BUCKETS},
	{"encoder-epochs", required_argument, NULL, OPT_ENCODER_EPOCHS},
	{"encoder-batch", required_argument, NULL, OPT_ENCODER_BATCH},
	{"encoder-temperature", required_argument, NULL, OPT_ENCODER_TEMPERATURE},
	{"encoder-lr", required_argument, NULL, OPT_ENCODER_LR},
	{"encoder-query-repeat", required_argument, NULL, OPT_ENCODER_QUERY_REPEAT},
	{"encoder-title-queries", required_argument, NULL, OPT_ENCODER_TITLE_QUERIES},
	{"fusion", required_argument, NULL, OPT_FUSION},
	OS_CLI_COMMON_LONG_OPTIONS,
	OS_CLI_STANDARD_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

static void help(void)
{
	printf("Usage: %s [OPTION]... [FILE]...\n", os_cli_program());
	fputs("\
Ingest item records (JSON lines) into the catalog, mine its typed keyword\n\
dictionary, and write the records back annotated; or, with --queries,\n\
annotate query records with the catalog's vocabulary and dictionary.\n\
With no FILE, or when FILE is -, read standard input. Any input may be\n\
compressed (gzip, xz, zstd, bzip2) or a tar of JSONL members.\n\
\n\
  -C, --catalog=FILE       the catalog (default: $OS_CATALOG)\n\
      --queries            annotate query records; the catalog is not changed\n\
      --keywords=FILE      add 'type<TAB>keyword' lines to the dictionary\n\
                           (repeatable)\n\
      --no-lexicon         leave out the built-in colors, materials, styles,\n\
                           functions and audiences\n\
      --no-mine            keep the catalog's dictionary, annotate only the\n\
                           items read\n\
      --min-brand=N        items a mined brand needs (default 3)\n\
      --min-product=N      items a mined product type needs (default 5)\n\
      --min-color=N        items a mined color needs (default 5)\n\
      --emit=LIST          keys to add, of keywords,tokens,words,ngrams,\n\
                           embedding (default keywords)\n\
      --fusion=W           an item's embedding: W times its own vector plus\n\
                           1 - W times its keywords' mean (default 0.5)\n\
      --train-encoder=FILE train the built-in encoder on the query records\n\
                           of FILE (\"query\", \"relevant\") and the catalog's\n\
                           items, store it in the catalog and exit\n\
      --encoder-dim=N      dimensions of its vectors (default 128)\n\
      --encoder-buckets=N  its n-gram buckets (default 131072)\n\
      --encoder-epochs=N   its passes over the pairs (default 10)\n\
      --encoder-batch=N    pairs a step, each batch its own negatives\n\
                           (default 256)\n\
      --encoder-temperature=T  of its softmax (default 0.05)\n\
      --encoder-lr=X       its learning rate (row-wise Adagrad, default 0.5)\n\
      --encoder-query-repeat=N  copies of each query-item pair an epoch\n\
                           (default 1)\n\
      --encoder-title-queries=N  pairs of each item's title with 1 to 3\n\
                           of its words, as a query (default 8)\n\
      --ngram-buckets=N    hash buckets of character n-grams (default\n\
                           1048576; fixed when the catalog is created)\n\
      --keep-accents       keep diacritics on Latin letters (fixed when the\n\
                           catalog is created)\n\
      --batch=N            items per catalog transaction (default 5000)\n\
      --max-line=BYTES     longest input line accepted (default 67108864)\n\
      --dump-keywords      print the catalog's dictionary as TSV and exit\n\
      --summary            print a JSON summary of the catalog and exit\n\
  -k, --keep-going         skip bad records (reported), exit 3 at the end\n\
  -o, --output=FILE        write records to FILE (whole or not at all)\n\
      --seed=N             seed of the encoder's training (default 1)\n\
      --threads=N          threads for text analysis (default: all cores)\n\
  -q, --quiet              no progress or report on standard error\n\
  -v, --verbose            report each phase on standard error\n\
",
	      stdout);
	os_cli_help_tail("os-tokenize(1), onesearch(7) and os-catalog(5)");
}

static int parse_emit(const char *arg, unsigned *out)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {{"keywords", EMIT_KEYWORDS},
		     {"tokens", EMIT_TOKENS},
		     {"words", EMIT_WORDS},
		     {"ngrams", EMIT_NGRAMS},
		     {"embedding", EMIT_EMBEDDING}};
	const char *p = arg;

	*out = 0;
	for (;;) { /* each comma-separated name, none of them empty */
		size_t len = strcspn(p, ","), i;

		for (i = 0; i < sizeof names / sizeof *names; i++)
			if (strlen(names[i].name) == len &&
			    strncmp(p, names[i].name, len) == 0)
				break;
		if (i == sizeof names / sizeof *names) {
			os_cli_warn("invalid --emit value '%s' (a list of "
				    "keywords,tokens,words,ngrams,embedding)",
				    arg);
			return -1;
		}
		*out |= names[i].bit;
		p += len;
		if (!*p++)
			return 0;
	}
}

/* Returns 0 to run, 1 after --help or --version, -1 on a usage error. */
static int parse_options(int argc, char **argv, struct options *o)
{
	int c, common;

	memset(o, 0, sizeof *o);
	os_cli_common_init(&o->cli);
	o->catalog = getenv("OS_CATALOG");
	o->emit = EMIT_KEYWORDS;
	o->batch = 5000;
	o->ngram_buckets = 0;
	os_mine_opts_default(&o->mine);
	os_encoder_opts_default(&o->enc);
	o->encoder_dim = 128;
	o->encoder_buckets = 131072;
	o->fusion = 0.5;
	o->query_repeat = 1;
	o->title_queries = 8;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":C:ko:qvhV", long_options, NULL)) !=
	       -1) {
		common = os_cli_common_option(c, optarg, &o->cli);
		if (common < 0)
			return -1;
		if (common)
			continue;
		switch (c) {
		case 'C':
			o->catalog = optarg;
			break;
		case OPT_QUERIES:
			o->mode = MODE_QUERIES;
			break;
		case OPT_KEYWORDS: {
			char **f = realloc(o->keyword_files,
					   (o->nkeyword_files + 1) * sizeof *f);

			if (!f)
				return -1;
			f[o->nkeyword_files++] = optarg;
			o->keyword_files = f;
			break;
		}
		case OPT_NO_LEXICON:
			o->no_lexicon = 1;
			break;
		case OPT_NO_MINE:
			o->no_mine = 1;
			break;
		case OPT_MIN_BRAND:
			if (os_cli_parse_long("--min-brand", optarg, 1, 1L << 30,
					      &o->mine.min_brand) < 0)
				return -1;
			break;
		case OPT_MIN_PRODUCT:
			if (os_cli_parse_long("--min-product", optarg, 1, 1L << 30,
					      &o->mine.min_product) < 0)
				return -1;
			break;
		case OPT_MIN_COLOR:
			if (os_cli_parse_long("--min-color", optarg, 1, 1L << 30,
					      &o->mine.min_color) < 0)
				return -1;
			break;
		case OPT_EMIT:
			if (parse_emit(optarg, &o->emit) < 0)
				return -1;
			break;
		case OPT_NGRAM_BUCKETS:
			if (os_cli_parse_long("--ngram-buckets", optarg, 1,
					      1L << 30, &o->ngram_buckets) < 0)
				return -1;
			break;
		case OPT_KEEP_ACCENTS:
			o->keep_accents = 1;
			break;
		case OPT_BATCH:
			if (os_cli_parse_long("--batch", optarg, 1, 1L << 30,
					      &o->batch) < 0)
				return -1;
			break;
		case OPT_DUMP_KEYWORDS:
			o->mode = MODE_DUMP_KEYWORDS;
			break;
		case OPT_SUMMARY:
			o->mode = MODE_SUMMARY;
			break;
		case 'k':
			o->keep_going = 1;
			break;
		case 'o':
			o->output = optarg;
			break;
		case OPT_TRAIN_ENCODER:
			o->mode = MODE_TRAIN_ENCODER;
			o->pairs = optarg;
			break;
		case OPT_ENCODER_DIM:
			if (os_cli_parse_long("--encoder-dim", optarg, 2, 4096,
					      &o->encoder_dim) < 0)
				return -1;
			break;
		case OPT_ENCODER_BUCKETS:
			if (os_cli_parse_long("--encoder-buckets", optarg, 1,
					      1L << 24, &o->encoder_buckets) < 0)
				return -1;
			break;
		case OPT_ENCODER_EPOCHS: {
			long v;

			if (os_cli_parse_long("--encoder-epochs", optarg, 1,
					      100000, &v) < 0)
				return -1;
			o->enc.epochs = (int)v;
			break;
		}
		case OPT_ENCODER_BATCH: {
			long v;

			if (os_cli_parse_long("--encoder-batch", optarg, 2, 65536,
					      &v) < 0)
				return -1;
			o->enc.batch = (size_t)v;
			break;
		}
		case OPT_ENCODER_TEMPERATURE:
			if (os_cli_parse_double("--encoder-temperature", optarg,
						1e-4, 100, &o->enc.temperature) < 0)
				return -1;
			break;
		case OPT_ENCODER_LR:
			if (os_cli_parse_double("--encoder-lr", optarg, 1e-6, 1e3,
						&o->enc.lr) < 0)
				return -1;
			break;
		case OPT_ENCODER_QUERY_REPEAT:
			if (os_cli_parse_long("--encoder-query-repeat", optarg, 1,
					      1000, &o->query_repeat) < 0)
				return -1;
			break;
		case OPT_ENCODER_TITLE_QUERIES:
			if (os_cli_parse_long("--encoder-title-queries", optarg, 0,
					      100, &o->title_queries) < 0)
				return -1;
			break;
		case OPT_FUSION:
			if (os_cli_parse_double("--fusion", optarg, 0, 1,
						&o->fusion) < 0)
				return -1;
			break;
		default:
			return os_cli_standard_option(c, argv, help) > 0 ? 1 : -1;
		}
	}
	if (!o->catalog || !*o->catalog) {
		os_cli_warn("no catalog: give -C FILE or set OS_CATALOG");
		return -1;
	}
	o->enc.seed = (uint64_t)o->cli.seed;
	o->inputs = argv + optind;
	o->ninputs = (size_t)(argc - optind);
	if (o->mode == MODE_QUERIES && o->no_mine) {
		os_cli_warn("--no-mine applies to ingest, not to --queries");
		return -1;
	}
	return 0;
}

/* Everything one run holds; released by run_release(). */
struct run {
	struct options *o;
	struct os_catalog *cat;
	struct os_vocab vocab;
	struct os_dict dict;
	unsigned norm_flags;
	uint32_t buckets;
	struct os_output out;
	struct os_encoder enc; /* loaded for --emit embedding */
	size_t bad;   /* records skipped under --keep-going */
	int reported; /* status of a failure already reported, or 0 */
	int stored;   /* a batch of items was committed */
	double start;
};

static void progress(const struct run *r, const char *what, size_t done,
		     size_t total)
{
	if (r->o->cli.quiet || !isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "\r%s: %s %zu/%zu", os_cli_program(), what, done, total);
	if (done == total)
		fputc('\n', stderr);
}

static void report(const struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report(const struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->o->cli.quiet || !r->o->cli.verbose)
		return;
	fprintf(stderr, "%s: ", os_cli_program());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (%.2f s)\n", os_cli_now() - r->start);
}

/* Reads the catalog's normalization and n-gram settings, or records them
 * for a new catalog. Returns an exit status. */
static int settings(struct run *r, int writable, struct os_error *err)
{
	const char *wanted = r->o->keep_accents ? OS_NORM_NAME_KEEP_ACCENTS
						: OS_NORM_NAME_FOLD_ACCENTS;
	char *norm = os_catalog_meta_get(r->cat, "normalization", err);
	char *buckets;
	char text[32];
	int status = OS_EXIT_OK;

	if (!norm && err->status)
		return err->status;
	buckets = os_catalog_meta_get(r->cat, "ngram_buckets", err);
	if (!buckets && err->status) {
		free(norm);
		return err->status;
	}
	if (norm && r->o->keep_accents && strcmp(norm, wanted) != 0) {
		os_cli_warn("catalog '%s' folds accents; --keep-accents must "
			    "be given when it is created",
			    r->o->catalog);
		status = OS_EXIT_USAGE;
	} else if (buckets && r->o->ngram_buckets &&
		   atol(buckets) != r->o->ngram_buckets) {
		os_cli_warn("catalog '%s' uses %s n-gram buckets; "
			    "--ngram-buckets must be given when it is created",
			    r->o->catalog, buckets);
		status = OS_EXIT_USAGE;
	}
	if (status == OS_EXIT_OK) {
		const char *n = norm ? norm : wanted;

		r->norm_flags = os_norm_flags_of(n);
		r->buckets = buckets ? (uint32_t)atol(buckets)
			     : r->o->ngram_buckets
				     ? (uint32_t)r->o->ngram_buckets
				     : OS_NGRAM_BUCKETS_DEFAULT;
		if (writable && (!norm || !buckets)) {
			snprintf(text, sizeof text, "%u", r->buckets);
			if (os_catalog_meta_set(r->cat, "normalization", n, err) < 0 ||
			    os_catalog_meta_set(r->cat, "ngram_buckets", text, err) < 0)
				status = err->status;
		}
	}
	free(norm);
	free(buckets);
	return status;
}

/* Adds "embedding": the text's vector or, for an item with keywords, the
 * KHQE fusion normalize(W * own + (1 - W) * mean of its keywords'). */
static int embed_record(const struct run *r, cJSON *obj,
			const struct os_tokens *t,
			const struct os_keyword_hit *hits, size_t nhits)
{
	size_t d = r->enc.dim;
	float *v = malloc(3 * d * sizeof *v), *kw = v + d, *one = v + 2 * d;
	double norm = 0, w = r->o->fusion;
	int rc = -1;

	if (!v || os_encoder_text_vector(&r->enc, &r->vocab, t, v) < 0)
		goto out;
	if (nhits) {
		struct os_tokens kt;
		char buf[512];
		struct os_error e;

		memset(kw, 0, d * sizeof *kw);
		os_tokens_init(&kt);
		for (size_t h = 0; h < nhits; h++) {
			const char *text = os_keyword_hit_text(&r->dict, t, &hits[h],
							       buf, sizeof buf);

			if (os_analyze(&kt, text, r->norm_flags, &e) < 0 ||
			    os_encoder_text_vector(&r->enc, &r->vocab, &kt, one) < 0) {
				os_tokens_release(&kt);
				goto out;
			}
			for (size_t p = 0; p < d; p++)
				kw[p] += one[p] / (float)nhits;
		}
		os_tokens_release(&kt);
		for (size_t p = 0; p < d; p++)
			v[p] = (float)(w * v[p] + (1 - w) * kw[p]);
	}
	for (size_t p = 0; p < d; p++)
		norm += (double)v[p] * v[p];
	for (size_t p = 0; p < d && norm > 0; p++)
		v[p] = (float)(v[p] / sqrt(norm));
	rc = os_json_set(obj, "embedding", os_json_float_array(v, d));
out:
	free(v);
	return rc;
}

/* Adds the keys that --emit asks for to `obj`. */
static int annotate_record(const struct run *r, cJSON *obj,
			   const struct os_tokens *t)
{
	unsigned emit = r->o->emit;

	if (emit & EMIT_TOKENS) {
		cJSON *ids = cJSON_CreateArray();

		for (size_t i = 0; ids && i < t->n; i++)
			if (!cJSON_AddItemToArray(
				    ids, cJSON_CreateNumber((double)os_vocab_id(
						 &r->vocab, os_token_text(t, i),
						 t->v[i].len))))
				return -1;
		if (os_json_set(obj, "tokens", ids) < 0)
			return -1;
	}
	if (emit & EMIT_WORDS) {
		cJSON *words = cJSON_CreateArray();

		for (size_t i = 0; words && i < t->n; i++)
			if (!cJSON_AddItemToArray(
				    words, cJSON_CreateString(os_token_text(t, i))))
				return -1;
		if (os_json_set(obj, "words", words) < 0)
			return -1;
	}
	if (emit & EMIT_NGRAMS) {
		cJSON *all = cJSON_CreateArray();

		for (size_t i = 0; all && i < t->n; i++) {
			uint32_t ids[512];
			size_t n = os_ngrams(os_token_text(t, i), t->v[i].len,
					     r->buckets, ids, 512);
			cJSON *one = cJSON_CreateArray();

			if (!one || !cJSON_AddItemToArray(all, one))
				return -1;
			for (size_t k = 0; k < n && k < 512; k++)
				if (!cJSON_AddItemToArray(
					    one, cJSON_CreateNumber(ids[k])))
					return -1;
		}
		if (os_json_set(obj, "ngrams", all) < 0)
			return -1;
	}
	if (emit & (EMIT_KEYWORDS | EMIT_EMBEDDING)) {
		struct os_keyword_hit hits[128];
		long n = os_dict_find(&r->dict, t, hits, 128);

		if (n < 0)
			return -1;
		if (n > 128)
			n = 128;
		if ((emit & EMIT_KEYWORDS) &&
		    os_json_set(obj, "keywords",
				os_keyword_hits_json(&r->dict, t, hits, (size_t)n)) < 0)
			return -1;
		/* a record that brings its own vector keeps it */
		if ((emit & EMIT_EMBEDDING) &&
		    !cJSON_GetObjectItemCaseSensitive(obj, "embedding") &&
		    embed_record(r, obj, t, hits, r->o->mode == MODE_INGEST ? (size_t)n : 0) < 0)
			return -1;
	}
	return 0;
}

static int write_record(struct run *r, const cJSON *obj, struct os_error *err)
{
	if (os_jsonl_write(r->out.f, obj) < 0) {
		os_output_write_error(err, r->out.path);
		return -1;
	}
	return 0;
}

/* Handles a reader or record error: 1 to go on (--keep-going), else 0. */
static int bad_record(struct run *r, struct os_error *err)
{
	os_cli_report(err);
	if (err->status == OS_EXIT_BAD_INPUT && r->o->keep_going) {
		r->bad++;
		os_error_clear(err);
		return 1;
	}
	return 0;
}

/* Query records are annotated in chunks: read in order, analyzed and
 * annotated in parallel, written in order. */
#define QUERY_CHUNK 256

struct query_chunk {
	cJSON *obj[QUERY_CHUNK];
	const char *query[QUERY_CHUNK];
	struct os_tokens tokens[QUERY_CHUNK];
	size_t n;
};

/* Annotates and writes the records of a chunk, then frees them. */
static int flush_queries(struct run *r, struct query_chunk *c,
			 struct os_error *err)
{
	int failed = 0, rc = 0;

#pragma omp parallel for schedule(dynamic, 64) reduction(| : failed)
	for (size_t i = 0; i < c->n; i++) {
		struct os_error e;

		if (os_analyze(&c->tokens[i], c->query[i], r->norm_flags, &e) < 0 ||
		    annotate_record(r, c->obj[i], &c->tokens[i]) < 0)
			failed = 1;
	}
	if (failed) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		rc = -1;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (rc == 0)
			rc = write_record(r, c->obj[i], err);
		cJSON_Delete(c->obj[i]);
	}
	c->n = 0;
	return rc;
}

/* --queries: annotate query records, streaming. */
static int run_queries(struct run *r, struct os_error *err)
{
	struct os_jsonl_reader *rd = os_jsonl_reader_new(
		r->o->inputs, r->o->ninputs, (size_t)r->o->cli.max_line);
	struct query_chunk *c = calloc(1, sizeof *c);
	cJSON *obj;
	int rc, status = OS_EXIT_OK;

	if (!rd || !c) {
		os_jsonl_reader_free(rd);
		free(c);
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return OS_EXIT_FAILURE;
	}
	while ((rc = os_jsonl_reader_next(rd, &obj, err)) != 0) {
		const char *q;

		if (rc < 0) {
			if (bad_record(r, err))
				continue;
			status = err->status;
			os_error_clear(err); /* reported */
			break;
		}
		q = os_record_query(obj, err);
		if (!q) {
			os_error_locate(err, os_jsonl_reader_where(rd),
					os_jsonl_reader_line(rd));
			cJSON_Delete(obj);
			if (bad_record(r, err))
				continue;
			status = OS_EXIT_BAD_INPUT;
			os_error_clear(err); /* reported */
			break;
		}
		c->obj[c->n] = obj;
		c->query[c->n++] = q;
		if (c->n == QUERY_CHUNK && flush_queries(r, c, err) < 0) {
			status = err->status;
			break;
		}
	}
	/* the records before a bad one are written, as they came */
	if (c->n && flush_queries(r, c, err) < 0 && status == OS_EXIT_OK)
		status = err->status;
	for (size_t i = 0; i < QUERY_CHUNK; i++)
		os_tokens_release(&c->tokens[i]);
	free(c);
	os_jsonl_reader_free(rd);
	return status;
}

/* One item read for ingest. */
struct pending {
	cJSON *obj;
	struct os_item item;
	char *owned;
	struct os_tokens tokens;
};

struct pending_list {
	struct pending *v;
	size_t n, cap;
};

static void pending_release(struct pending_list *p)
{
	for (size_t i = 0; i < p->n; i++) {
		cJSON_Delete(p->v[i].obj);
		free(p->v[i].owned);
		os_tokens_release(&p->v[i].tokens);
	}
	free(p->v);
}

/* Reads and checks every record before anything is written, so that a bad
 * record (without --keep-going) leaves the catalog untouched. */
static int read_items(struct run *r, struct pending_list *p,
		      struct os_error *err)
{
	struct os_jsonl_reader *rd = os_jsonl_reader_new(
		r->o->inputs, r->o->ninputs, (size_t)r->o->cli.max_line);
	cJSON *obj;
	int rc;

	if (!rd) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	while ((rc = os_jsonl_reader_next(rd, &obj, err)) != 0) {
		struct pending *e;

		if (rc < 0) {
			if (bad_record(r, err))
				continue;
			goto fail_reported;
		}
		e = os_grow(p->v, &p->cap, p->n + 1, sizeof *e, 1024);
		if (!e) {
			cJSON_Delete(obj);
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
			goto fail;
		}
		p->v = e;
		e = &p->v[p->n];
		if (os_record_item(obj, &e->item, &e->owned, err) < 0) {
			cJSON_Delete(obj);
			if (err->status != OS_EXIT_BAD_INPUT)
				goto fail;
			os_error_locate(err, os_jsonl_reader_where(rd),
					os_jsonl_reader_line(rd));
			if (bad_record(r, err))
				continue;
			goto fail_reported;
		}
		/* ids travel as strings: an integer id is written back as one */
		if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(obj, "id")) &&
		    os_json_set(obj, "id", cJSON_CreateString(e->item.id)) < 0) {
			cJSON_Delete(obj);
			free(e->owned);
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
			goto fail;
		}
		e->obj = obj;
		os_tokens_init(&e->tokens);
		p->n++;
	}
	os_jsonl_reader_free(rd);
	return 0;
fail_reported:
	os_jsonl_reader_free(rd);
	r->reported = err->status;
	os_error_clear(err);
	return -1;
fail:
	os_jsonl_reader_free(rd);
	return -1;
}

/* Tokenizes `n` titles in parallel; returns 0 or -1 (memory). */
static int analyze_all(const struct run *r, const char *const *titles,
		       struct os_tokens *tokens, size_t n)
{
	int failed = 0;

#pragma omp parallel for schedule(dynamic, 256) reduction(| : failed)
	for (size_t i = 0; i < n; i++) {
		struct os_error e;

		if (os_analyze(&tokens[i], titles[i], r->norm_flags, &e) < 0)
			failed = 1;
	}
	return failed ? -1 : 0;
}

static int analyze_pending(const struct run *r, struct pending_list *p)
{
	const char **titles = malloc((p->n + 1) * sizeof *titles);
	struct os_tokens *t = malloc((p->n + 1) * sizeof *t);
	int rc;

	if (!titles || !t) {
		free(titles);
		free(t);
		return -1;
	}
	for (size_t i = 0; i < p->n; i++) {
		titles[i] = p->v[i].item.title;
		os_tokens_init(&t[i]);
	}
	rc = analyze_all(r, titles, t, p->n);
	for (size_t i = 0; i < p->n; i++)
		p->v[i].tokens = t[i];
	free(titles);
	free(t);
	return rc;
}

/* Writes the items in batches of --batch, each batch one transaction with
 * its vocabulary counts. */
static int store_items(struct run *r, struct pending_list *p, size_t *updated,
		       struct os_error *err)
{
	struct os_tokens old;

	os_tokens_init(&old);
	*updated = 0;
	for (size_t b = 0; b < p->n; b += (size_t)r->o->batch) {
		size_t end = b + (size_t)r->o->batch;

		if (end > p->n)
			end = p->n;
		if (os_catalog_begin(r->cat, err) < 0)
			goto fail;
		for (size_t i = b; i < end; i++) {
			char *old_title;

			if (os_catalog_item_upsert(r->cat, &p->v[i].item,
						   &old_title, err) < 0)
				goto rollback;
			if (old_title) {
				int rc = os_analyze(&old, old_title,
						    r->norm_flags, err);

				free(old_title);
				(*updated)++;
				if (rc < 0 || os_vocab_count(&r->vocab, &old, -1) < 0)
					goto rollback_oom;
			}
			if (os_vocab_count(&r->vocab, &p->v[i].tokens, +1) < 0)
				goto rollback_oom;
		}
		if (os_vocab_flush(&r->vocab, r->cat, err) < 0 ||
		    os_catalog_commit(r->cat, err) < 0)
			goto rollback;
		r->stored = 1;
		progress(r, "stored", end, p->n);
	}
	os_tokens_release(&old);
	return 0;
rollback_oom:
	if (!err->status)
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
rollback:
	os_catalog_rollback(r->cat);
fail:
	os_tokens_release(&old);
	return -1;
}

/* The dictionary of this run: built-in lexicon and user files first (so
 * that a bad file stops the run before anything is stored), then
 * finish_dict(). */
static int start_dict(struct run *r, struct os_error *err)
{
	if (r->o->mode == MODE_INGEST && !r->o->no_lexicon &&
	    os_dict_add_lexicon(&r->dict, err) < 0)
		return -1;
	for (size_t i = 0; i < r->o->nkeyword_files; i++)
		if (os_dict_load_tsv(&r->dict, r->o->keyword_files[i], "user",
				     err) < 0)
			return -1;
	return 0;
}

/* Completes the dictionary that start_dict() began, with freshly mined
 * keywords or the catalog's own, and builds its matcher. */
static int finish_dict(struct run *r, struct os_error *err)
{
	if (r->o->mode == MODE_INGEST && !r->o->no_mine) {
		if (os_mine_keywords(&r->dict, r->cat, &r->vocab, &r->o->mine,
				     err) < 0)
			return -1;
	} else if (os_dict_load_catalog(&r->dict, r->cat, err) < 0) {
		return -1;
	}
	if (os_dict_build(&r->dict) < 0) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return 0;
}

/* Item numbers and titles copied out of the catalog. */
struct item_texts {
	long *seq;
	char **title;
	size_t n, seq_cap, title_cap;
};

static int collect_item(void *ctx, const struct os_item *item)
{
	struct item_texts *it = ctx;

	long *seq = os_grow(it->seq, &it->seq_cap, it->n + 1, sizeof *seq, 4096);
	char **title;

	if (!seq)
		return 1;
	it->seq = seq;
	title = os_grow(it->title, &it->title_cap, it->n + 1, sizeof *title, 4096);
	if (!title)
		return 1;
	it->title = title;
	it->seq[it->n] = item->seq;
	it->title[it->n] = strdup(item->title);
	if (!it->title[it->n])
		return 1;
	it->n++;
	return 0;
}

static void item_texts_release(struct item_texts *it)
{
	for (size_t i = 0; i < it->n; i++)
		free(it->title[i]);
	free(it->seq);
	free(it->title);
}

/* Writes the keywords of items seqs[0..n) (tokens t[i]) to the catalog,
 * replacing their earlier ones when `replace` is set; kw_ids maps
 * dictionary indices to catalog ids; spec keywords found by the pattern
 * are added on the way. */
static int store_item_keywords(struct run *r, const long *seqs,
			       const struct os_tokens *t, size_t n,
			       const long *kw_ids, int replace,
			       struct os_error *err)
{
	struct os_strmap spec;
	long *spec_ids = NULL;
	size_t spec_cap = 0;
	int rc = -1;

	os_strmap_init(&spec);
	for (size_t i = 0; i < n; i++) {
		struct os_keyword_hit hits[128];
		long found = os_dict_find(&r->dict, &t[i], hits, 128);
		long ids_out[128], pos[128];
		size_t nh;

		if (found < 0)
			goto oom;
		nh = found > 128 ? 128 : (size_t)found;
		for (size_t h = 0; h < nh; h++) {
			pos[h] = hits[h].start;
			if (hits[h].keyword >= 0) {
				ids_out[h] = kw_ids[hits[h].keyword];
			} else {
				char buf[512];
				const char *text = os_keyword_hit_text(
					&r->dict, &t[i], &hits[h], buf, sizeof buf);
				int added;
				long s = os_strmap_intern(&spec, text, strlen(text),
							  &added);

				if (s < 0)
					goto oom;
				if (added) {
					long *v = os_grow(spec_ids, &spec_cap, (size_t)s + 1,
							  sizeof *v, 1024);

					if (!v)
						goto oom;
					spec_ids = v;
					spec_ids[s] = os_catalog_keyword_add(
						r->cat, hits[h].type, text, "pattern",
						0, err);
					if (spec_ids[s] < 0)
						goto out;
				}
				ids_out[h] = spec_ids[s];
			}
		}
		if (os_catalog_item_keywords_set(r->cat, seqs[i], ids_out, pos,
						 nh, replace, err) < 0)
			goto out;
		progress(r, "annotated", i + 1, n);
	}
	rc = 0;
	goto out;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
out:
	os_strmap_release(&spec);
	free(spec_ids);
	return rc;
}

static int store_fingerprint(struct run *r, struct os_error *err)
{
	char fp[17];

	if (os_catalog_items_fingerprint(r->cat, fp, err) < 0)
		return -1;
	return os_catalog_meta_set(r->cat, "items_fingerprint", fp, err);
}

/* Stores the dictionary and the keywords of the items: every item of the
 * catalog after mining, else only those read. One transaction. */
static int store_keywords(struct run *r, const struct pending_list *p,
			  struct os_error *err)
{
	long *kw_ids = malloc((r->dict.n + 1) * sizeof *kw_ids);
	struct item_texts all = {0};
	struct os_tokens *t = NULL;
	long *seqs = NULL;
	size_t n;
	int rc = -1;

	if (!kw_ids)
		goto oom;
	if (os_catalog_begin(r->cat, err) < 0)
		goto out;
	if (!r->o->no_mine) {
		if (os_dict_store(&r->dict, r->cat, kw_ids, err) < 0)
			goto rollback;
		if (os_catalog_items_each(r->cat, collect_item, &all, err) != 0) {
			if (!err->status)
				os_error_set(err, OS_EXIT_FAILURE, "out of memory");
			goto rollback;
		}
		n = all.n;
		seqs = all.seq;
		t = calloc(n + 1, sizeof *t);
		if (!t || analyze_all(r, (const char *const *)all.title, t, n) < 0)
			goto rollback_oom;
	} else {
		for (size_t i = 0; i < r->dict.n; i++) {
			kw_ids[i] = os_catalog_keyword_add(
				r->cat, r->dict.kw[i].type, r->dict.kw[i].text,
				r->dict.kw[i].source, r->dict.kw[i].count, err);
			if (kw_ids[i] < 0)
				goto rollback;
		}
		n = p->n;
		seqs = malloc((n + 1) * sizeof *seqs);
		t = malloc((n + 1) * sizeof *t);
		if (!seqs || !t)
			goto rollback_oom;
		for (size_t i = 0; i < n; i++) {
			seqs[i] = p->v[i].item.seq;
			t[i] = p->v[i].tokens;
		}
	}
	/* after mining the table was emptied: nothing to replace */
	if (store_item_keywords(r, seqs, t, n, kw_ids, r->o->no_mine, err) < 0 ||
	    store_fingerprint(r, err) < 0)
		goto rollback;
	if (os_catalog_commit(r->cat, err) < 0)
		goto rollback;
	rc = 0;
	goto out;
rollback_oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
rollback:
	os_catalog_rollback(r->cat);
	goto out;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
out:
	if (!r->o->no_mine) {
		for (size_t i = 0; t && i < all.n; i++)
			os_tokens_release(&t[i]);
		item_texts_release(&all);
	} else {
		free(seqs);
	}
	free(t);
	free(kw_ids);
	return rc;
}

static int run_ingest(struct run *r, struct os_error *err)
{
	struct pending_list p = {0};
	size_t updated = 0;
	int rc;

	rc = read_items(r, &p, err);
	if (rc == 0) {
		report(r, "read %zu items", p.n);
		rc = start_dict(r, err);
	}
	if (rc == 0 && analyze_pending(r, &p) < 0) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		rc = -1;
	}
	if (rc == 0 && (rc = store_items(r, &p, &updated, err)) == 0)
		report(r, "stored %zu items (%zu new, %zu updated)", p.n,
		       p.n - updated, updated);
	if (rc == 0 && (rc = finish_dict(r, err)) == 0)
		report(r, "dictionary of %zu keywords", r->dict.n);
	if (rc == 0 && (rc = store_keywords(r, &p, err)) == 0)
		report(r, "annotated the %s", r->o->no_mine ? "items read"
							 : "catalog");
	for (size_t i = 0; rc == 0 && i < p.n; i++) {
		if (annotate_record(r, p.v[i].obj, &p.v[i].tokens) < 0) {
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
			rc = -1;
		} else {
			rc = write_record(r, p.v[i].obj, err);
		}
	}
	pending_release(&p);
	if (rc < 0)
		return r->reported ? r->reported : err->status;
	if (!r->o->cli.quiet)
		fprintf(stderr,
			"%s: %zu items (%zu new, %zu updated), %zu keywords, "
			"%.2f s\n",
			os_cli_program(), p.n, p.n - updated, updated,
			r->dict.n, os_cli_now() - r->start);
	return OS_EXIT_OK;
}

/* The catalog's items for the encoder: id -> index, each title's
 * features, and `per_item` title queries of each (item i's at
 * view[i * per_item]). Owns f and view, and the features in them. */
struct item_features {
	struct os_strmap ids;
	struct os_features *f, *view;
	size_t rows; /* f and view set for items 0..rows-1 */
	size_t cap, view_cap, per_item;
	const struct run *r;
	struct os_tokens t;
	struct os_rng rng;
	int failed;
};

/* A title query: 1 to 3 of the title's words (t), picked at random and
 * kept in title order, as a shopper might type them; its features into
 * out (malloc'd). */
static int title_query(const struct run *r, const struct os_tokens *t,
		       struct os_rng *rng, struct os_features *out)
{
	struct os_token picked[3];
	struct os_tokens view = *t;
	size_t want = 1 + (size_t)os_rng_below(rng, 3), n = 0;

	if (want > t->n)
		want = t->n;
	for (size_t i = 0; i < t->n && n < want; i++) /* selection sampling */
		if ((size_t)os_rng_below(rng, t->n - i) < want - n)
			picked[n++] = t->v[i];
	view.v = picked;
	view.n = n;
	return os_encoder_text_features(&r->enc, &r->vocab, &view, out);
}

static int item_feature_row(void *ctx, const struct os_item *item)
{
	struct item_features *it = ctx;
	long i = os_strmap_intern(&it->ids, item->id, strlen(item->id), NULL);
	struct os_features *f, *v;
	struct os_error e;

	if (i < 0 || !(f = os_grow(it->f, &it->cap, (size_t)i + 1, sizeof *f, 4096)))
		goto failed;
	it->f = f; /* at once: the old array may be gone */
	if (!(v = os_grow(it->view, &it->view_cap, ((size_t)i + 1) * it->per_item + 1,
			  sizeof *v, 4096)))
		goto failed;
	it->view = v;
	if (os_analyze(&it->t, item->title, it->r->norm_flags, &e) < 0)
		goto failed;
	f[i] = (struct os_features){NULL, 0};
	v += (size_t)i * it->per_item;
	for (size_t k = 0; k < it->per_item; k++)
		v[k] = (struct os_features){NULL, 0};
	it->rows = (size_t)i + 1;
	if (os_encoder_text_features(&it->r->enc, &it->r->vocab, &it->t, &f[i]) < 0)
		goto failed;
	for (size_t k = 0; k < it->per_item; k++)
		if (title_query(it->r, &it->t, &it->rng, &v[k]) < 0)
			goto failed;
	return 0;
failed:
	it->failed = 1;
	return 1;
}

/* Training pairs, growing. */
struct pairs {
	struct os_features *a, *b;
	size_t n, cap_a, cap_b;
};

static int add_pair(struct pairs *p, struct os_features a, struct os_features b)
{
	struct os_features *va = os_grow(p->a, &p->cap_a, p->n + 1, sizeof *va, 4096);
	struct os_features *vb;

	if (!va)
		return -1;
	p->a = va;
	if (!(vb = os_grow(p->b, &p->cap_b, p->n + 1, sizeof *vb, 4096)))
		return -1;
	p->b = vb;
	va[p->n] = a;
	vb[p->n++] = b;
	return 0;
}

/* Query-to-item pairs from the --train-encoder file: each query with each
 * of its "relevant" items (or, without that key, its "graded" items of
 * grade 1 or more). The query features are malloc'd into p->a; item
 * features are shared with `items`. */
static int query_pairs(struct run *r, struct item_features *items,
		       struct pairs *p, size_t *skipped, struct os_error *err)
{
	char *paths[1] = {(char *)r->o->pairs};
	struct os_jsonl_reader *rd = os_jsonl_reader_new(paths, 1, (size_t)r->o->cli.max_line);
	struct os_tokens t;
	cJSON *obj;
	int rc;

	if (!rd) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	os_tokens_init(&t);
	while ((rc = os_jsonl_reader_next(rd, &obj, err)) > 0) {
		const char *q = os_record_query(obj, err);
		const cJSON *rel = cJSON_GetObjectItemCaseSensitive(obj, "relevant");
		const cJSON *graded = cJSON_GetObjectItemCaseSensitive(obj, "graded");
		const cJSON *v, *list = rel ? rel : graded;
		struct os_features qf;

		if (!q || os_analyze(&t, q, r->norm_flags, err) < 0 ||
		    os_encoder_text_features(&r->enc, &r->vocab, &t, &qf) < 0) {
			if (!err->status)
				os_error_set(err, OS_EXIT_FAILURE, "out of memory");
			os_error_locate(err, os_jsonl_reader_where(rd),
					os_jsonl_reader_line(rd));
			cJSON_Delete(obj);
			rc = -1;
			break;
		}
		cJSON_ArrayForEach(v, list)
		{
			char id[OS_RECORD_ID_MAX];
			const char *key = rel ? os_record_id(v, "relevant", id, sizeof id, err)
					      : v->string;
			long i = key ? os_strmap_find(&items->ids, key, strlen(key)) : -1;

			if (!rel && (!cJSON_IsNumber(v) || v->valuedouble < 1))
				continue;
			if (i < 0) {
				(*skipped)++;
				continue;
			}
			/* each pair owns a copy of the query's features */
			for (long k = 0; k < r->o->query_repeat && rc >= 0; k++) {
				struct os_features copy = {malloc((qf.n + 1) * sizeof *copy.id),
							   qf.n};

				if (copy.id)
					memcpy(copy.id, qf.id, qf.n * sizeof *qf.id);
				if (!copy.id || add_pair(p, copy, items->f[i]) < 0) {
					free(copy.id);
					os_error_set(err, OS_EXIT_FAILURE, "out of memory");
					rc = -1;
				}
			}
			if (rc < 0)
				break;
		}
		free(qf.id);
		cJSON_Delete(obj);
		if (rc < 0)
			break;
	}
	os_tokens_release(&t);
	os_jsonl_reader_free(rd);
	return rc < 0 ? -1 : 0;
}

static void epoch_report(void *ctx, int epoch, double loss)
{
	const struct run *r = ctx;

	if (!r->o->cli.quiet)
		fprintf(stderr, "%s: encoder epoch %d of %d, loss %.4f (%.1f s)\n",
			os_cli_program(), epoch, r->o->enc.epochs, loss,
			os_cli_now() - r->start);
}

/* --train-encoder: pairs of each training query with its items, and of
 * each item's title with a few of its words (title queries), so that
 * items no query touched get good vectors too. */
static int run_train_encoder(struct run *r, struct os_error *err)
{
	struct item_features items;
	struct pairs p = {0};
	size_t vocab = 1, skipped = 0, queries = 0;
	int status = OS_EXIT_FAILURE, rc;

	for (size_t i = 0; i < r->vocab.tokens.count; i++)
		if ((size_t)r->vocab.entries[i].id + 1 > vocab)
			vocab = (size_t)r->vocab.entries[i].id + 1;
	memset(&items, 0, sizeof items);
	os_strmap_init(&items.ids);
	os_tokens_init(&items.t);
	items.r = r;
	items.per_item = (size_t)r->o->title_queries;
	os_rng_seed(&items.rng, (uint64_t)r->o->cli.seed);
	if (os_encoder_init(&r->enc, vocab, (size_t)r->o->encoder_buckets,
			    (size_t)r->o->encoder_dim, (uint64_t)r->o->cli.seed) < 0 ||
	    os_catalog_items_each(r->cat, item_feature_row, &items, err) != 0 ||
	    items.failed) {
		if (!err->status)
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		goto out;
	}
	rc = query_pairs(r, &items, &p, &skipped, err);
	queries = p.n; /* the pairs so far own a copy of their query */
	if (rc < 0) {
		status = err->status;
		goto out;
	}
	for (size_t i = 0; i < items.rows * items.per_item; i++)
		if (add_pair(&p, items.view[i], items.f[i / items.per_item]) < 0) {
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
			goto out;
		}
	if (!r->o->cli.quiet)
		fprintf(stderr, "%s: encoder: %zu query-item pairs (%zu to items "
			"not in the catalog left out), %zu title queries\n",
			os_cli_program(), queries, skipped, p.n - queries);
	if (os_encoder_train(&r->enc, p.a, p.b, p.n, &r->o->enc, epoch_report, r) < 0) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		goto out;
	}
	if (os_catalog_begin(r->cat, err) < 0)
		goto out;
	if (os_encoder_store(&r->enc, r->cat, err) < 0 ||
	    os_catalog_commit(r->cat, err) < 0) {
		os_catalog_rollback(r->cat);
		goto out;
	}
	status = OS_EXIT_OK;
out:
	for (size_t i = 0; i < queries; i++)
		free(p.a[i].id); /* the other pairs are the items' */
	free(p.a);
	free(p.b);
	for (size_t i = 0; i < items.rows; i++)
		free(items.f[i].id);
	for (size_t i = 0; i < items.rows * items.per_item; i++)
		free(items.view[i].id);
	free(items.f);
	free(items.view);
	os_strmap_release(&items.ids);
	os_tokens_release(&items.t);
	return status;
}

static int type_count(void *ctx, const char *type, long count)
{
	cJSON *types = ctx;

	return !cJSON_AddNumberToObject(types, type, (double)count);
}

/* The catalog's encoder, when --emit asks for embeddings. */
static int load_encoder(struct run *r, struct os_error *err)
{
	int rc;

	if (!(r->o->emit & EMIT_EMBEDDING))
		return 0;
	rc = os_encoder_load(&r->enc, r->cat, err);
	if (rc == 0)
		os_error_set(err, OS_EXIT_FAILURE,
			     "the catalog has no encoder: train one with "
			     "--train-encoder first");
	return rc > 0 ? 0 : -1;
}

static int run_summary(struct run *r, struct os_error *err)
{
	struct os_catalog_summary s;
	cJSON *obj = cJSON_CreateObject(), *types = cJSON_CreateObject();
	char *fp = NULL;
	int status = OS_EXIT_FAILURE;

	if (!obj || !types) {
		cJSON_Delete(obj);
		cJSON_Delete(types);
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return OS_EXIT_FAILURE;
	}
	if (os_catalog_summary(r->cat, &s, err) < 0 ||
	    os_catalog_keyword_types_each(r->cat, type_count, types, err) != 0)
		goto out;
	fp = os_catalog_meta_get(r->cat, "items_fingerprint", err);
	if (!fp && err->status)
		goto out;
	cJSON_AddStringToObject(obj, "catalog", r->o->catalog);
	cJSON_AddNumberToObject(obj, "schema", s.schema);
	cJSON_AddNumberToObject(obj, "items", (double)s.items);
	cJSON_AddNumberToObject(obj, "vocab", (double)s.vocab);
	cJSON_AddNumberToObject(obj, "keywords", (double)s.keywords);
	cJSON_AddItemToObject(obj, "keyword_types", types);
	types = NULL;
	cJSON_AddNumberToObject(obj, "item_keywords", (double)s.item_keywords);
	cJSON_AddNumberToObject(obj, "cot_cache", (double)s.cot_cache);
	if (fp)
		cJSON_AddStringToObject(obj, "items_fingerprint", fp);
	else
		cJSON_AddNullToObject(obj, "items_fingerprint");
	status = write_record(r, obj, err) < 0 ? OS_EXIT_FAILURE : OS_EXIT_OK;
out:
	if (status && !err->status)
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	free(fp);
	cJSON_Delete(types);
	cJSON_Delete(obj);
	return status;
}

static int dump_row(void *ctx, long id, const char *type, const char *text,
		    const char *source, long count)
{
	struct run *r = ctx;

	(void)id;
	return fprintf(r->out.f, "%s\t%s\t%s\t%ld\n", type, text, source,
		       count) < 0;
}

static int run_dump_keywords(struct run *r, struct os_error *err)
{
	int rc = os_catalog_keywords_each(r->cat, NULL, dump_row, r, err);

	if (rc > 0)
		os_output_write_error(err, r->out.path);
	return rc ? OS_EXIT_FAILURE : OS_EXIT_OK;
}

/* Removes a catalog that this run created but never stored anything in,
 * so that a failed first ingest leaves things as they were. */
static void remove_catalog(const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	char name[4096];

	for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
		snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
		unlink(name);
	}
}

int main(int argc, char **argv)
{
	struct options o;
	struct run r;
	struct os_error err;
	int status, writable, created;

	os_blas_fit_cpu(argv);
	os_cli_init(argv[0]);
	os_error_clear(&err);
	status = parse_options(argc, argv, &o);
	if (status != 0) {
		free(o.keyword_files);
		return os_cli_options_exit(status);
	}
	memset(&r, 0, sizeof r);
	r.o = &o;
	r.start = os_cli_now();
	os_parallel_set_threads(o.cli.threads);
	os_matmul_single_threaded();
	os_vocab_init(&r.vocab);
	writable = o.mode == MODE_INGEST || o.mode == MODE_TRAIN_ENCODER;
	created = writable && access(o.catalog, F_OK) != 0;
	if (os_catalog_open(&r.cat, o.catalog,
			    writable ? 0 : OS_CATALOG_READ_ONLY, &err) < 0) {
		status = err.status;
		goto out;
	}
	status = settings(&r, writable, &err);
	if (status)
		goto out;
	os_dict_init(&r.dict, r.norm_flags);
	if (os_output_open(&r.out, o.output, &err) < 0) {
		status = err.status;
		goto out_dict;
	}
	switch (o.mode) {
	case MODE_SUMMARY:
		status = run_summary(&r, &err);
		break;
	case MODE_DUMP_KEYWORDS:
		status = run_dump_keywords(&r, &err);
		break;
	case MODE_QUERIES:
		if (os_vocab_load(&r.vocab, r.cat, &err) < 0 ||
		    load_encoder(&r, &err) < 0 || start_dict(&r, &err) < 0 ||
		    finish_dict(&r, &err) < 0)
			status = err.status;
		else
			status = run_queries(&r, &err);
		break;
	case MODE_INGEST:
		if (os_vocab_load(&r.vocab, r.cat, &err) < 0 ||
		    load_encoder(&r, &err) < 0)
			status = err.status;
		else
			status = run_ingest(&r, &err);
		break;
	case MODE_TRAIN_ENCODER:
		if (os_vocab_load(&r.vocab, r.cat, &err) < 0)
			status = err.status;
		else
			status = run_train_encoder(&r, &err);
		break;
	}
	/* The output is kept when the run finished, also after records
	 * skipped under --keep-going (which still exit 3). */
	if (status == OS_EXIT_OK) {
		if (os_output_commit(&r.out, &err) < 0)
			status = OS_EXIT_FAILURE;
		else if (r.bad)
			status = OS_EXIT_BAD_INPUT;
	} else {
		os_output_abort(&r.out);
	}
	if (r.bad)
		os_cli_warn("%zu bad record%s skipped", r.bad,
			    r.bad == 1 ? "" : "s");
out_dict:
	os_dict_release(&r.dict);
out:
	if (err.status)
		os_cli_report(&err);
	if (r.cat)
		os_catalog_close(r.cat);
	if (created && status != OS_EXIT_OK && !r.stored)
		remove_catalog(o.catalog);
	os_vocab_release(&r.vocab);
	os_encoder_release(&r.enc);
	free(o.keyword_files);
	if (os_cli_close_stdout(status == OS_EXIT_OK) < 0 &&
	    status == OS_EXIT_OK)
		status = OS_EXIT_FAILURE;
	return status;
}
