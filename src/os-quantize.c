/* SPDX-License-Identifier: MIT */
/* os-quantize: semantic IDs for the catalog's items by residual k-means
 * over their vectors (see os-quantize(1)). Options, orchestration and
 * output only; the quantizer is in libonesearch (rq.c, kmeans.c). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/blascpu.h"
#include "lib/catalog.h"
#include "lib/cli.h"
#include "lib/endian.h"
#include "lib/grow.h"
#include "lib/hash.h"
#include "lib/jsonl.h"
#include "lib/matmul.h"
#include "lib/output.h"
#include "lib/parallel.h"
#include "lib/record.h"
#include "lib/rq.h"
#include "lib/strmap.h"

struct options {
	const char *catalog;
	const char *output;
	size_t k[OS_RQ_MAX_LEVELS];
	size_t levels; /* 0: chosen from the number of items */
	struct os_kmeans_opts km;
	int assign, normalize, balance;
	const char *training_option; /* the last one given, for --assign */
	const char *queries; /* --with-queries */
	struct os_cli_common cli;
	char **inputs;
	size_t ninputs;
};

enum {
	OPT_LEVELS = 256,
	OPT_ITERATIONS,
	OPT_TOLERANCE,
	OPT_MAX_PER_CENTROID,
	OPT_NO_NORMALIZE,
	OPT_NO_BALANCE,
	OPT_ASSIGN,
	OPT_WITH_QUERIES,
};

static const struct option long_options[] = {
	{"catalog", required_argument, NULL, 'C'},
	{"levels", required_argument, NULL, OPT_LEVELS},
	{"iterations", required_argument, NULL, OPT_ITERATIONS},
	{"tolerance", required_argument, NULL, OPT_TOLERANCE},
	{"max-per-centroid", required_argument, NULL, OPT_MAX_PER_CENTROID},
	{"no-normalize", no_argument, NULL, OPT_NO_NORMALIZE},
	{"no-balance", no_argument, NULL, OPT_NO_BALANCE},
	{"assign", no_argument, NULL, OPT_ASSIGN},
	{"with-queries", required_argument, NULL, OPT_WITH_QUERIES},
	{"output", required_argument, NULL, 'o'},
	OS_CLI_COMMON_LONG_OPTIONS,
	OS_CLI_STANDARD_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

static void help(void)
{
	printf("Usage: %s [OPTION]... [FILE]...\n", os_cli_program());
	fputs("\
Give the catalog's items hierarchical semantic IDs by residual k-means\n\
over their vectors. Reads item records with \"id\" (an item of the\n\
catalog) and \"embedding\" (a vector from any encoder), stores the\n\
codebooks and the SIDs in the catalog, and writes the records back with\n\
\"sid\".\n\
With no FILE, or when FILE is -, read standard input.\n\
\n\
  -C, --catalog=FILE       the catalog (default: $OS_CATALOG)\n\
      --levels=LIST        codes per level, e.g. 256,256,256 (default: 3\n\
                           levels of the power of two nearest the cube root\n\
                           of the number of items, 2 to 256)\n\
      --iterations=N       k-means iterations at most, per level (default 25)\n\
      --tolerance=X        stop a level when the error improves by less than\n\
                           this share (default 0.0001)\n\
      --max-per-centroid=N train each level on at most N points a code\n\
                           (default 256; 0: all points)\n\
      --no-normalize       use the vectors as they are, not scaled to length 1\n\
      --no-balance         assign the last level to the nearest code, not\n\
                           balanced within each parent\n\
      --with-queries=FILE  cluster the query vectors of FILE (records with\n\
                           \"embedding\") with the items into one codebook;\n\
                           only items get SIDs\n\
      --assign             keep the catalog's codebooks and SIDs; give SIDs to\n\
                           the items read that have none\n\
      --seed=N             seed of the k-means draws (default 1)\n\
      --threads=N          threads (default: all cores)\n\
      --max-line=BYTES     longest input line accepted (default 67108864)\n\
  -o, --output=FILE        write records to FILE (whole or not at all)\n\
  -q, --quiet              no progress or report on standard error\n\
  -v, --verbose            report each level's training as it goes\n\
",
	      stdout);
	os_cli_help_tail("os-quantize(1)");
}

static int parse_levels(const char *arg, struct options *o)
{
	long k[OS_RQ_MAX_LEVELS];

	if (os_cli_parse_list("--levels", arg, 2, 65536, "counts", k,
			      OS_RQ_MAX_LEVELS, &o->levels) < 0)
		return -1;
	for (size_t l = 0; l < o->levels; l++)
		o->k[l] = (size_t)k[l];
	return 0;
}

/* Returns 0 to run, 1 after --help or --version, -1 on a usage error. */
static int parse_options(int argc, char **argv, struct options *o)
{
	int c, common;
	long v;
	double x;

	memset(o, 0, sizeof *o);
	os_cli_common_init(&o->cli);
	o->catalog = getenv("OS_CATALOG");
	o->normalize = 1;
	o->balance = 1;
	os_kmeans_opts_default(&o->km, 0);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":C:o:qvhV", long_options, NULL)) !=
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
		case OPT_LEVELS:
			o->training_option = "--levels";
			if (parse_levels(optarg, o) < 0)
				return -1;
			break;
		case OPT_ITERATIONS:
			o->training_option = "--iterations";
			if (os_cli_parse_long("--iterations", optarg, 1, 100000, &v) < 0)
				return -1;
			o->km.iterations = (int)v;
			break;
		case OPT_TOLERANCE:
			o->training_option = "--tolerance";
			if (os_cli_parse_double("--tolerance", optarg, 0, 1, &x) < 0)
				return -1;
			o->km.tolerance = x;
			break;
		case OPT_MAX_PER_CENTROID:
			o->training_option = "--max-per-centroid";
			if (os_cli_parse_long("--max-per-centroid", optarg, 0,
					      1L << 30, &v) < 0)
				return -1;
			o->km.max_per_centroid = (size_t)v;
			break;
		case OPT_NO_NORMALIZE:
			o->training_option = "--no-normalize";
			o->normalize = 0;
			break;
		case OPT_NO_BALANCE:
			o->training_option = "--no-balance";
			o->balance = 0;
			break;
		case OPT_ASSIGN:
			o->assign = 1;
			break;
		case OPT_WITH_QUERIES:
			o->training_option = "--with-queries";
			o->queries = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		default:
			return os_cli_standard_option(c, argv, help) > 0 ? 1 : -1;
		}
	}
	if (!o->catalog || !*o->catalog) {
		os_cli_warn("no catalog: give -C FILE or set OS_CATALOG");
		return -1;
	}
	o->km.seed = (uint64_t)o->cli.seed;
	if (o->cli.seed_given && !o->training_option)
		o->training_option = "--seed";
	if (o->assign && o->training_option) {
		os_cli_warn("--assign keeps the catalog's quantizer; %s applies "
			    "to training",
			    o->training_option);
		return -1;
	}
	o->inputs = argv + optind;
	o->ninputs = (size_t)(argc - optind);
	return 0;
}

/* The items read: records, catalog numbers and vectors. */
struct items {
	cJSON **obj;
	long *seq;
	float *x;      /* n x dim */
	size_t n, dim;
	size_t obj_cap, seq_cap, x_cap;
};

static void items_release(struct items *it)
{
	for (size_t i = 0; i < it->n; i++)
		cJSON_Delete(it->obj[i]);
	free(it->obj);
	free(it->seq);
	free(it->x);
}

/* Catalog ids to item numbers, and the input line that gave each. */
struct id_map {
	struct os_strmap ids;
	long *seq;
	long *line; /* 0 while not read */
	size_t cap, line_cap;
};

static int map_item(void *ctx, const struct os_item *item)
{
	struct id_map *m = ctx;
	long i = os_strmap_intern(&m->ids, item->id, strlen(item->id), NULL);
	long *s;

	if (i < 0 || !(s = os_grow(m->seq, &m->cap, (size_t)i + 1, sizeof *s, 4096)))
		return 1;
	m->seq = s;
	s[i] = item->seq;
	if (!(s = os_grow(m->line, &m->line_cap, (size_t)i + 1, sizeof *s, 4096)))
		return 1;
	m->line = s;
	s[i] = 0;
	return 0;
}

static int add_item(struct items *it, cJSON *obj, struct id_map *map,
		    size_t want_dim, long line, struct os_error *err)
{
	char id[OS_RECORD_ID_MAX];
	long i;
	cJSON **objs;
	long *seqs;

	if (!os_record_id(cJSON_GetObjectItemCaseSensitive(obj, "id"), "id", id,
			  sizeof id, err))
		return -1;
	if (want_dim)
		it->dim = want_dim;
	if ((i = os_strmap_find(&map->ids, id, strlen(id))) < 0) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "item '%s' is not in the catalog (ingest it with "
			     "os-tokenize first)",
			     id);
		return -1;
	}
	if (map->line[i]) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "item '%s' is given twice (first at line %ld)", id,
			     map->line[i]);
		return -1;
	}
	if (os_record_embedding(obj, &it->x, &it->x_cap, it->n, &it->dim, err) < 0)
		return -1;
	map->line[i] = line;
	if (!(objs = os_grow(it->obj, &it->obj_cap, it->n + 1, sizeof *objs, 1024)))
		goto oom;
	it->obj = objs;
	if (!(seqs = os_grow(it->seq, &it->seq_cap, it->n + 1, sizeof *seqs, 1024)))
		goto oom;
	it->seq = seqs;
	it->seq[it->n] = map->seq[i];
	it->obj[it->n++] = obj;
	return 0;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return -1;
}

/* The catalog's quantizer, for --assign. */
struct loaded {
	struct os_rq rq;
	int failed;
};

static int load_codebook(void *ctx, int level, long code, const void *c,
			 size_t bytes)
{
	struct loaded *ld = ctx;
	struct os_rq *rq = &ld->rq;

	if (level < 0 || (size_t)level >= rq->levels || code < 0 ||
	    (size_t)code >= rq->k[level] || bytes != rq->dim * sizeof(float)) {
		ld->failed = 1;
		return 1;
	}
	memcpy(rq->codebook[level] + (size_t)code * rq->dim, c, bytes);
	os_floats_le(rq->codebook[level] + (size_t)code * rq->dim, rq->dim);
	return 0;
}

static int load_quantizer(struct os_catalog *cat, struct os_rq *rq,
			  int *normalize, struct os_error *err)
{
	char *levels = os_catalog_meta_get(cat, "sid_levels", err);
	char *dim = levels ? os_catalog_meta_get(cat, "sid_dim", err) : NULL;
	char *norm = dim ? os_catalog_meta_get(cat, "sid_normalize", err) : NULL;
	struct loaded ld;
	const char *p;
	int rc = -1;

	os_rq_init(&ld.rq);
	ld.failed = 0;
	if (!levels || !dim || !norm) {
		if (!err->status)
			os_error_set(err, OS_EXIT_FAILURE,
				     "the catalog has no codebooks: run "
				     "os-quantize without --assign first");
		goto out;
	}
	ld.rq.dim = (size_t)atol(dim);
	for (p = levels; *p && ld.rq.levels < OS_RQ_MAX_LEVELS;) {
		ld.rq.k[ld.rq.levels] = (size_t)strtoul(p, (char **)&p, 10);
		if (!(ld.rq.codebook[ld.rq.levels] =
			      calloc(ld.rq.k[ld.rq.levels] * ld.rq.dim, sizeof(float)))) {
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
			goto out;
		}
		ld.rq.levels++;
		p += *p == ',';
	}
	if (os_catalog_codebooks_each(cat, load_codebook, &ld, err) != 0 || ld.failed) {
		if (!err->status)
			os_error_set(err, OS_EXIT_FAILURE,
				     "the catalog's codebooks do not match its "
				     "sid_levels and sid_dim");
		goto out;
	}
	*normalize = strcmp(norm, "1") == 0;
	*rq = ld.rq;
	os_rq_init(&ld.rq);
	rc = 0;
out:
	os_rq_release(&ld.rq);
	free(levels);
	free(dim);
	free(norm);
	return rc;
}

/* What the first record needs: the catalog, its items and, for --assign,
 * its quantizer. */
struct source {
	struct {
		const char *catalog;
		int assign;
	} o;
	struct os_catalog *cat;
	struct id_map map;
	struct os_rq rq;
	int normalize; /* the quantizer's, for --assign */
};

static int open_catalog(struct source *src, struct os_error *err)
{
	if (access(src->o.catalog, F_OK) != 0) {
		os_error_set(err, OS_EXIT_FAILURE,
			     "cannot open catalog '%s': %s (ingest items with "
			     "os-tokenize first)",
			     src->o.catalog, strerror(errno));
		return -1;
	}
	if (os_catalog_open(&src->cat, src->o.catalog, 0, err) < 0 ||
	    (src->o.assign && load_quantizer(src->cat, &src->rq, &src->normalize,
					     err) < 0))
		return -1;
	if (os_catalog_items_each(src->cat, map_item, &src->map, err) != 0) {
		if (!err->status)
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return 0;
}

/* Reads every record. The catalog is opened when the first record
 * arrives, so that `os-tokenize items | os-quantize` finds the items that
 * os-tokenize stored before writing its first record. */
static int read_items(const struct options *o, struct source *src,
		      struct items *it, struct os_error *err)
{
	struct os_jsonl_reader *r = os_jsonl_reader_new(o->inputs, o->ninputs,
							(size_t)o->cli.max_line);
	cJSON *obj;
	int rc;

	if (!r) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	while ((rc = os_jsonl_reader_next(r, &obj, err)) > 0) {
		if (!src->cat && open_catalog(src, err) < 0) {
			cJSON_Delete(obj);
			rc = -1;
			break;
		}
		if (add_item(it, obj, &src->map, o->assign ? src->rq.dim : 0,
			     os_jsonl_reader_line(r), err) < 0) {
			cJSON_Delete(obj);
			if (err->status == OS_EXIT_BAD_INPUT)
				os_error_locate(err, os_jsonl_reader_where(r),
						os_jsonl_reader_line(r));
			rc = -1;
			break;
		}
	}
	os_jsonl_reader_free(r);
	return rc < 0 ? -1 : 0;
}

static void normalize_rows(float *x, size_t n, size_t d)
{
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < n; i++) {
		double s = 0;

		for (size_t p = 0; p < d; p++)
			s += (double)x[i * d + p] * x[i * d + p];
		if (s > 0)
			for (size_t p = 0; p < d; p++)
				x[i * d + p] = (float)(x[i * d + p] / sqrt(s));
	}
}

/* The default levels: three of the power of two nearest n^(1/3). */
static void default_levels(struct options *o, size_t n)
{
	double target = cbrt((double)n);
	size_t k = 2;

	while (k < 256 && (double)k * 1.41421356 < target && 2 * k <= n)
		k *= 2;
	o->levels = 3;
	o->k[0] = o->k[1] = o->k[2] = k;
}

static void progress(void *ctx, size_t level)
{
	const struct options *o = ctx;

	if (!o->cli.quiet && (o->cli.verbose || isatty(STDERR_FILENO)))
		os_cli_warn("training level %zu of %zu (%zu codes)", level + 1,
			    o->levels, o->k[level]);
}

/* Writes the records with their "sid" (texts "a,b,c,d"). */
static int write_records(struct os_output *out, const struct items *it,
			 char *const *sids, struct os_error *err)
{
	for (size_t i = 0; i < it->n; i++) {
		cJSON *sid = cJSON_CreateArray();

		for (const char *p = sids[i]; sid && *p;) {
			char *end;

			cJSON_AddItemToArray(sid, cJSON_CreateNumber(
							  (double)strtoul(p, &end, 10)));
			p = end + (*end == ',');
		}
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it->obj[i], "id");
		char buf[OS_RECORD_ID_MAX];

		/* ids travel as strings: an integer id is written back as one */
		if (cJSON_IsNumber(id) &&
		    os_json_set(it->obj[i], "id",
				cJSON_CreateString(os_record_id(id, "id", buf,
								sizeof buf, err))) < 0) {
			cJSON_Delete(sid);
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
			return -1;
		}
		if (os_json_set(it->obj[i], "sid", sid) < 0 ||
		    os_jsonl_write(out->f, it->obj[i]) < 0) {
			os_output_write_error(err, out->path);
			return -1;
		}
	}
	return 0;
}

static void free_sids(char **sids, size_t n)
{
	for (size_t i = 0; sids && i < n; i++)
		free(sids[i]);
	free(sids);
}

/* "a,b,c" of the first `levels` codes, then ",extra" when extra >= 0. */
static void sid_text(char *buf, size_t size, const uint32_t *codes,
		     size_t levels, long extra)
{
	size_t len = 0;

	for (size_t l = 0; l < levels; l++)
		len += (size_t)snprintf(buf + len, size - len, "%s%u", l ? "," : "",
					codes[l]);
	if (extra >= 0)
		snprintf(buf + len, size - len, ",%ld", extra);
}

/* The SID texts of n items from their codes and disambiguation codes. */
static char **sid_texts(const uint32_t *codes, const uint32_t *extra, size_t n,
			size_t levels)
{
	char **sids = calloc(n + 1, sizeof *sids), buf[256];

	for (size_t i = 0; sids && i < n; i++) {
		sid_text(buf, sizeof buf, codes + i * levels, levels, (long)extra[i]);
		if (!(sids[i] = strdup(buf))) {
			free_sids(sids, i);
			return NULL;
		}
	}
	return sids;
}

/* The fingerprint of the quantizer: its codebooks (level and code as
 * text, centroids as stored, little-endian), which a model trained on its
 * SIDs records and checks. New SIDs from --assign leave it as it is. */
struct fingerprint {
	uint64_t h;
};

static int fp_codebook(void *ctx, int level, long code, const void *c,
		       size_t bytes)
{
	struct fingerprint *f = ctx;
	char key[48];
	int n = snprintf(key, sizeof key, "%d:%ld:", level, code);

	f->h = os_hash_bytes(f->h, key, (size_t)n);
	f->h = os_hash_bytes(f->h, c, bytes);
	return 0;
}

static int store_fingerprint(struct os_catalog *cat, struct os_error *err)
{
	struct fingerprint f = {OS_FNV_OFFSET};
	char hex[17];

	if (os_catalog_codebooks_each(cat, fp_codebook, &f, err) != 0)
		return -1;
	snprintf(hex, sizeof hex, "%016llx",
		 (unsigned long long)os_hash_mix(f.h));
	return os_catalog_meta_set(cat, "sid_fingerprint", hex, err);
}

/* Replaces the catalog's codebooks and SIDs, in one transaction. */
static int store_training(const struct options *o, struct os_catalog *cat,
			  const struct os_rq *rq, const struct items *it,
			  char *const *sids, struct os_error *err)
{
	char buf[256], levels[128];
	size_t len = 0;
	float *row = malloc(rq->dim * sizeof *row);

	if (!row) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	if (os_catalog_begin(cat, err) < 0) {
		free(row);
		return -1;
	}
	if (os_catalog_codebooks_clear(cat, err) < 0 ||
	    os_catalog_sids_clear(cat, err) < 0)
		goto fail;
	for (size_t l = 0; l < rq->levels; l++)
		for (size_t c = 0; c < rq->k[l]; c++) {
			memcpy(row, rq->codebook[l] + c * rq->dim, rq->dim * sizeof *row);
			os_floats_le(row, rq->dim);
			if (os_catalog_codebook_add(cat, (int)l, (long)c, row,
						    rq->dim * sizeof *row, err) < 0)
				goto fail;
		}
	for (size_t i = 0; i < it->n; i++)
		if (os_catalog_sid_set(cat, it->seq[i], sids[i], err) < 0)
			goto fail;
	for (size_t l = 0; l < rq->levels; l++)
		len += (size_t)snprintf(levels + len, sizeof levels - len, "%s%zu",
					l ? "," : "", rq->k[l]);
	snprintf(buf, sizeof buf, "%zu", rq->dim);
	if (os_catalog_meta_set(cat, "sid_levels", levels, err) < 0 ||
	    os_catalog_meta_set(cat, "sid_dim", buf, err) < 0 ||
	    os_catalog_meta_set(cat, "sid_normalize", o->normalize ? "1" : "0",
				err) < 0 ||
	    store_fingerprint(cat, err) < 0 || os_catalog_commit(cat, err) < 0)
		goto fail;
	free(row);
	return 0;
fail:
	free(row);
	os_catalog_rollback(cat);
	return -1;
}

static void report(const struct options *o, const struct os_rq *rq,
		   const struct os_rq_report *rep, size_t n, double seconds)
{
	if (o->cli.quiet)
		return;
	for (size_t l = 0; l < rq->levels; l++)
		os_cli_warn("level %zu: %zu codes, %zu used, perplexity %.1f, "
			    "error %.6f",
			    l + 1, rq->k[l], rep->used[l], rep->perplexity[l],
			    rep->error[l]);
	os_cli_warn("%zu items: %.2f%% with a unique SID before "
		    "disambiguation (ICR), largest bucket %zu, trained in %.2f s",
		    n, 100 * rep->icr, rep->largest_bucket, seconds);
}

/* Appends the vectors of the --with-queries file after the items' rows
 * of *x; returns how many, or -1 with err. */
static long read_queries(const struct options *o, float **x, size_t *cap,
			 size_t items, size_t dim, struct os_error *err)
{
	char *paths[1] = {(char *)o->queries};
	struct os_jsonl_reader *r = os_jsonl_reader_new(paths, 1, (size_t)o->cli.max_line);
	size_t n = 0;
	cJSON *obj;
	int rc;

	if (!r) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	while ((rc = os_jsonl_reader_next(r, &obj, err)) > 0) {
		rc = os_record_embedding(obj, x, cap, items + n, &dim, err);
		cJSON_Delete(obj);
		if (rc < 0) {
			if (err->status == OS_EXIT_BAD_INPUT)
				os_error_locate(err, os_jsonl_reader_where(r),
						os_jsonl_reader_line(r));
			break;
		}
		n++;
	}
	os_jsonl_reader_free(r);
	return rc < 0 ? -1 : (long)n;
}

static int run_train(struct options *o, struct os_catalog *cat,
		     struct items *it, struct os_output *out, struct os_error *err)
{
	struct os_rq rq;
	struct os_rq_report rep;
	uint32_t *codes = NULL, *extra = NULL;
	char **sids = NULL;
	double start = os_cli_now();
	long queries = 0;
	int rc = -1;

	os_rq_init(&rq);
	if (it->n < 2) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "%zu item read: quantizing needs at least 2", it->n);
		return -1;
	}
	if (!o->levels)
		default_levels(o, it->n);
	for (size_t l = 0; l < o->levels; l++)
		if (o->k[l] > it->n) {
			os_error_set(err, OS_EXIT_USAGE,
				     "--levels asks for %zu codes at level %zu "
				     "but there are %zu items",
				     o->k[l], l + 1, it->n);
			return -1;
		}
	if (o->queries) {
		if ((queries = read_queries(o, &it->x, &it->x_cap, it->n, it->dim, err)) < 0)
			return -1;
		if (o->normalize)
			normalize_rows(it->x + it->n * it->dim, (size_t)queries, it->dim);
	}
	codes = malloc((it->n + (size_t)queries) * o->levels * sizeof *codes);
	extra = malloc(it->n * sizeof *extra);
	if (!codes || !extra ||
	    os_rq_train(&rq, it->x, it->n + (size_t)queries, it->n, it->dim, o->k,
			o->levels, o->balance, &o->km, codes, &rep, progress, o) < 0 ||
	    os_rq_disambiguate(codes, it->n, o->levels, extra) < 0 ||
	    !(sids = sid_texts(codes, extra, it->n, o->levels))) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		goto out;
	}
	if (queries && !o->cli.quiet)
		os_cli_warn("codebooks trained on %zu items and %ld queries", it->n,
			    queries);
	report(o, &rq, &rep, it->n, os_cli_now() - start);
	if (store_training(o, cat, &rq, it, sids, err) < 0 ||
	    write_records(out, it, sids, err) < 0)
		goto out;
	rc = 0;
out:
	free_sids(sids, it->n);
	free(codes);
	free(extra);
	os_rq_release(&rq);
	return rc;
}

/* Existing SIDs: item id -> SID, and codes prefix -> next free extra. */
struct existing {
	struct os_strmap items;    /* item id -> index into sid */
	char **sid;
	size_t sid_cap;
	struct os_strmap prefixes; /* "a,b,c" -> index into next */
	long *next;
	size_t next_cap;
};

/* The index of `prefix` (len bytes) with its next free extra code. */
static long prefix_slot(struct existing *ex, const char *prefix, size_t len)
{
	int added;
	long p = os_strmap_intern(&ex->prefixes, prefix, len, &added);
	long *next;

	if (p < 0 || !(next = os_grow(ex->next, &ex->next_cap, (size_t)p + 1,
				      sizeof *next, 1024)))
		return -1;
	ex->next = next;
	if (added)
		next[p] = 0;
	return p;
}

static int existing_sid(void *ctx, const char *item, const char *sid)
{
	struct existing *ex = ctx;
	const char *last = strrchr(sid, ',');
	long i = os_strmap_intern(&ex->items, item, strlen(item), NULL), p;
	char **v;

	if (i < 0 || !last ||
	    !(v = os_grow(ex->sid, &ex->sid_cap, (size_t)i + 1, sizeof *v, 1024)))
		return 1;
	ex->sid = v;
	if (!(v[i] = strdup(sid)) ||
	    (p = prefix_slot(ex, sid, (size_t)(last - sid))) < 0)
		return 1;
	if (atol(last + 1) + 1 > ex->next[p])
		ex->next[p] = atol(last + 1) + 1;
	return 0;
}

static void existing_release(struct existing *ex)
{
	for (size_t i = 0; i < ex->items.count; i++)
		free(ex->sid[i]);
	free(ex->sid);
	free(ex->next);
	os_strmap_release(&ex->items);
	os_strmap_release(&ex->prefixes);
}

/* --assign: items without a SID get the codes of the frozen codebooks and
 * the next free disambiguation code; the others keep theirs. */
static int run_assign(struct options *o, struct os_catalog *cat,
		      struct items *it, const struct os_rq *rq,
		      struct os_output *out, struct os_error *err)
{
	struct existing ex;
	uint32_t *codes = malloc((it->n * rq->levels + 1) * sizeof *codes);
	char **sids = calloc(it->n + 1, sizeof *sids), buf[256];
	size_t added = 0;
	int rc = -1;

	memset(&ex, 0, sizeof ex);
	os_strmap_init(&ex.items);
	os_strmap_init(&ex.prefixes);
	if (!codes || !sids || os_catalog_sids_each(cat, existing_sid, &ex, err) != 0 ||
	    os_rq_encode(rq, it->x, it->n, codes) < 0) {
		if (!err->status)
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		goto out;
	}
	if (os_catalog_begin(cat, err) < 0)
		goto out;
	for (size_t i = 0; i < it->n; i++) {
		char idbuf[OS_RECORD_ID_MAX];
		const char *id;
		long have, p;

		id = os_record_id(cJSON_GetObjectItemCaseSensitive(it->obj[i], "id"),
				  "id", idbuf, sizeof idbuf, err);
		have = os_strmap_find(&ex.items, id, strlen(id));
		if (have >= 0) { /* keeps its SID */
			if (!(sids[i] = strdup(ex.sid[have])))
				goto oom;
			continue;
		}
		sid_text(buf, sizeof buf, codes + i * rq->levels, rq->levels, -1);
		if ((p = prefix_slot(&ex, buf, strlen(buf))) < 0)
			goto oom;
		sid_text(buf, sizeof buf, codes + i * rq->levels, rq->levels,
			 ex.next[p]++);
		if (!(sids[i] = strdup(buf)) ||
		    existing_sid(&ex, id, buf) != 0)
			goto oom;
		if (os_catalog_sid_set(cat, it->seq[i], buf, err) < 0)
			goto rollback;
		added++;
	}
	if (os_catalog_commit(cat, err) < 0)
		goto rollback;
	rc = write_records(out, it, sids, err);
	if (rc == 0 && !o->cli.quiet)
		os_cli_warn("%zu items: %zu new SIDs, %zu kept", it->n, added,
			    it->n - added);
	goto out;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
rollback:
	os_catalog_rollback(cat);
out:
	existing_release(&ex);
	free_sids(sids, it->n);
	free(codes);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	struct source src;
	struct items it;
	struct os_output out;
	struct os_error err;
	int status, have_out = 0;

	os_blas_fit_cpu(argv);
	os_cli_init(argv[0]);
	os_error_clear(&err);
	status = parse_options(argc, argv, &o);
	if (status != 0) {
		return os_cli_options_exit(status);
	}
	os_parallel_set_threads(o.cli.threads);
	os_matmul_single_threaded();
	memset(&src, 0, sizeof src);
	src.o.catalog = o.catalog;
	src.o.assign = o.assign;
	os_strmap_init(&src.map.ids);
	os_rq_init(&src.rq);
	memset(&it, 0, sizeof it);
	if (read_items(&o, &src, &it, &err) < 0)
		goto done;
	if (o.assign && src.cat)
		o.normalize = src.normalize;
	if (o.normalize)
		normalize_rows(it.x, it.n, it.dim);
	if (os_output_open(&out, o.output, &err) < 0)
		goto done;
	have_out = 1;
	if (it.n == 0) {
		if (!o.cli.quiet)
			os_cli_warn("no items read: the catalog is unchanged");
	} else if (o.assign ? run_assign(&o, src.cat, &it, &src.rq, &out, &err) < 0
			    : run_train(&o, src.cat, &it, &out, &err) < 0) {
		goto done;
	}
	if (os_output_commit(&out, &err) == 0)
		have_out = 0;
done:
	if (have_out)
		os_output_abort(&out);
	status = err.status;
	if (err.status)
		os_cli_report(&err);
	if (status == OS_EXIT_USAGE)
		os_cli_try_help();
	items_release(&it);
	os_strmap_release(&src.map.ids);
	free(src.map.seq);
	free(src.map.line);
	os_rq_release(&src.rq);
	os_catalog_close(src.cat);
	if (os_cli_close_stdout(status == OS_EXIT_OK) < 0 && status == OS_EXIT_OK)
		status = OS_EXIT_FAILURE;
	return status;
}
