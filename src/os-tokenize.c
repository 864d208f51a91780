/* SPDX-License-Identifier: MIT */
/* os-tokenize: ingest items into the catalog, mine and match the typed
 * keyword dictionary, and annotate item or query records (see
 * os-tokenize(1)). Options and orchestration only; the work is in
 * libonesearch. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/analyze.h"
#include "lib/catalog.h"
#include "lib/cli.h"
#include "lib/grow.h"
#include "lib/jsonl.h"
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
};

enum mode { MODE_INGEST, MODE_QUERIES, MODE_SUMMARY, MODE_DUMP_KEYWORDS };

struct options {
	const char *catalog;
	const char *output;
	enum mode mode;
	char **keyword_files;
	size_t nkeyword_files;
	int no_lexicon, no_mine, keep_accents, keep_going, quiet, verbose;
	unsigned emit;
	long batch, threads, ngram_buckets;
	long max_line;
	struct os_mine_opts mine;
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
	OPT_MAX_LINE,
	OPT_DUMP_KEYWORDS,
	OPT_SUMMARY,
	OPT_SEED,
	OPT_THREADS,
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
	{"max-line", required_argument, NULL, OPT_MAX_LINE},
	{"dump-keywords", no_argument, NULL, OPT_DUMP_KEYWORDS},
	{"summary", no_argument, NULL, OPT_SUMMARY},
	{"keep-going", no_argument, NULL, 'k'},
	{"output", required_argument, NULL, 'o'},
	{"seed", required_argument, NULL, OPT_SEED},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
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
      --emit=LIST          keys to add, of keywords,tokens,words,ngrams\n\
                           (default keywords)\n\
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
      --seed=N             accepted for uniformity; nothing here is random\n\
      --threads=N          threads for text analysis (default: all cores)\n\
  -q, --quiet              no progress or report on standard error\n\
  -v, --verbose            report each phase on standard error\n\
  -h, --help               display this help and exit\n\
  -V, --version            output version information and exit\n\
\n\
Exit status: 0 success, 1 runtime failure, 2 usage error, 3 bad input.\n\
See os-tokenize(1), onesearch(7) and os-catalog(5).\n",
	      stdout);
}

static int parse_emit(const char *arg, unsigned *out)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {{"keywords", EMIT_KEYWORDS},
		     {"tokens", EMIT_TOKENS},
		     {"words", EMIT_WORDS},
		     {"ngrams", EMIT_NGRAMS}};
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
				    "keywords,tokens,words,ngrams)",
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
	int c;
	long seed;

	memset(o, 0, sizeof *o);
	o->catalog = getenv("OS_CATALOG");
	o->emit = EMIT_KEYWORDS;
	o->batch = 5000;
	o->ngram_buckets = 0;
	o->max_line = (long)OS_MAX_LINE_DEFAULT;
	os_mine_opts_default(&o->mine);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":C:ko:qvhV", long_options, NULL)) !=
	       -1) {
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
		case OPT_MAX_LINE:
			if (os_cli_parse_long("--max-line", optarg, 16, 1L << 40,
					      &o->max_line) < 0)
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
		case OPT_SEED:
			if (os_cli_parse_long("--seed", optarg, 0, 1L << 62,
					      &seed) < 0)
				return -1;
			break;
		case OPT_THREADS:
			if (os_cli_parse_long("--threads", optarg, 1, 1024,
					      &o->threads) < 0)
				return -1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			help();
			return 1;
		case 'V':
			os_cli_version(stdout);
			return 1;
		case ':':
			os_cli_warn("option '%s' requires an argument",
				    argv[optind - 1]);
			return -1;
		default:
			if (optopt)
				os_cli_warn("invalid option -- '%c'", optopt);
			else
				os_cli_warn("unrecognized option '%s'",
					    argv[optind - 1]);
			return -1;
		}
	}
	if (!o->catalog || !*o->catalog) {
		os_cli_warn("no catalog: give -C FILE or set OS_CATALOG");
		return -1;
	}
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
	size_t bad;   /* records skipped under --keep-going */
	int reported; /* status of a failure already reported, or 0 */
	int stored;   /* a batch of items was committed */
	double start;
};

static void progress(const struct run *r, const char *what, size_t done,
		     size_t total)
{
	if (r->o->quiet || !isatty(STDERR_FILENO))
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

	if (r->o->quiet || !r->o->verbose)
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
	const char *wanted = r->o->keep_accents ? "nfkc-casefold"
						: "nfkc-casefold-fold-accents";
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

		r->norm_flags = strcmp(n, "nfkc-casefold") == 0
					? OS_NORM_KEEP_ACCENTS
					: 0;
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
	if (emit & EMIT_KEYWORDS) {
		struct os_keyword_hit hits[128];
		long n = os_dict_find(&r->dict, t, hits, 128);

		if (n < 0 || os_json_set(obj, "keywords",
					 os_keyword_hits_json(&r->dict, t, hits,
							      n > 128 ? 128
								      : (size_t)n)) < 0)
			return -1;
	}
	return 0;
}

static int write_record(struct run *r, const cJSON *obj, struct os_error *err)
{
	if (os_jsonl_write(r->out.f, obj) < 0) {
		os_error_set(err, OS_EXIT_FAILURE, "write error: %s",
			     strerror(errno));
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
		r->o->inputs, r->o->ninputs, (size_t)r->o->max_line);
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
		r->o->inputs, r->o->ninputs, (size_t)r->o->max_line);
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
	if (!r->o->quiet)
		fprintf(stderr,
			"%s: %zu items (%zu new, %zu updated), %zu keywords, "
			"%.2f s\n",
			os_cli_program(), p.n, p.n - updated, updated,
			r->dict.n, os_cli_now() - r->start);
	return OS_EXIT_OK;
}

static int type_count(void *ctx, const char *type, long count)
{
	cJSON *types = ctx;

	return !cJSON_AddNumberToObject(types, type, (double)count);
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
		os_error_set(err, OS_EXIT_FAILURE, "write error");
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

	os_cli_init(argv[0]);
	os_error_clear(&err);
	status = parse_options(argc, argv, &o);
	if (status != 0) {
		free(o.keyword_files);
		if (status < 0)
			os_cli_try_help();
		return status < 0 ? OS_EXIT_USAGE
				  : os_cli_close_stdout(1) < 0 ? OS_EXIT_FAILURE
							       : OS_EXIT_OK;
	}
	memset(&r, 0, sizeof r);
	r.o = &o;
	r.start = os_cli_now();
	os_parallel_set_threads(o.threads);
	os_vocab_init(&r.vocab);
	writable = o.mode == MODE_INGEST;
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
		    start_dict(&r, &err) < 0 || finish_dict(&r, &err) < 0)
			status = err.status;
		else
			status = run_queries(&r, &err);
		break;
	case MODE_INGEST:
		if (os_vocab_load(&r.vocab, r.cat, &err) < 0)
			status = err.status;
		else
			status = run_ingest(&r, &err);
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
	free(o.keyword_files);
	if (os_cli_close_stdout(status == OS_EXIT_OK) < 0 &&
	    status == OS_EXIT_OK)
		status = OS_EXIT_FAILURE;
	return status;
}
