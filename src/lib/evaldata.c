/* SPDX-License-Identifier: MIT */
/* evaldata.c: judgments and runs for os-eval (see evaldata.h). */
#include "config.h"

#include "evaldata.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "grow.h"
#include "number.h"
#include "hash.h"
#include "jsonl.h"
#include "lines.h"
#include "record.h"

/* Up to `max` whitespace-separated fields of `line`; returns how many
 * there are in all. */
static size_t split_fields(const char *line, const char **start, size_t *len,
			   size_t max)
{
	size_t n = 0;

	for (const char *p = line; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n < max)
			start[n] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (n < max)
			len[n] = (size_t)(p - start[n]);
		n++;
	}
	return n;
}

uint64_t os_eval_hash(const char *id, size_t len)
{
	return os_hash_mix(os_hash_bytes(OS_FNV_OFFSET, id, len));
}

static long intern(struct os_strmap *m, const char *s, size_t len,
		   struct os_error *err)
{
	long id = os_strmap_intern(m, s, len, NULL);

	if (id < 0)
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return id;
}

/* --- judgments ---------------------------------------------------------- */

void os_qrels_init(struct os_qrels *q)
{
	memset(q, 0, sizeof *q);
	os_strmap_init(&q->items);
	os_strmap_init(&q->qids);
}

void os_qrels_release(struct os_qrels *q)
{
	for (size_t i = 0; i < q->qids.count; i++) {
		free(q->q[i].j);
		free(q->q[i].query);
		free(q->q[i].segment);
	}
	free(q->q);
	os_strmap_release(&q->qids);
	os_strmap_release(&q->items);
	memset(q, 0, sizeof *q);
}

/* The index of query `qid`, added (empty) when new. */
static long qrels_query(struct os_qrels *q, const char *qid, size_t len,
			struct os_error *err)
{
	int added;
	long i = os_strmap_intern(&q->qids, qid, len, &added);
	struct os_judged_query *v;

	if (i < 0 || !(v = os_grow(q->q, &q->cap, (size_t)i + 1, sizeof *v, 256))) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	q->q = v;
	if (added)
		memset(&v[i], 0, sizeof v[i]);
	return i;
}

/* Adds or updates the judgment of `item` (linear: records are small; the
 * list is sorted once loading ends). Returns 1 when it was new. */
static int judge(struct os_qrels *q, struct os_judged_query *jq,
		 uint32_t item, double grade, int relevant,
		 struct os_error *err)
{
	const char *id = os_strmap_key(&q->items, item);
	struct os_judgment *j;

	for (size_t i = 0; i < jq->n; i++)
		if (jq->j[i].item == item) {
			if (!isnan(grade))
				jq->j[i].grade = grade;
			if (relevant >= 0)
				jq->j[i].relevant = (unsigned char)relevant;
			return 0;
		}
	j = os_grow(jq->j, &jq->cap, jq->n + 1, sizeof *j, 8);
	if (!j) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	jq->j = j;
	j[jq->n++] = (struct os_judgment){os_eval_hash(id, strlen(id)), item,
					  isnan(grade) ? 1 : grade,
					  (unsigned char)(relevant > 0)};
	return 1;
}

static int qrels_jsonl(struct os_qrels *q, const cJSON *obj,
		       const struct os_qrels_opts *o, struct os_error *err)
{
	const cJSON *rel, *graded;
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(obj, "query");
	const cJSON *seg = cJSON_GetObjectItemCaseSensitive(obj, "segment");
	const cJSON *v;
	struct os_judged_query *jq;
	char qid[OS_RECORD_ID_MAX];
	long qi;

	if (!os_record_id(cJSON_GetObjectItemCaseSensitive(obj, "qid"), "qid",
			  qid, sizeof qid, err))
		return -1;
	if (os_record_judgments(obj, &rel, &graded, err) < 0)
		return -1;
	if ((text && !cJSON_IsString(text)) || (seg && !cJSON_IsString(seg))) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "fields 'query' and 'segment' must be strings");
		return -1;
	}
	if ((qi = qrels_query(q, qid, strlen(qid), err)) < 0)
		return -1;
	jq = &q->q[qi];
	if (text && !jq->query && !(jq->query = strdup(text->valuestring)))
		goto oom;
	if (seg && !jq->segment && !(jq->segment = strdup(seg->valuestring)))
		goto oom;
	cJSON_ArrayForEach(v, graded)
	{
		long item;

		if ((item = intern(&q->items, v->string, strlen(v->string), err)) < 0 ||
		    judge(q, jq, (uint32_t)item, v->valuedouble,
			  isnan(o->min_grade) ? (rel ? 0 : v->valuedouble >= 1)
					      : v->valuedouble >= o->min_grade,
			  err) < 0)
			return -1;
	}
	cJSON_ArrayForEach(v, rel)
	{
		char id[OS_RECORD_ID_MAX];
		long item;
		const struct os_judgment *old;

		if (!os_record_id(v, "relevant", id, sizeof id, err))
			return -1;
		if ((item = intern(&q->items, id, strlen(id), err)) < 0)
			return -1;
		old = NULL;
		for (size_t i = 0; i < jq->n; i++)
			if (jq->j[i].item == (uint32_t)item)
				old = &jq->j[i];
		/* without --min-grade the list decides; with it the grade,
		 * which is 1 for an item the list alone names */
		if (judge(q, jq, (uint32_t)item, NAN,
			  isnan(o->min_grade) ? 1
			  : old		      ? -1
					      : 1 >= o->min_grade,
			  err) < 0)
			return -1;
	}
	return 0;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return -1;
}

static int qrels_trec(struct os_qrels *q, const char *line,
		      const struct os_qrels_opts *o, struct os_error *err)
{
	const char *f[4];
	size_t len[4];
	double grade;
	long qi, item;
	int rc;

	if (split_fields(line, f, len, 4) != 4) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "expected 'qid 0 docid grade' (4 fields)");
		return -1;
	}
	if (os_parse_double(f[3], len[3], &grade) < 0) {
		os_error_set(err, OS_EXIT_BAD_INPUT, "grade '%.*s' is not a number",
			     (int)len[3], f[3]);
		return -1;
	}
	if (grade < 0)
		return 0; /* trec_eval: in the pool but not judged */
	/* qrels list a query's judgments together: skip the lookup then */
	if (q->last_qid && q->last_len == len[0] &&
	    memcmp(q->last_qid, f[0], len[0]) == 0) {
		qi = (long)q->last_index;
	} else {
		if ((qi = qrels_query(q, f[0], len[0], err)) < 0)
			return -1;
		q->last_qid = os_strmap_key(&q->qids, (size_t)qi);
		q->last_len = len[0];
		q->last_index = (size_t)qi;
	}
	if ((item = intern(&q->items, f[2], len[2], err)) < 0)
		return -1;
	rc = judge(q, &q->q[qi], (uint32_t)item, grade,
		   grade >= (isnan(o->min_grade) ? 1 : o->min_grade), err);
	if (rc == 0) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "document '%.*s' judged twice for query '%.*s'",
			     (int)len[2], f[2], (int)len[0], f[0]);
		return -1;
	}
	return rc < 0 ? -1 : 0;
}

static int by_hash(const void *a, const void *b)
{
	uint64_t x = ((const struct os_judgment *)a)->hash;
	uint64_t y = ((const struct os_judgment *)b)->hash;

	return (x > y) - (x < y);
}

int os_qrels_load(struct os_qrels *q, const char *path,
		  const struct os_qrels_opts *o, struct os_error *err)
{
	char *paths[1] = {(char *)path};
	struct os_line_reader *r = os_line_reader_new(paths, 1, o->max_line);
	const char *line;
	size_t len;
	int rc, jsonl = -1;

	if (!r) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	while ((rc = os_line_reader_next(r, &line, &len, err)) > 0) {
		if (jsonl < 0)
			jsonl = line[0] == '{';
		if (jsonl) {
			cJSON *obj = os_json_parse_object(line, len, err);

			rc = obj ? qrels_jsonl(q, obj, o, err) : -1;
			cJSON_Delete(obj);
		} else {
			rc = qrels_trec(q, line, o, err);
		}
		if (rc < 0)
			break;
	}
	if (rc < 0 && err->status == OS_EXIT_BAD_INPUT && !err->where[0])
		os_error_locate(err, os_line_reader_where(r),
				os_line_reader_line(r));
	os_line_reader_free(r);
	for (size_t i = 0; rc == 0 && i < q->qids.count; i++) {
		if (q->q[i].n > 1) /* qsort() takes no NULL, even for 0 items */
			qsort(q->q[i].j, q->q[i].n, sizeof *q->q[i].j, by_hash);
		q->without_judgments += q->q[i].n == 0;
	}
	return rc < 0 ? -1 : 0;
}

const struct os_judgment *os_qrels_find(const struct os_qrels *q, size_t qi,
					uint64_t hash, const char *id)
{
	const struct os_judged_query *jq = &q->q[qi];
	size_t lo = 0, hi = jq->n;

	while (lo < hi) { /* the first judgment with this hash */
		size_t mid = lo + (hi - lo) / 2;

		if (jq->j[mid].hash < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < jq->n && jq->j[lo].hash == hash; lo++)
		if (strcmp(os_strmap_key(&q->items, jq->j[lo].item), id) == 0)
			return &jq->j[lo];
	return NULL;
}

/* --- runs --------------------------------------------------------------- */

void os_run_init(struct os_run *run)
{
	memset(run, 0, sizeof *run);
	os_strmap_init(&run->qids);
	os_strmap_init(&run->sids);
}

void os_run_release(struct os_run *run)
{
	for (size_t i = 0; i < run->qids.count; i++) {
		free(run->q[i].r);
		free(run->q[i].query);
	}
	free(run->q);
	free(run->name);
	free(run->text);
	os_strmap_release(&run->qids);
	os_strmap_release(&run->sids);
	memset(run, 0, sizeof *run);
}

static struct os_run_query *run_query(struct os_run *run, const char *qid,
				      size_t len, struct os_error *err)
{
	int added;
	long i = os_strmap_intern(&run->qids, qid, len, &added);
	struct os_run_query *v;

	if (i < 0 || !(v = os_grow(run->q, &run->cap, (size_t)i + 1, sizeof *v, 256))) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return NULL;
	}
	run->q = v;
	if (added)
		memset(&v[i], 0, sizeof v[i]);
	return &v[i];
}

/* Appends a result for item `id` (len bytes) to query `rq`. */
static int add_result(struct os_run *run, struct os_run_query *rq,
		      const char *id, size_t len, struct os_result res,
		      struct os_error *err)
{
	struct os_result *r = os_grow(rq->r, &rq->cap, rq->n + 1, sizeof *r, 16);
	char *text;

	if (!r || run->text_len + len + 1 > UINT32_MAX ||
	    !(text = os_grow(run->text, &run->text_cap, run->text_len + len + 1,
			     1, 1 << 16))) {
		if (r)
			rq->r = r;
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	rq->r = r;
	run->text = text;
	memcpy(text + run->text_len, id, len);
	text[run->text_len + len] = '\0';
	res.hash = os_eval_hash(id, len);
	res.text = (uint32_t)run->text_len;
	res.order = (uint32_t)rq->n;
	run->text_len += len + 1;
	r[rq->n++] = res;
	run->results++;
	return 0;
}

static int run_trec(struct os_run *run, const char *line, struct os_error *err)
{
	const char *f[6];
	size_t len[6];
	struct os_run_query *rq;
	struct os_result res = {0};
	long rank;

	if (split_fields(line, f, len, 6) != 6) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "expected 'qid Q0 docid rank score tag' (6 fields)");
		return -1;
	}
	if (os_parse_long(f[3], len[3], &rank) < 0 || rank < INT32_MIN ||
	    rank > INT32_MAX) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "rank '%.*s' is not an integer of 32 bits",
			     (int)len[3], f[3]);
		return -1;
	}
	if (os_parse_double(f[4], len[4], &res.score) < 0) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "score '%.*s' is not a finite number", (int)len[4], f[4]);
		return -1;
	}
	res.rank = (int32_t)rank;
	/* a run lists a query's results together: skip the lookup then */
	if (run->last_qid && run->last_len == len[0] &&
	    memcmp(run->last_qid, f[0], len[0]) == 0) {
		rq = &run->q[run->last_index];
	} else {
		if (!(rq = run_query(run, f[0], len[0], err)))
			return -1;
		run->last_index = (size_t)(rq - run->q);
		run->last_qid = os_strmap_key(&run->qids, run->last_index);
		run->last_len = len[0];
	}
	return add_result(run, rq, f[2], len[2], res, err);
}

/* Interns "sid": [a, b, c] as "a,b,c"; returns 1 + its index, or 0 with
 * err. */
static uint32_t sid_of(struct os_run *run, const cJSON *sid,
		       struct os_error *err)
{
	char text[512];
	const cJSON *c;
	size_t len = 0;
	long i;

	cJSON_ArrayForEach(c, sid)
	{
		if (!cJSON_IsNumber(c) || c->valuedouble != floor(c->valuedouble) ||
		    c->valuedouble < 0 || c->valuedouble > 2147483647.0 ||
		    len + 12 > sizeof text) {
			os_error_set(err, OS_EXIT_BAD_INPUT,
				     "a 'sid' must be an array of codes >= 0");
			return 0;
		}
		len += (size_t)sprintf(text + len, "%s%.0f", len ? "," : "",
				       c->valuedouble);
	}
	if (len == 0) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "a 'sid' must be an array of codes >= 0");
		return 0;
	}
	if ((i = intern(&run->sids, text, len, err)) < 0)
		return 0;
	return (uint32_t)i + 1;
}

static int run_jsonl(struct os_run *run, const cJSON *obj,
		     struct os_error *err)
{
	const cJSON *results = cJSON_GetObjectItemCaseSensitive(obj, "results");
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(obj, "query");
	const cJSON *v;
	struct os_run_query *rq;
	char qid[OS_RECORD_ID_MAX];
	long position;

	if (!os_record_id(cJSON_GetObjectItemCaseSensitive(obj, "qid"), "qid",
			  qid, sizeof qid, err))
		return -1;
	if (!cJSON_IsArray(results)) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "field 'results' must be an array");
		return -1;
	}
	if (!(rq = run_query(run, qid, strlen(qid), err)))
		return -1;
	position = (long)rq->n; /* a qid on several lines goes on counting */
	if (cJSON_IsString(text) && !rq->query &&
	    !(rq->query = strdup(text->valuestring))) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	cJSON_ArrayForEach(v, results)
	{
		const cJSON *score = cJSON_GetObjectItemCaseSensitive(v, "score");
		const cJSON *rank = cJSON_GetObjectItemCaseSensitive(v, "rank");
		const cJSON *sid = cJSON_GetObjectItemCaseSensitive(v, "sid");
		struct os_result res = {0};
		char id[OS_RECORD_ID_MAX];

		position++;
		if (!cJSON_IsObject(v)) {
			os_error_set(err, OS_EXIT_BAD_INPUT,
				     "each result must be an object");
			return -1;
		}
		if (!os_record_id(cJSON_GetObjectItemCaseSensitive(v, "id"), "id",
				  id, sizeof id, err))
			return -1;
		if ((score && (!cJSON_IsNumber(score) || !isfinite(score->valuedouble))) ||
		    (rank && !cJSON_IsNumber(rank)) || (sid && !cJSON_IsArray(sid))) {
			os_error_set(err, OS_EXIT_BAD_INPUT,
				     "result '%s': 'score' and 'rank' must be "
				     "numbers, 'sid' an array",
				     id);
			return -1;
		}
		if (rank && fabs(rank->valuedouble) > INT32_MAX) {
			os_error_set(err, OS_EXIT_BAD_INPUT,
				     "result '%s': rank out of range", id);
			return -1;
		}
		/* without a score, the list's own order is the ranking */
		res.score = score ? score->valuedouble : -(double)position;
		res.rank = (int32_t)(rank ? rank->valuedouble : (double)position);
		if (sid && !(res.sid = sid_of(run, sid, err)))
			return -1;
		if (add_result(run, rq, id, strlen(id), res, err) < 0)
			return -1;
	}
	return 0;
}

int os_run_load(struct os_run *run, const char *path, size_t max_line,
		struct os_error *err)
{
	char *paths[1] = {(char *)path};
	struct os_line_reader *r = os_line_reader_new(paths, 1, max_line);
	const char *line;
	size_t len;
	int rc, jsonl = -1;

	if (!r || !(run->name = strdup(path))) {
		os_line_reader_free(r);
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	while ((rc = os_line_reader_next(r, &line, &len, err)) > 0) {
		if (jsonl < 0)
			jsonl = line[0] == '{';
		if (jsonl) {
			cJSON *obj = os_json_parse_object(line, len, err);

			rc = obj ? run_jsonl(run, obj, err) : -1;
			cJSON_Delete(obj);
		} else {
			rc = run_trec(run, line, err);
		}
		if (rc < 0)
			break;
	}
	if (rc < 0 && err->status == OS_EXIT_BAD_INPUT && !err->where[0])
		os_error_locate(err, os_line_reader_where(r),
				os_line_reader_line(r));
	os_line_reader_free(r);
	run->last_qid = NULL;
	return rc < 0 ? -1 : 0;
}

static int by_score(const void *a, const void *b, void *run)
{
	const struct os_result *x = a, *y = b;
	const char *text = ((const struct os_run *)run)->text;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	/* trec_eval: equal scores by docno, descending */
	return strcmp(text + y->text, text + x->text);
}

static int by_rank(const void *a, const void *b, void *unused)
{
	const struct os_result *x = a, *y = b;

	(void)unused;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

static int by_place(const void *a, const void *b)
{
	const struct os_result *x = a, *y = b;

	return (x->order > y->order) - (x->order < y->order);
}

static int by_id_then_place(const void *a, const void *b, void *run)
{
	const struct os_result *x = a, *y = b;
	const char *text = ((const struct os_run *)run)->text;
	int c;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if ((c = strcmp(text + x->text, text + y->text)) != 0)
		return c;
	return (x->order > y->order) - (x->order < y->order);
}

/* Whether two results share a hash (an open-addressing set of the
 * hashes); most lists have no repeats and stop here. */
static int may_repeat(const struct os_run_query *rq)
{
	uint64_t small[512], *set;
	size_t cap = 16, mask;
	int same = 0;

	while (cap < 2 * rq->n)
		cap *= 2;
	set = cap <= 512 ? small : malloc(cap * sizeof *set);
	if (!set)
		return 1; /* the exact path decides */
	memset(set, 0, cap * sizeof *set);
	mask = cap - 1;
	for (size_t i = 0; i < rq->n && !same; i++) {
		uint64_t h = rq->r[i].hash | 1; /* 0 marks an empty slot */
		size_t k = (size_t)(h >> 7) & mask;

		while (set[k] && set[k] != h)
			k = (k + 1) & mask;
		same = set[k] == h;
		set[k] = h;
	}
	if (set != small)
		free(set);
	return same;
}

/* Drops the results whose item stands higher already. Returns -1 when
 * out of memory. */
static int drop_repeats(const struct os_run *run, struct os_run_query *rq,
			size_t depth)
{
	size_t n = rq->n, kept = 0;
	unsigned char *drop;

	rq->raw = n;
	if (n < 2 || !may_repeat(rq))
		return 0;
	if (!(drop = calloc(n, 1)))
		return -1;
	for (size_t i = 0; i < n; i++)
		rq->r[i].order = (uint32_t)i; /* its place in the ranking */
	qsort_r(rq->r, n, sizeof *rq->r, by_id_then_place, (void *)run);
	for (size_t i = 1; i < n; i++)
		if (rq->r[i].hash == rq->r[i - 1].hash &&
		    strcmp(os_result_id(run, &rq->r[i]),
			   os_result_id(run, &rq->r[i - 1])) == 0)
			drop[rq->r[i].order] = 1;
	qsort(rq->r, n, sizeof *rq->r, by_place);
	for (size_t i = 0; i < n; i++) {
		if (drop[i]) {
			rq->duplicates++;
			rq->duplicates_top += i < depth;
			continue;
		}
		rq->r[kept++] = rq->r[i];
	}
	rq->n = kept;
	free(drop);
	return 0;
}

int os_run_order(struct os_run *run, int by_rank_field, size_t depth)
{
	int failed = 0;

#pragma omp parallel for schedule(dynamic, 256) reduction(| : failed)
	for (size_t i = 0; i < run->qids.count; i++) {
		struct os_run_query *rq = &run->q[i];

		int (*cmp)(const void *, const void *, void *) =
			by_rank_field ? by_rank : by_score;
		size_t k = 1;

		/* runs usually come ranked already: check before sorting */
		while (k < rq->n && cmp(&rq->r[k - 1], &rq->r[k], run) <= 0)
			k++;
		if (k < rq->n)
			qsort_r(rq->r, rq->n, sizeof *rq->r, cmp, run);
		if (drop_repeats(run, rq, depth) < 0)
			failed = 1;
	}
	return failed ? -1 : 0;
}
