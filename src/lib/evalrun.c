/* SPDX-License-Identifier: MIT */
/* evalrun.c: the runs os-eval reads (see evaldata.h). A TREC run comes
 * in chunks of whole lines, each cut in one piece per thread; each piece
 * reads its lines into results of its own, ranks and cuts the queries
 * whose lines it holds from first to last (those between its first and
 * its last), and hands them to the run in input order. The rest are
 * ranked and cut at the end, once the results of each query that the
 * input does not give together are gathered side by side. A query found
 * apart after it was cut (a file not grouped by query) makes the run be
 * read again without cutting: only a regular file is cut, as only it can
 * be read twice. */
#include "config.h"

#include "evaldata.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "evalrank.h"
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
	free(run->deep);
	free(run->apart);
	free(run->name);
	free(run->text);
	os_strmap_release(&run->qids);
	os_strmap_release(&run->sids);
	memset(run, 0, sizeof *run);
}

/* Results read from part of the input, before they join the run: their
 * item ids in a text of their own, and the spans of lines that share a
 * qid, some ranked and cut already, with the ranks of their relevant
 * results below the cut in deep. A piece owns res, text, span, deep,
 * kept and scratch; the qids point into the input. */
struct piece {
	struct os_result *res;
	size_t n, cap;
	char *text;
	size_t text_len, text_cap;
	struct span {
		const char *qid;
		size_t qid_len;
		size_t start, n;   /* results start..start+n-1 of the piece */
		size_t text_start; /* where their ids start in text */
		size_t raw;        /* results read */
		size_t duplicates, duplicates_top; /* once ranked */
		size_t deep, ndeep; /* deep[deep..deep+ndeep-1], once ranked */
		int ranked;
	} *span;
	size_t nspan, span_cap;
	uint32_t *deep;
	size_t ndeep, deep_cap;
	char *kept;       /* the ids of a span's first results, while cutting */
	size_t kept_cap;
	struct os_rank_scratch scratch;
	size_t next_judged; /* see judged_index() */
	long lines;       /* lines read, blank ones too */
	int failed;       /* err is set; the last line read is the bad one */
	struct os_error err;
};

static void piece_release(struct piece *p)
{
	free(p->res);
	free(p->text);
	free(p->span);
	free(p->deep);
	free(p->kept);
	os_rank_scratch_release(&p->scratch);
}

static void piece_clear(struct piece *p)
{
	p->n = p->text_len = p->nspan = p->ndeep = 0;
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
		*last = (struct span){.qid = qid, .qid_len = qid_len,
				      .start = p->n, .text_start = p->text_len};
	}
	memcpy(text + p->text_len, id, len);
	text[p->text_len + len] = '\0';
	if (sid)
		memcpy(text + p->text_len + len + 1, sid, sizeof *sid);
	last->n++;
	last->raw++;
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

/* The index in q of query `qid` (len bytes), or -1 when q (which may be
 * NULL) does not judge it. Runs mostly list their queries in the order of
 * the judgments: *next, the index after the last one found, is tried
 * first. */
static long judged_index(const struct os_qrels *q, const char *qid,
			 size_t len, size_t *next)
{
	long i = q ? os_strmap_find_near(&q->qids, qid, len, *next) : -1;

	if (i >= 0)
		*next = (size_t)i + 1;
	return i;
}

/* Ranks span sp of p and cuts it to its first o->keep results, their ids
 * copied to p->kept (*len bytes) and their offsets made relative to it;
 * the ranks of the relevant results below go to p->deep. -1 when out of
 * memory. */
static int span_cut(struct piece *p, struct span *sp,
		    const struct os_run_opts *o, int by_rank, size_t *len)
{
	struct os_result *r = p->res + sp->start;
	struct os_ranked rk;
	long qi = judged_index(o->qrels, sp->qid, sp->qid_len, &p->next_judged);
	uint32_t *d;

	if (os_rank_results(p->text, by_rank, r, sp->n, o->depth, &p->scratch,
			    &rk) < 0 ||
	    !(d = os_grow(p->deep, &p->deep_cap,
			  p->ndeep + os_rank_deep_bound(o->qrels, qi) + 1,
			  sizeof *d, 256)))
		return -1;
	p->deep = d;
	sp->deep = p->ndeep;
	sp->ndeep = os_rank_deep(o->qrels, qi, p->text, r, rk.n, o->keep,
				 d + p->ndeep);
	p->ndeep += sp->ndeep;
	sp->n = rk.n < o->keep ? rk.n : o->keep;
	sp->duplicates = rk.duplicates;
	sp->duplicates_top = rk.duplicates_top;
	sp->ranked = 1;
	*len = 0;
	for (size_t i = 0; i < sp->n; i++) {
		const char *id = p->text + r[i].text;
		size_t size = strlen(id) + 1;
		char *k = os_grow(p->kept, &p->kept_cap, *len + size, 1, 4096);

		if (!k)
			return -1;
		p->kept = k;
		memcpy(k + *len, id, size);
		r[i].text = (uint32_t)*len;
		*len += size;
	}
	return 0;
}

/* Ranks and cuts the spans of p between its first and its last (whose
 * queries may go on in the pieces before and after it), and packs what
 * is left of every span to the front of res and text. -1 when out of
 * memory. */
static int piece_cut(struct piece *p, const struct os_run_opts *o, int by_rank)
{
	size_t at = 0, text_at = 0;

	if (p->nspan < 3)
		return 0;
	for (size_t s = 0; s < p->nspan; s++) {
		struct span *sp = &p->span[s];
		struct os_result *r = p->res + sp->start;
		size_t len;

		if (s > 0 && s + 1 < p->nspan) {
			if (span_cut(p, sp, o, by_rank, &len) < 0)
				return -1;
			memcpy(p->text + text_at, p->kept, len);
			for (size_t i = 0; i < sp->n; i++)
				r[i].text += (uint32_t)text_at;
		} else {
			len = (s + 1 < p->nspan ? p->span[s + 1].text_start
						: p->text_len) - sp->text_start;
			memmove(p->text + text_at, p->text + sp->text_start, len);
			for (size_t i = 0; i < sp->n; i++)
				r[i].text -= (uint32_t)(sp->text_start - text_at);
		}
		memmove(p->res + at, r, sp->n * sizeof *r);
		sp->start = at;
		sp->text_start = text_at;
		at += sp->n;
		text_at += len;
	}
	p->n = at;
	p->text_len = text_at;
	return 0;
}

/* Adds the results of pieces p[0..n-1], in this order, to the run and
 * clears the pieces. A query's results join those it has when they follow
 * them in res, and are kept apart for run_gather() otherwise; returns 1,
 * leaving the run to be released, when either part was ranked and cut
 * already. */
static int run_join(struct os_run *run, struct piece *p, int n,
		    struct os_error *err)
{
	size_t res_at[MAX_PIECES], text_at[MAX_PIECES], deep_at[MAX_PIECES],
		res_end = run->nres, text_end = run->text_len,
		deep_end = run->ndeep;
	struct os_result *res;
	uint32_t *deep;
	char *text;

	for (int t = 0; t < n; t++) {
		res_at[t] = res_end;
		text_at[t] = text_end;
		deep_at[t] = deep_end;
		res_end += p[t].n;
		text_end += p[t].text_len;
		deep_end += p[t].ndeep;
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
	if (!(deep = os_grow(run->deep, &run->deep_cap, deep_end + 1,
			     sizeof *deep, 1 << 12)))
		goto oom;
	run->deep = deep;
#pragma omp parallel for num_threads(n) if (n > 1)
	for (int t = 0; t < n; t++) {
		struct os_result *to = res + res_at[t];

		if (p[t].n) /* a piece of blank lines has no array */
			memcpy(to, p[t].res, p[t].n * sizeof *to);
		for (size_t i = 0; i < p[t].n; i++)
			to[i].text += (uint32_t)text_at[t];
		if (p[t].text_len)
			memcpy(text + text_at[t], p[t].text, p[t].text_len);
		if (p[t].ndeep)
			memcpy(deep + deep_at[t], p[t].deep,
			       p[t].ndeep * sizeof *deep);
	}
	for (int t = 0; t < n; t++) {
		for (size_t s = 0; s < p[t].nspan; s++) {
			const struct span *sp = &p[t].span[s];
			size_t at = res_at[t] + sp->start;
			struct os_run_query *rq =
				run_query(run, sp->qid, sp->qid_len, err);

			if (!rq)
				return -1;
			if (rq->raw && (rq->ranked || sp->ranked))
				return 1;
			rq->raw += sp->raw;
			run->results += sp->raw;
			if (sp->ranked) {
				rq->ranked = 1;
				rq->duplicates = sp->duplicates;
				rq->duplicates_top = sp->duplicates_top;
				rq->deep = deep_at[t] + sp->deep;
				rq->ndeep = sp->ndeep;
			}
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
	run->ndeep = deep_end;
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
 * run, cut in up to `n` pieces read in parallel, each ranking and cutting
 * its queries when `cut` is set. Sets *lines to the lines read. Returns
 * as run_join(). */
static int trec_chunk(struct os_run *run, struct piece *p, int n,
		      const char *text, size_t len, const struct os_run_opts *o,
		      int cut, long line, long *lines, struct os_error *err)
{
	const char *at[MAX_PIECES + 1];
	const long first = line;

	at[0] = text;
	for (int t = 1; t < n; t++) {
		const char *from = text + len * (size_t)t / (size_t)n, *nl;

		if (from < at[t - 1])
			from = at[t - 1];
		nl = memchr(from, '\n', (size_t)(text + len - from));
		at[t] = nl ? nl + 1 : text + len;
	}
	at[n] = text + len;
#pragma omp parallel for num_threads(n) if (n > 1)
	for (int t = 0; t < n; t++) {
		trec_piece(&p[t], at[t], (size_t)(at[t + 1] - at[t]), o->max_line,
			   run->by_rank);
		if (cut && !p[t].failed && piece_cut(&p[t], o, run->by_rank) < 0) {
			os_error_set(&p[t].err, OS_EXIT_FAILURE, "out of memory");
			p[t].failed = 1;
		}
	}
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

/* Reads the run at `path`, its queries ranked and cut while reading when
 * `cut` is set. Returns as run_join(). */
static int run_read(struct os_run *run, const char *path,
		    const struct os_run_opts *o, int cut, struct os_error *err)
{
	char *paths[1] = {(char *)path};
	struct os_line_reader *r = os_line_reader_new(paths, 1, o->max_line);
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
	run->by_rank = o->by_rank;
	while ((rc = os_line_reader_chunk(r, CHUNK_BYTES, &text, &len,
					  err)) > 0) {
		long line = os_line_reader_line(r) + 1;

		if (jsonl < 0)
			jsonl = starts_jsonl(text, len, o->max_line);
		run->with_sids = jsonl > 0;
		if (jsonl > 0)
			rc = jsonl_chunk(run, p, text, len, o->max_line, line,
					 &lines, err);
		else
			rc = trec_chunk(run, p, threads, text, len, o, cut, line,
					&lines, err);
		if (rc != 0)
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
	return rc != 0 ? rc : run_gather(run, err);
}

/* Ranks and cuts the queries that were not while reading; each is given
 * room in run->deep for as many ranks as it has judgments, then fills
 * it. */
static int run_finish(struct os_run *run, const struct os_run_opts *o,
		      struct os_error *err)
{
	size_t nq = run->qids.count, total = run->ndeep;
	int failed = 0;
	uint32_t *deep;

	for (size_t i = 0; i < nq; i++)
		if (!run->q[i].ranked) {
			const char *qid = os_strmap_key(&run->qids, i);
			size_t next = i; /* the same order as the judgments? */
			long qi = judged_index(o->qrels, qid, strlen(qid), &next);

			run->q[i].deep = total;
			total += os_rank_deep_bound(o->qrels, qi);
		}
	if (!(deep = os_grow(run->deep, &run->deep_cap, total + 1, sizeof *deep,
			     1 << 12))) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	run->deep = deep;
	run->ndeep = total;
#pragma omp parallel reduction(| : failed)
	{
		struct os_rank_scratch s = {0};

#pragma omp for schedule(dynamic, 64)
		for (size_t i = 0; i < nq; i++) {
			struct os_run_query *rq = &run->q[i];
			const char *qid = os_strmap_key(&run->qids, i);
			size_t next = i;
			struct os_ranked rk;

			if (rq->ranked)
				continue;
			if (os_rank_results(run->text, run->by_rank, rq->r, rq->n,
					    o->depth, &s, &rk) < 0) {
				failed = 1;
				continue;
			}
			rq->n = rk.n < o->keep ? rk.n : o->keep;
			rq->duplicates = rk.duplicates;
			rq->duplicates_top = rk.duplicates_top;
			rq->ndeep = os_rank_deep(
				o->qrels, judged_index(o->qrels, qid, strlen(qid), &next),
				run->text, rq->r, rk.n, o->keep, deep + rq->deep);
			rq->ranked = 1;
		}
		os_rank_scratch_release(&s);
	}
	if (failed)
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	return failed ? -1 : 0;
}

/* Whether `path` names a regular file, which can be read twice. */
static int rereadable(const char *path)
{
	struct stat st;

	return strcmp(path, "-") != 0 && stat(path, &st) == 0 &&
	       S_ISREG(st.st_mode);
}

int os_run_load(struct os_run *run, const char *path,
		const struct os_run_opts *o, struct os_error *err)
{
	struct os_run_opts opts = *o;
	int rc;

	opts.max_line = o->max_line ? o->max_line : OS_MAX_LINE_DEFAULT;
	rc = run_read(run, path, &opts, rereadable(path), err);
	if (rc > 0) { /* a query came apart after it was cut: read it all */
		os_run_release(run);
		os_run_init(run);
		rc = run_read(run, path, &opts, 0, err);
	}
	return rc < 0 ? -1 : run_finish(run, &opts, err);
}
