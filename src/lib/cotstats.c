/* SPDX-License-Identifier: MIT */
/* cotstats.c: building the statistics of the "stats" CoT backend (see
 * cotstats.h): the items' keywords and the keywords that the training
 * queries' words lead to. */
#include "config.h"

#include "cotstats.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "grow.h"
#include "hash.h"
#include "jsonl.h"
#include "keyword_io.h"
#include "normalize.h"
#include "number.h"
#include "record.h"

void os_cot_stats_defaults(struct os_cot_stats_options *o)
{
	memset(o, 0, sizeof *o);
	o->min_grade = NAN;
	o->min_support = 2;
	o->smoothing = 1.0;
	o->min_score = 0.5;
	o->min_attribute = 0.7;
	o->min_lift = 2.0;
	o->min_personal = 0.3;
	o->history = 20;
	o->max_category = 2;
	o->max_substitutes = 3;
	o->max_keywords = 8;
	o->leave_one_out = 1;
	o->max_line = (size_t)64 << 20;
}

static int no_memory(struct os_error *err)
{
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return -1;
}

/* (row, keyword, weight) triples, gathered before they become a table. */
struct triples {
	struct triple {
		uint32_t row, keyword;
		float weight;
	} *v;
	size_t n, cap;
};

static int triples_add(struct triples *t, size_t row, uint32_t keyword,
		       float weight)
{
	struct triple *v = os_grow(t->v, &t->cap, t->n + 1, sizeof *v, 1024);

	if (!v)
		return -1;
	t->v = v;
	v[t->n++] = (struct triple){(uint32_t)row, keyword, weight};
	return 0;
}

static int triple_order(const void *a, const void *b)
{
	const struct triple *x = a, *y = b;

	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	return (x->keyword > y->keyword) - (x->keyword < y->keyword);
}

/* Sorts the triples and sums equal (row, keyword) ones into a table of
 * `rows` rows. Frees the triples. */
static int table_build(struct triples *t, size_t rows, struct os_cot_table *out)
{
	size_t n = 0;

	out->rows = rows;
	out->start = calloc(rows + 1, sizeof *out->start);
	out->cells = malloc((t->n ? t->n : 1) * sizeof *out->cells);
	if (!out->start || !out->cells) {
		free(t->v);
		return -1;
	}
	if (t->n)
		qsort(t->v, t->n, sizeof *t->v, triple_order);
	for (size_t i = 0; i < t->n; i++) {
		if (n && t->v[i - 1].row == t->v[i].row &&
		    t->v[i - 1].keyword == t->v[i].keyword) {
			out->cells[n - 1].weight += t->v[i].weight;
			continue;
		}
		out->cells[n++] = (struct os_cot_cell){t->v[i].keyword,
						       t->v[i].weight};
		out->start[t->v[i].row + 1]++;
	}
	for (size_t r = 0; r < rows; r++)
		out->start[r + 1] += out->start[r];
	free(t->v);
	memset(t, 0, sizeof *t);
	return 0;
}

static void table_release(struct os_cot_table *t)
{
	free(t->start);
	free(t->cells);
}

/* The items as read from the catalog, before their titles are analyzed. */
struct item_rows {
	struct os_cot_stats *s;
	char **titles;
	size_t cap, price_cap; /* of titles and of s->price */
	struct os_error *err;
};

/* An item's price: attrs.price as a number or a numeric string. */
static float item_price(const char *attrs)
{
	cJSON *obj = attrs ? cJSON_Parse(attrs) : NULL;
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(obj, "price");
	double v = NAN;

	if (cJSON_IsNumber(p))
		v = p->valuedouble;
	else if (cJSON_IsString(p) &&
		 os_parse_double(p->valuestring + (p->valuestring[0] == '$'),
				 strlen(p->valuestring) - (p->valuestring[0] == '$'),
				 &v) < 0)
		v = NAN;
	cJSON_Delete(obj);
	return isfinite(v) && v >= 0 ? (float)v : NAN;
}

static int item_row(void *ctx, const struct os_item *item)
{
	struct item_rows *ir = ctx;
	struct os_cot_stats *s = ir->s;
	size_t n = s->items.count;
	long id = os_strmap_intern(&s->items, item->id, strlen(item->id), NULL);
	char **titles = os_grow(ir->titles, &ir->cap, n + 1, sizeof *titles, 1024);
	float *price;

	if (id < 0 || !titles)
		return no_memory(ir->err);
	ir->titles = titles;
	price = os_grow(s->price, &ir->price_cap, n + 1, sizeof *price, 1024);
	if (!price)
		return no_memory(ir->err);
	s->price = price;
	titles[n] = strdup(item->title);
	if (!titles[n])
		return no_memory(ir->err);
	price[n] = item_price(item->attrs);
	return 0;
}

/* The distinct dictionary keywords of each title, as a table. */
static int item_keywords(struct os_cot_stats *s, char **titles,
			 struct os_error *err)
{
	size_t n = s->items.count;
	uint32_t **kw = calloc(n ? n : 1, sizeof *kw);
	uint32_t *count = calloc(n ? n : 1, sizeof *count);
	struct triples t = {0};
	int failed = 0;

	if (!kw || !count) {
		free(kw);
		free(count);
		return no_memory(err);
	}
#pragma omp parallel reduction(| : failed)
	{
		struct os_tokens tok;
		struct os_keyword_hit hits[256];
		struct os_error e;

		os_tokens_init(&tok);
#pragma omp for schedule(dynamic, 256)
		for (size_t i = 0; i < n; i++) {
			long found;

			if (os_analyze(&tok, titles[i], s->norm_flags, &e) < 0 ||
			    (found = os_dict_find(&s->dict, &tok, hits, 256)) < 0 ||
			    !(kw[i] = malloc(256 * sizeof **kw))) {
				failed = 1;
				continue;
			}
			for (long h = 0; h < found && h < 256; h++) {
				uint32_t k = (uint32_t)hits[h].keyword;
				int seen = 0;

				if (hits[h].keyword < 0)
					continue;
				for (uint32_t j = 0; j < count[i]; j++)
					seen |= kw[i][j] == k;
				if (!seen)
					kw[i][count[i]++] = k;
			}
		}
		os_tokens_release(&tok);
	}
	for (size_t i = 0; i < n && !failed; i++)
		for (uint32_t j = 0; j < count[i] && !failed; j++)
			failed = triples_add(&t, i, kw[i][j], 1.0f) < 0;
	for (size_t i = 0; i < n; i++)
		free(kw[i]);
	free(kw);
	free(count);
	if (failed) {
		free(t.v);
		return no_memory(err);
	}
	return table_build(&t, n, &s->item_keywords) < 0 ? no_memory(err) : 0;
}

static int float_order(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* p(k) and the price terciles. */
static int item_shares(struct os_cot_stats *s, struct os_error *err)
{
	size_t n = s->items.count, known = 0;
	float *sorted = malloc((n ? n : 1) * sizeof *sorted);

	s->prior = calloc(s->dict.n ? s->dict.n : 1, sizeof *s->prior);
	if (!sorted || !s->prior) {
		free(sorted);
		return no_memory(err);
	}
	for (size_t c = 0; c < s->item_keywords.start[n]; c++)
		s->prior[s->item_keywords.cells[c].keyword] += 1.0f;
	for (size_t k = 0; k < s->dict.n; k++)
		s->prior[k] = (s->prior[k] + 1.0f) / (float)(n + 1);
	for (size_t i = 0; i < n; i++)
		if (!isnan(s->price[i]))
			sorted[known++] = s->price[i];
	qsort(sorted, known, sizeof *sorted, float_order);
	s->price_low = known ? sorted[known / 3] : NAN;
	s->price_high = known ? sorted[2 * known / 3] : NAN;
	free(sorted);
	return 0;
}

static int load_items(struct os_cot_stats *s, struct os_catalog *c,
		      struct os_error *err)
{
	struct item_rows ir = {s, NULL, 0, 0, err};
	int rc = os_catalog_items_each(c, item_row, &ir, err);

	if (rc == 0)
		rc = item_keywords(s, ir.titles, err);
	for (size_t i = 0; i < s->items.count && ir.titles; i++)
		free(ir.titles[i]);
	free(ir.titles);
	if (rc == 0)
		rc = item_shares(s, err);
	return rc ? -1 : 0;
}

/* One training record's relevant items, as item indices. */
struct relevant {
	const struct os_cot_stats *s;
	uint32_t *items;
	size_t n, cap;
};

static int relevant_item(void *ctx, const char *id)
{
	struct relevant *r = ctx;
	long i = os_strmap_find(&r->s->items, id, strlen(id));
	uint32_t *v;

	if (i < 0)
		return 0;
	v = os_grow(r->items, &r->cap, r->n + 1, sizeof *v, 16);
	if (!v)
		return -1;
	r->items = v;
	v[r->n++] = (uint32_t)i;
	return 0;
}

/* What one training record adds: share(q,k) for its keywords, to each of
 * its features and to its query text. */
struct pair_counts {
	struct triples features, queries;
	size_t features_cap, queries_cap; /* of s->feature_queries, query_count */
	float *share;       /* by keyword, zero between records */
	uint32_t *touched;  /* keywords with a share */
	size_t ntouched;
	struct os_tokens tok;
	char *text;         /* the query's tokens joined */
	size_t text_cap;
};

long os_cot_feature_ids(const struct os_strmap *find, struct os_strmap *add,
			const struct os_tokens *t, const uint8_t *skip,
			long *ids, size_t cap)
{
	long n = 0;
	char text[512];

	for (size_t i = 0; i < t->n; i++) {
		for (size_t width = 1; width <= 2 && i + width <= t->n; width++) {
			size_t len;
			long id;
			int seen = 0;

			if (skip && (skip[i] || skip[i + width - 1]))
				continue;
			len = os_tokens_join(t, i, i + width, text, sizeof text);
			id = add ? os_strmap_intern(add, text, len, NULL)
				 : os_strmap_find(find, text, len);
			if (add && id < 0)
				return -1;
			for (long j = 0; j < n; j++)
				seen |= ids[j] == id;
			if (id >= 0 && !seen && (size_t)n < cap)
				ids[n++] = id;
		}
	}
	return n;
}

/* Grows a count array to `count` entries, the new ones zero. */
static uint32_t *grow_counts(uint32_t *v, size_t *cap, size_t count)
{
	size_t old = *cap;
	uint32_t *p = os_grow(v, cap, count, sizeof *v, 1024);

	if (p && *cap > old)
		memset(p + old, 0, (*cap - old) * sizeof *p);
	return p;
}

/* The query text that identifies a training query: its tokens joined. */
static const char *joined(struct pair_counts *pc, size_t *len)
{
	if (pc->text_cap < pc->tok.text_len + 1) {
		char *t = realloc(pc->text, pc->tok.text_len + 1);

		if (!t)
			return NULL;
		pc->text = t;
		pc->text_cap = pc->tok.text_len + 1;
	}
	*len = os_tokens_join(&pc->tok, 0, pc->tok.n, pc->text, pc->text_cap);
	return pc->text;
}

static int count_record(struct os_cot_stats *s, struct pair_counts *pc,
			const cJSON *obj, struct os_error *err)
{
	const char *q = os_record_query(obj, err), *text;
	struct relevant rel = {s, NULL, 0, 0};
	const struct os_cot_table *ik = &s->item_keywords;
	long ids[256], nids, qid;
	uint32_t *fq, *qc;
	size_t len;
	int rc = -1;

	if (!q || os_record_relevant(obj, s->opt.min_grade, relevant_item, &rel,
				     err) != 0) {
		if (q && !err->status)
			no_memory(err);
		goto out;
	}
	rc = 0;
	if (rel.n == 0) {
		s->train_skipped++;
		goto out;
	}
	rc = -1;
	if (os_analyze(&pc->tok, q, s->norm_flags, err) < 0)
		goto out;
	if (!(text = joined(pc, &len)) ||
	    (qid = os_strmap_intern(&s->queries, text, len, NULL)) < 0 ||
	    (nids = os_cot_feature_ids(NULL, &s->features, &pc->tok, NULL,
				       ids, 256)) < 0 ||
	    !(fq = grow_counts(s->feature_queries, &pc->features_cap,
			       s->features.count)))
		goto nomem;
	s->feature_queries = fq;
	if (!(qc = grow_counts(s->query_count, &pc->queries_cap,
			       s->queries.count)))
		goto nomem;
	s->query_count = qc;
	for (long f = 0; f < nids; f++)
		fq[ids[f]]++;
	qc[qid]++;
	s->train_records++;
	for (size_t i = 0; i < rel.n; i++)
		for (uint32_t c = ik->start[rel.items[i]];
		     c < ik->start[rel.items[i] + 1]; c++) {
			uint32_t k = ik->cells[c].keyword;

			if (pc->share[k] == 0.0f)
				pc->touched[pc->ntouched++] = k;
			pc->share[k] += 1.0f / (float)rel.n;
		}
	for (size_t j = 0; j < pc->ntouched; j++) {
		uint32_t k = pc->touched[j];

		for (long f = 0; f < nids; f++)
			if (triples_add(&pc->features, (size_t)ids[f], k,
					pc->share[k]) < 0)
				goto nomem;
		if (triples_add(&pc->queries, (size_t)qid, k, pc->share[k]) < 0)
			goto nomem;
	}
	rc = 0;
	goto out;
nomem:
	no_memory(err);
out:
	for (size_t j = 0; j < pc->ntouched; j++)
		pc->share[pc->touched[j]] = 0.0f;
	pc->ntouched = 0;
	free(rel.items);
	return rc;
}

static int count_pairs(struct os_cot_stats *s, char *const *paths, size_t n,
		       struct os_error *err)
{
	struct os_jsonl_reader *rd = os_jsonl_reader_new(paths, n,
							 s->opt.max_line);
	struct pair_counts pc = {0};
	cJSON *obj;
	int rc = 0;

	os_tokens_init(&pc.tok);
	pc.share = calloc(s->dict.n ? s->dict.n : 1, sizeof *pc.share);
	pc.touched = malloc((s->dict.n ? s->dict.n : 1) * sizeof *pc.touched);
	if (!rd || !pc.share || !pc.touched)
		rc = no_memory(err);
	while (rc == 0 && (rc = os_jsonl_reader_next(rd, &obj, err)) > 0) {
		rc = count_record(s, &pc, obj, err);
		if (rc < 0 && err->status == OS_EXIT_BAD_INPUT)
			os_error_locate(err, os_jsonl_reader_where(rd),
					os_jsonl_reader_line(rd));
		cJSON_Delete(obj);
	}
	if (rc == 0) { /* a table for every feature, even with no pairs */
		uint32_t *fq = grow_counts(s->feature_queries, &pc.features_cap,
					   s->features.count + 1);
		uint32_t *qc;

		if (fq)
			s->feature_queries = fq;
		qc = grow_counts(s->query_count, &pc.queries_cap,
				 s->queries.count + 1);
		if (qc)
			s->query_count = qc;
		if (!fq || !qc)
			rc = no_memory(err);
	}
	if (rc == 0 &&
	    (table_build(&pc.features, s->features.count, &s->feature_keywords) < 0 ||
	     table_build(&pc.queries, s->queries.count, &s->query_keywords) < 0))
		rc = no_memory(err);
	free(pc.features.v);
	free(pc.queries.v);
	free(pc.share);
	free(pc.touched);
	free(pc.text);
	os_tokens_release(&pc.tok);
	os_jsonl_reader_free(rd);
	return rc < 0 ? -1 : 0;
}

int os_cot_stats_build(struct os_cot_stats *s, struct os_catalog *c,
		       char *const *paths, size_t n,
		       const struct os_cot_stats_options *o,
		       struct os_error *err)
{
	char *norm = os_catalog_meta_get(c, "normalization", err);

	memset(s, 0, sizeof *s);
	s->opt = *o;
	os_strmap_init(&s->items);
	os_strmap_init(&s->features);
	os_strmap_init(&s->queries);
	if (!norm && err->status)
		return -1;
	s->norm_flags = os_norm_flags_of(norm);
	free(norm);
	os_dict_init(&s->dict, s->norm_flags);
	if (os_dict_load_catalog(&s->dict, c, err) < 0)
		return -1;
	if (os_dict_build(&s->dict) < 0)
		return no_memory(err);
	s->category_type = os_strmap_find(&s->dict.types, "category", 8) >= 0
				   ? "category"
				   : "product";
	if (load_items(s, c, err) < 0 || count_pairs(s, paths, n, err) < 0)
		return -1;
	return 0;
}

void os_cot_stats_release(struct os_cot_stats *s)
{
	os_dict_release(&s->dict);
	os_strmap_release(&s->items);
	os_strmap_release(&s->features);
	os_strmap_release(&s->queries);
	table_release(&s->item_keywords);
	table_release(&s->feature_keywords);
	table_release(&s->query_keywords);
	free(s->prior);
	free(s->price);
	free(s->feature_queries);
	free(s->query_count);
}

/* Hashing the catalog's keywords. */
static int hash_keyword(void *ctx, long id, const char *type, const char *text,
			const char *source, long count)
{
	uint64_t *h = ctx;

	(void)id;
	(void)source;
	(void)count;
	*h = os_hash_bytes(*h, type, strlen(type) + 1);
	*h = os_hash_bytes(*h, text, strlen(text) + 1);
	return 0;
}

static int hash_file(uint64_t *h, const char *path, struct os_error *err)
{
	FILE *f = strcmp(path, "-") == 0 ? NULL : fopen(path, "rb");
	char buf[1 << 16];
	size_t got;

	if (!f) {
		os_error_set(err, OS_EXIT_FAILURE, "%s: %s", path,
			     strcmp(path, "-") == 0
				     ? "training pairs must be a file"
				     : strerror(errno));
		return -1;
	}
	while ((got = fread(buf, 1, sizeof buf, f)) > 0)
		*h = os_hash_bytes(*h, buf, got);
	if (ferror(f)) {
		os_error_set(err, OS_EXIT_FAILURE, "%s: %s", path,
			     strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	*h = os_hash_bytes(*h, "\x1e", 1);
	return 0;
}

int os_cot_stats_fingerprint(struct os_catalog *c, char *const *paths,
			     size_t n, const struct os_cot_stats_options *o,
			     char out[17], struct os_error *err)
{
	uint64_t h = OS_FNV_OFFSET;
	char items[17], opts[512];
	int len;

	if (os_catalog_items_fingerprint(c, items, err) < 0 ||
	    os_catalog_keywords_each(c, NULL, hash_keyword, &h, err) != 0)
		return -1;
	h = os_hash_bytes(h, items, 16);
	for (size_t i = 0; i < n; i++)
		if (hash_file(&h, paths[i], err) < 0)
			return -1;
	len = snprintf(opts, sizeof opts,
		       "stats-1 %.17g %ld %.17g %.17g %.17g %.17g %.17g %ld %d "
		       "%d %d %d",
		       o->min_grade, o->min_support, o->smoothing, o->min_score,
		       o->min_attribute, o->min_lift, o->min_personal,
		       o->history, o->max_category, o->max_substitutes,
		       o->max_keywords, o->leave_one_out);
	h = os_hash_bytes(h, opts, (size_t)len);
	snprintf(out, 17, "%016llx", (unsigned long long)os_hash_mix(h));
	return 0;
}
