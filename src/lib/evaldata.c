/* SPDX-License-Identifier: MIT */
/* evaldata.c: judgments for os-eval, and the item hash judgments and runs
 * share (see evaldata.h). */
#include "config.h"

#include "evaldata.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "grow.h"
#include "hash.h"
#include "jsonl.h"
#include "lines.h"
#include "number.h"
#include "record.h"

/* Eight bytes at a time, each word mixed in: far fewer steps than FNV's
 * byte by byte for the ids of ten million run lines. The value lives in
 * memory only. */
uint32_t os_eval_hash(const char *id, size_t len)
{
	uint64_t h = OS_FNV_OFFSET ^ len, w;

	for (; len >= 8; id += 8, len -= 8) {
		memcpy(&w, id, 8);
		h = os_hash_mix(h ^ w);
	}
	w = 0;
	for (size_t i = 0; i < len; i++) /* no memcpy() call for the tail */
		w |= (uint64_t)(unsigned char)id[i] << (8 * i);
	return (uint32_t)(os_hash_mix(h ^ w) >> 32);
}

/* --- judgments ---------------------------------------------------------- */

void os_qrels_init(struct os_qrels *q)
{
	memset(q, 0, sizeof *q);
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
	free(q->text);
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

/* The judgment of item `id` (len bytes) in jq, or NULL. */
static struct os_judgment *judgment_of(const struct os_qrels *q,
				       const struct os_judged_query *jq,
				       const char *id, size_t len,
				       uint32_t hash)
{
	for (size_t i = 0; i < jq->n; i++)
		if (jq->j[i].hash == hash &&
		    strncmp(q->text + jq->j[i].text, id, len) == 0 &&
		    q->text[jq->j[i].text + len] == '\0')
			return &jq->j[i];
	return NULL;
}

/* Adds or updates the judgment of item `id` (len bytes; linear: records
 * are small, and the list is sorted once loading ends). A NAN grade
 * leaves the grade as it is (1 for a new judgment), a negative
 * `relevant` the relevance. Returns 1 when the judgment was new. */
static int judge(struct os_qrels *q, struct os_judged_query *jq,
		 const char *id, size_t len, double grade, int relevant,
		 struct os_error *err)
{
	uint32_t hash = os_eval_hash(id, len);
	struct os_judgment *j = judgment_of(q, jq, id, len, hash);
	char *text;

	if (j) {
		if (!isnan(grade))
			j->grade = grade;
		if (relevant >= 0)
			j->relevant = (unsigned char)relevant;
		return 0;
	}
	if (q->text_len + len + 1 > UINT32_MAX) {
		os_error_set(err, OS_EXIT_FAILURE,
			     "the judged item ids pass 4 GiB");
		return -1;
	}
	if (!(j = os_grow(jq->j, &jq->cap, jq->n + 1, sizeof *j, 8)))
		goto oom;
	jq->j = j;
	if (!(text = os_grow(q->text, &q->text_cap, q->text_len + len + 1, 1,
			     1 << 16)))
		goto oom;
	q->text = text;
	memcpy(text + q->text_len, id, len);
	text[q->text_len + len] = '\0';
	j[jq->n++] = (struct os_judgment){hash, (uint32_t)q->text_len,
					  isnan(grade) ? 1 : grade,
					  (unsigned char)(relevant > 0)};
	q->text_len += len + 1;
	return 1;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return -1;
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
		if (judge(q, jq, v->string, strlen(v->string), v->valuedouble,
			  isnan(o->min_grade) ? (rel ? 0 : v->valuedouble >= 1)
					      : v->valuedouble >= o->min_grade,
			  err) < 0)
			return -1;
	}
	cJSON_ArrayForEach(v, rel)
	{
		char id[OS_RECORD_ID_MAX];
		size_t len;
		const struct os_judgment *old;

		if (!os_record_id(v, "relevant", id, sizeof id, err))
			return -1;
		len = strlen(id);
		old = judgment_of(q, jq, id, len, os_eval_hash(id, len));
		/* without --min-grade the list decides; with it the grade,
		 * which is 1 for an item the list alone names */
		if (judge(q, jq, id, len, NAN,
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

static int qrels_trec(struct os_qrels *q, const char *line, size_t size,
		      const struct os_qrels_opts *o, struct os_error *err)
{
	const char *f[4];
	size_t len[4];
	double grade;
	long qi;
	int rc;

	if (os_split_fields(line, size, f, len, 4) != 4) {
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
	rc = judge(q, &q->q[qi], f[2], len[2], grade,
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
	uint32_t x = ((const struct os_judgment *)a)->hash;
	uint32_t y = ((const struct os_judgment *)b)->hash;

	return (x > y) - (x < y);
}

/* Sorts a query's judgments by hash: by insertion when they are few, as
 * they mostly are (qsort()'s call costs more than the sort then). */
static void sort_by_hash(struct os_judgment *j, size_t n)
{
	if (n > 16) {
		qsort(j, n, sizeof *j, by_hash);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		struct os_judgment x = j[i];
		size_t k = i;

		for (; k > 0 && j[k - 1].hash > x.hash; k--)
			j[k] = j[k - 1];
		j[k] = x;
	}
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
			rc = qrels_trec(q, line, len, o, err);
		}
		if (rc < 0)
			break;
	}
	if (rc < 0 && err->status == OS_EXIT_BAD_INPUT && !err->where[0])
		os_error_locate(err, os_line_reader_where(r),
				os_line_reader_line(r));
	os_line_reader_free(r);
	for (size_t i = 0; rc == 0 && i < q->qids.count; i++) {
		sort_by_hash(q->q[i].j, q->q[i].n);
		for (size_t k = 0; k < q->q[i].n; k++)
			q->q[i].filter |= UINT64_C(1) << (q->q[i].j[k].hash >> 26);
		q->without_judgments += q->q[i].n == 0;
	}
	return rc < 0 ? -1 : 0;
}

const struct os_judgment *os_qrels_search(const struct os_qrels *q,
					  size_t qi, uint32_t hash,
					  const char *id)
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
		if (strcmp(q->text + jq->j[lo].text, id) == 0)
			return &jq->j[lo];
	return NULL;
}
