/* SPDX-License-Identifier: MIT */
/* evalrun.c: the runs os-eval reads (see evaldata.h). A TREC run comes
 * in chunks of whole lines, each cut in one piece per thread; each piece
 * reads its lines into results of its own, which then join the run's in
 * input order. Results of one query that the input does not give
 * together are gathered at the end, so that each query's results lie
 * side by side. */
#include "config.h"

#include "evaldata.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "grow.h"
#include "jsonl.h"
#include "lines.h"
#include "number.h"
#include "parallel.h"
#include "record.h"

/* A TREC run is read in chunks of about this many bytes, each cut in one
 * piece per thread. */
#define CHUNK_BYTES ((size_t)4 << 20)
#define MAX_PIECES 64

static long intern(struct os_strmap *m, const char *s, size_t len,
		   struct os_error *err)
{
	long id = os_strmap_intern(m, s, len, NULL);

	if (id < 0)
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return id;
}

void os_run_init(struct os_run *run)
{
	memset(run, 0, sizeof *run);
	os_strmap_init(&run->qids);
	os_strmap_init(&run->sids);
}

void os_run_release(struct os_run *run)
{
	for (size_t i = 0; i < run->qids.count; i++)
		free(run->q[i].query);
	free(run->q);
	free(run->res);
	free(run->apart);
	free(run->name);
	free(run->text);
	os_strmap_release(&run->qids);
	os_strmap_release(&run->sids);
	memset(run, 0, sizeof *run);
}

/* Results read from part of the input, before they join the run: their
 * item ids in a text of their own, and the spans of lines that share a
 * qid. A piece owns res, text and span; the qids point into the input. */
struct piece {
	struct os_result *res;
	size_t n, cap;
	char *text;
	size_t text_len, text_cap;
	struct span {
		const char *qid;
		size_t qid_len;
		size_t start, n; /* results start..start+n-1 of the piece */
	} *span;
	size_t nspan, span_cap;
	long lines;       /* lines read, blank ones too */
	int failed;       /* err is set; the last line read is the bad one */
	struct os_error err;
};

static void piece_release(struct piece *p)
{
	free(p->res);
	free(p->text);
	free(p->span);
}

static void piece_clear(struct piece *p)
{
	p->n = p->text_len = p->nspan = 0;
	p->lines = 0;
	p->failed = 0;
}

/* A new result at the end of p for item `id` (len bytes) of query `qid`,
 * with its id (and, when `sid` is given, the SID index after it) and hash
 * set and the caller to set its key; NULL with err when out of memory. */
static struct os_result *piece_add(struct piece *p, const char *qid,
				   size_t qid_len, const char *id, size_t len,
				   const uint32_t *sid, struct os_error *err)
{
	size_t size = len + 1 + (sid ? sizeof *sid : 0);
	struct span *last = p->nspan ? &p->span[p->nspan - 1] : NULL;
	struct os_result *r = os_grow(p->res, &p->cap, p->n + 1, sizeof *r, 4096);
	char *text;

	if (!r)
		goto oom;
	p->res = r;
	if (!(text = os_grow(p->text, &p->text_cap, p->text_len + size, 1,
			     1 << 16)))
		goto oom;
	p->text = text;
	if (!last || last->qid_len != qid_len ||
	    memcmp(last->qid, qid, qid_len) != 0) {
		struct span *v = os_grow(p->span, &p->span_cap, p->nspan + 1,
					 sizeof *v, 256);

		if (!v)
			goto oom;
		p->span = v;
		last = &v[p->nspan++];
		*last = (struct span){qid, qid_len, p->n, 0};
	}
	memcpy(text + p->text_len, id, len);
	text[p->text_len + len] = '\0';
	if (sid)
		memcpy(text + p->text_len + len + 1, sid, sizeof *sid);
	last->n++;
	r += p->n++;
	r->hash = os_eval_hash(id, len);
	/* moved by the run's text length on joining */
	r->text = (uint32_t)p->text_len;
	p->text_len += size;
	return r;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return NULL;
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

/* Adds the results of pieces p[0..n-1], in this order, to the run and
 * clears the pieces. A query's results join those it has when they follow
 * them in res, and are kept apart for run_gather() otherwise. */
static int run_join(struct os_run *run, struct piece *p, int n,
		    struct os_error *err)
{
	size_t res_at[MAX_PIECES], text_at[MAX_PIECES], res_end = run->nres,
	       text_end = run->text_len;
	struct os_result *res;
	char *text;

	for (int t = 0; t < n; t++) {
		res_at[t] = res_end;
		text_at[t] = text_end;
		res_end += p[t].n;
		text_end += p[t].text_len;
	}
	if (text_end > UINT32_MAX) {
		os_error_set(err, OS_EXIT_FAILURE,
			     "the run's item ids pass 4 GiB");
		return -1;
	}
	if (!(res = os_grow(run->res, &run->res_cap, res_end + 1, sizeof *res,
			    1 << 16)))
		goto oom;
	run->res = res;
	if (!(text = os_grow(run->text, &run->text_cap, text_end + 1, 1,
			     1 << 20)))
		goto oom;
	run->text = text;
#pragma omp parallel for num_threads(n) if (n > 1)
	for (int t = 0; t < n; t++) {
		struct os_result *to = res + res_at[t];

		if (p[t].n) /* a piece of blank lines has no array */
			memcpy(to, p[t].res, p[t].n * sizeof *to);
		for (size_t i = 0; i < p[t].n; i++)
			to[i].text += (uint32_t)text_at[t];
		if (p[t].text_len)
			memcpy(text + text_at[t], p[t].text, p[t].text_len);
	}
	for (int t = 0; t < n; t++) {
		for (size_t s = 0; s < p[t].nspan; s++) {
			const struct span *sp = &p[t].span[s];
			size_t at = res_at[t] + sp->start;
			struct os_run_query *rq =
				run_query(run, sp->qid, sp->qid_len, err);

			if (!rq)
				return -1;
			rq->raw += sp->n;
			if (rq->n == 0) {
				rq->start = at;
				rq->n = sp->n;
			} else if (rq->start + rq->n == at) {
				rq->n += sp->n;
			} else {
				struct os_run_span *v =
					os_grow(run->apart, &run->apart_cap,
						run->napart + 1, sizeof *v, 16);

				if (!v)
					goto oom;
				run->apart = v;
				v[run->napart++] = (struct os_run_span){
					(size_t)(rq - run->q), at, sp->n};
			}
		}
		piece_clear(&p[t]);
	}
	run->nres = res_end;
	run->text_len = text_end;
	run->results = res_end;
	return 0;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return -1;
}

static int by_query_then_start(const void *a, const void *b)
{
	const struct os_run_span *x = a, *y = b;

	if (x->query != y->query)
		return x->query < y->query ? -1 : 1;
	return (x->start > y->start) - (x->start < y->start);
}

/* Gives every query of the run its results together, in input order, and
 * points each query's r at them. */
static int run_gather(struct os_run *run, struct os_error *err)
{
	size_t end = run->nres;
	struct os_result *res;

	if (run->napart) {
		qsort(run->apart, run->napart, sizeof *run->apart,
		      by_query_then_start);
		for (size_t i = 0; i < run->napart; i++) {
			end += run->apart[i].n;
			if (i == 0 || run->apart[i].query != run->apart[i - 1].query)
				end += run->q[run->apart[i].query].n;
		}
		if (!(res = os_grow(run->res, &run->res_cap, end, sizeof *res,
				    1 << 16))) {
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
			return -1;
		}
		run->res = res;
		for (size_t i = 0; i < run->napart;) {
			struct os_run_query *rq = &run->q[run->apart[i].query];
			size_t at = run->nres;

			memcpy(res + at, res + rq->start, rq->n * sizeof *res);
			at += rq->n;
			for (; i < run->napart &&
			       &run->q[run->apart[i].query] == rq; i++) {
				memcpy(res + at, res + run->apart[i].start,
				       run->apart[i].n * sizeof *res);
				at += run->apart[i].n;
			}
			rq->start = run->nres;
			rq->n = at - run->nres;
			run->nres = at;
		}
		free(run->apart);
		run->apart = NULL;
		run->napart = run->apart_cap = 0;
	}
	for (size_t i = 0; i < run->qids.count; i++)
		run->q[i].r = run->res ? run->res + run->q[i].start : NULL;
	return 0;
}

/* Reads one TREC run line (n bytes, not NUL-terminated) into p, ranked
 * by its rank field when by_rank is set. */
static int trec_line(struct piece *p, const char *line, size_t n,
		     int by_rank, struct os_error *err)
{
	const char *f[6];
	size_t len[6];
	struct os_result *res;
	double score;
	long rank;

	if (os_split_fields(line, n, f, len, 6) != 6) {
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
	if (os_parse_double(f[4], len[4], &score) < 0) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "score '%.*s' is not a finite number", (int)len[4], f[4]);
		return -1;
	}
	if (!(res = piece_add(p, f[0], len[0], f[2], len[2], NULL, err)))
		return -1;
	res->key = by_rank ? -(double)rank : score;
	return 0;
}

/* Reads the TREC lines of `text` (len bytes of whole lines) into p; on a
 * bad line stops with p->failed set, p->lines counting up to it. */
static void trec_piece(struct piece *p, const char *text, size_t len,
		       size_t max_line, int by_rank)
{
	const char *at = text, *end = text + len;

	while (at < end) {
		size_t n;
		const char *line = os_lines_next(&at, end, &n);
		int rc;

		p->lines++;
		rc = os_line_check(line, n, max_line, &p->err);
		if (rc > 0)
			rc = trec_line(p, line, n, by_rank, &p->err);
		if (rc < 0) {
			p->failed = 1;
			return;
		}
	}
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

/* Reads one JSONL run record into the run, through piece p. */
static int run_jsonl(struct os_run *run, struct piece *p, const cJSON *obj,
		     struct os_error *err)
{
	const cJSON *results = cJSON_GetObjectItemCaseSensitive(obj, "results");
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(obj, "query");
	const cJSON *v;
	struct os_run_query *rq;
	char qid[OS_RECORD_ID_MAX];
	size_t qid_len;
	long position;

	if (!os_record_id(cJSON_GetObjectItemCaseSensitive(obj, "qid"), "qid",
			  qid, sizeof qid, err))
		return -1;
	if (!cJSON_IsArray(results)) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "field 'results' must be an array");
		return -1;
	}
	qid_len = strlen(qid);
	if (!(rq = run_query(run, qid, qid_len, err)))
		return -1;
	position = (long)rq->raw; /* a qid on several lines goes on counting */
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
		struct os_result *res;
		uint32_t sid_index = 0;
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
		if (sid && !(sid_index = sid_of(run, sid, err)))
			return -1;
		if (!(res = piece_add(p, qid, qid_len, id, strlen(id),
				      &sid_index, err)))
			return -1;
		/* without a score or rank, the list's own order ranks */
		if (run->by_rank)
			res->key = -(double)(int32_t)(rank ? rank->valuedouble
							   : (double)position);
		else
			res->key = score ? score->valuedouble : -(double)position;
	}
	return run_join(run, p, 1, err);
}

/* Reads the JSONL records of chunk `text` (len bytes of whole lines, the
 * first numbered `line`) into the run; errors get their line. Sets *lines
 * to the lines read. */
static int jsonl_chunk(struct os_run *run, struct piece *p, const char *text,
		       size_t len, size_t max_line, long line, long *lines,
		       struct os_error *err)
{
	const char *at = text, *end = text + len;

	for (*lines = 0; at < end; line++, ++*lines) {
		size_t n;
		const char *start = os_lines_next(&at, end, &n);
		char *copy;
		cJSON *obj;
		int rc = os_line_check(start, n, max_line, err);

		if (rc == 0)
			continue;
		if (rc < 0)
			goto bad;
		if (!(copy = strndup(start, n))) {
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
			return -1;
		}
		obj = os_json_parse_object(copy, n, err);
		free(copy);
		rc = obj ? run_jsonl(run, p, obj, err) : -1;
		cJSON_Delete(obj);
		if (rc < 0)
			goto bad;
	}
	return 0;
bad:
	if (err->status == OS_EXIT_BAD_INPUT && !err->where[0])
		err->line = line; /* the caller adds the file */
	return -1;
}

/* Whether the first line that is not blank (os_line_check()) in `text`
 * starts with '{' (1), something else (0), or there is none (-1). */
static int starts_jsonl(const char *text, size_t len, size_t max_line)
{
	const char *at = text, *end = text + len;
	struct os_error ignored;

	while (at < end) {
		size_t n;
		const char *line = os_lines_next(&at, end, &n);

		if (os_line_check(line, n, max_line, &ignored) != 0)
			return line[0] == '{';
	}
	return -1;
}

/* Reads the TREC chunk `text` (the first line numbered `line`) into the
 * run, cut in up to `n` pieces read in parallel. Sets *lines to the lines
 * read. */
static int trec_chunk(struct os_run *run, struct piece *p, int n,
		      const char *text, size_t len, size_t max_line, long line,
		      long *lines, struct os_error *err)
{
	const char *cut[MAX_PIECES + 1];
	const long first = line;

	cut[0] = text;
	for (int t = 1; t < n; t++) {
		const char *at = text + len * (size_t)t / (size_t)n, *nl;

		if (at < cut[t - 1])
			at = cut[t - 1];
		nl = memchr(at, '\n', (size_t)(text + len - at));
		cut[t] = nl ? nl + 1 : text + len;
	}
	cut[n] = text + len;
#pragma omp parallel for num_threads(n) if (n > 1)
	for (int t = 0; t < n; t++)
		trec_piece(&p[t], cut[t], (size_t)(cut[t + 1] - cut[t]), max_line,
			   run->by_rank);
	for (int t = 0; t < n; t++) {
		if (p[t].failed) {
			*err = p[t].err;
			if (err->status == OS_EXIT_BAD_INPUT)
				err->line = line + p[t].lines - 1;
			return -1;
		}
		line += p[t].lines;
	}
	*lines = line - first;
	return run_join(run, p, n, err);
}

int os_run_load(struct os_run *run, const char *path, size_t max_line,
		int by_rank, struct os_error *err)
{
	char *paths[1] = {(char *)path};
	struct os_line_reader *r = os_line_reader_new(paths, 1, max_line);
	int threads = os_parallel_threads(), jsonl = -1, rc;
	struct piece *p = calloc((size_t)threads, sizeof *p);
	const char *text;
	size_t len;
	long lines = 0;

	if (threads > MAX_PIECES)
		threads = MAX_PIECES;
	if (!r || !p || !(run->name = strdup(path))) {
		os_line_reader_free(r);
		free(p);
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	max_line = max_line ? max_line : OS_MAX_LINE_DEFAULT;
	run->by_rank = by_rank;
	while ((rc = os_line_reader_chunk(r, CHUNK_BYTES, &text, &len,
					  err)) > 0) {
		long line = os_line_reader_line(r) + 1;

		if (jsonl < 0)
			jsonl = starts_jsonl(text, len, max_line);
		run->with_sids = jsonl > 0;
		if (jsonl > 0)
			rc = jsonl_chunk(run, p, text, len, max_line, line,
					 &lines, err);
		else
			rc = trec_chunk(run, p, threads, text, len, max_line,
					line, &lines, err);
		if (rc < 0)
			break;
		os_line_reader_counted(r, lines);
	}
	if (rc < 0 && err->status == OS_EXIT_BAD_INPUT && !err->where[0])
		os_error_locate(err, os_line_reader_where(r),
				err->line ? err->line : os_line_reader_line(r));
	os_line_reader_free(r);
	for (int t = 0; t < threads; t++)
		piece_release(&p[t]);
	free(p);
	return rc < 0 || run_gather(run, err) < 0 ? -1 : 0;
}

/* Whether result a ranks above b: by score descending, equal scores by
 * item id in descending byte order (trec_eval); or, in a run read by
 * rank, by rank (equal ranks keep their input order: the sorts are
 * stable). */
static inline int above(const struct os_run *run, const struct os_result *a,
			const struct os_result *b)
{
	if (a->key != b->key)
		return a->key > b->key;
	return !run->by_rank &&
	       strcmp(run->text + a->text, run->text + b->text) > 0;
}

/* Moves r[i] down among r[lo..i-1], ranked already, to its place (after
 * those it does not rank above: the order of equal results is kept);
 * returns how many places it moved. */
static inline size_t insert(const struct os_run *run, struct os_result *r,
			    size_t lo, size_t i)
{
	struct os_result x = r[i];
	size_t j = i;

	for (; j > lo && above(run, &x, &r[j - 1]); j--)
		r[j] = r[j - 1];
	r[j] = x;
	return i - j;
}

/* Ranks r[0..n-1], whose first `from` are ranked, by inserting the others
 * one by one, as long as that takes at most `budget` moves: returns 1
 * when ranked, 0 after giving up (equal results still in input order).
 * Runs often come nearly ranked (a rank column that the scores mostly
 * follow), and then this does a fraction of a full sort's work. */
static int rank_by_insertion(const struct os_run *run, struct os_result *r,
			     size_t n, size_t from, size_t budget)
{
	size_t moves = 0;

	for (size_t i = from; i < n; i++)
		if ((moves += insert(run, r, 0, i)) >= budget)
			return i + 1 == n;
	return 1;
}

/* Ranks r[0..n-1] (a stable merge sort over insertion-sorted runs of 16;
 * the comparison inlined, which qsort_r() cannot do), with `tmp` (n
 * results) as scratch. */
static void rank_results(const struct os_run *run, struct os_result *r,
			 size_t n, struct os_result *tmp)
{
	const size_t run_len = 16;
	struct os_result *from = r, *to = tmp;

	for (size_t lo = 0; lo < n; lo += run_len) {
		size_t hi = lo + run_len < n ? lo + run_len : n;

		for (size_t i = lo + 1; i < hi; i++)
			insert(run, r, lo, i);
	}
	for (size_t width = run_len; width < n; width *= 2) {
		struct os_result *swap;

		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t a = lo, b = mid, k = lo;

			while (a < mid && b < hi)
				to[k++] = above(run, &from[b], &from[a])
						  ? from[b++]
						  : from[a++];
			while (a < mid)
				to[k++] = from[a++];
			while (b < hi)
				to[k++] = from[b++];
		}
		swap = from;
		from = to;
		to = swap;
	}
	if (from != r)
		memcpy(r, from, n * sizeof *r);
}

/* The places of a query's results, ordered by item id (hash first) and
 * then place, to find repeats. */
struct places {
	const struct os_run *run;
	const struct os_result *r;
};

static int by_id_then_place(const void *a, const void *b, void *ctx)
{
	const struct places *pl = ctx;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	const struct os_result *x = &pl->r[i], *y = &pl->r[j];
	int c;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if ((c = strcmp(os_result_id(pl->run, x), os_result_id(pl->run, y))) != 0)
		return c;
	return (i > j) - (i < j);
}

/* Whether two results share a hash (an open-addressing set of the
 * hashes); most lists have no repeats and stop here. */
static int may_repeat(const struct os_run_query *rq)
{
	uint64_t small[512], *set; /* each a hash | 1 << 32: 0 is empty */
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
		uint64_t h = rq->r[i].hash | UINT64_C(1) << 32;
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
	struct places pl = {run, rq->r};
	size_t n = rq->n, kept = 0;
	unsigned char *drop;
	uint32_t *place;

	if (n < 2 || !may_repeat(rq))
		return 0;
	drop = calloc(n, 1);
	place = malloc(n * sizeof *place);
	if (!drop || !place) {
		free(drop);
		free(place);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		place[i] = (uint32_t)i;
	qsort_r(place, n, sizeof *place, by_id_then_place, &pl);
	for (size_t i = 1; i < n; i++)
		if (rq->r[place[i]].hash == rq->r[place[i - 1]].hash &&
		    strcmp(os_result_id(run, &rq->r[place[i]]),
			   os_result_id(run, &rq->r[place[i - 1]])) == 0)
			drop[place[i]] = 1;
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
	free(place);
	return 0;
}

int os_run_order(struct os_run *run, size_t depth)
{
	int failed = 0;

#pragma omp parallel reduction(| : failed)
	{
		struct os_result *tmp = NULL;
		size_t cap = 0;

#pragma omp for schedule(dynamic, 256)
		for (size_t i = 0; i < run->qids.count; i++) {
			struct os_run_query *rq = &run->q[i];
			size_t k = 1;

			/* runs usually come ranked already: check first */
			while (k < rq->n && !above(run, &rq->r[k], &rq->r[k - 1]))
				k++;
			if (k < rq->n &&
			    !rank_by_insertion(run, rq->r, rq->n, k,
					       4 * rq->n)) {
				struct os_result *t = os_grow(tmp, &cap, rq->n,
							      sizeof *t, 256);

				if (!t) {
					failed = 1;
					continue;
				}
				tmp = t;
				rank_results(run, rq->r, rq->n, tmp);
			}
			if (drop_repeats(run, rq, depth) < 0)
				failed = 1;
		}
		free(tmp);
	}
	return failed ? -1 : 0;
}
