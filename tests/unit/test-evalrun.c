/* SPDX-License-Identifier: MIT */
/* test-evalrun: os_run_load()'s ranking against a plain stable sort.
 * Queries of every kind of disorder (ranked, nearly ranked, reversed,
 * shuffled; equal scores, equal ranks, repeated items) are written as a
 * TREC run, grouped by query and with each query's lines in two parts far
 * apart, loaded and ranked both ways; each list must be what sorting by
 * score descending then item id descending (or by rank, equal ranks in
 * input order) and keeping each item's first place gives: whole, or cut
 * after its first 10 with the ranks of the relevant items below. And
 * judgments of queries with few and with many items are all found
 * again. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/evaldata.h"
#include "lib/rng.h"
#include "tap.h"

#define QUERIES 400
#define MAX_LIST 300

struct line {
	char id[16];
	int score, rank; /* scores are whole numbers: ties are common */
	int place;       /* in the input */
};

static int by_rank_mode;

static int reference_order(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	int c;

	if (by_rank_mode) {
		if (x->rank != y->rank)
			return x->rank < y->rank ? -1 : 1;
	} else {
		if (x->score != y->score)
			return x->score > y->score ? -1 : 1;
		if ((c = strcmp(x->id, y->id)) != 0)
			return -c;
	}
	return x->place - y->place;
}

/* The list of query q: its kind of disorder is q % 5. */
static size_t make_list(struct os_rng *rng, int q, struct line *l)
{
	size_t n = 1 + (size_t)os_rng_below(rng, MAX_LIST);

	for (size_t i = 0; i < n; i++) {
		int s = (int)(n - i) * 4;

		switch (q % 5) {
		case 0: break;                                  /* ranked */
		case 1: s += (int)os_rng_below(rng, 9); break;  /* nearly */
		case 2: s = (int)i; break;                      /* reversed */
		case 3: s = (int)os_rng_below(rng, 50); break;  /* shuffled */
		case 4: s = (int)os_rng_below(rng, 3); break;   /* mostly ties */
		}
		snprintf(l[i].id, sizeof l[i].id, "d%u",
			 (unsigned)os_rng_below(rng, n * 3)); /* repeats */
		l[i].score = s;
		l[i].rank = q % 2 ? (int)os_rng_below(rng, 20) : (int)i + 1;
		l[i].place = (int)i;
	}
	return n;
}

/* Whether item id is relevant in the judgments of relevant_qrels(). */
static int relevant_id(const char *id)
{
	return atoi(id + 1) % 3 == 0;
}

/* Whether the run's list of query q is the reference for l[0..n-1], cut
 * after `keep` results with the ranks of the relevant ones below. */
static int same_list(const struct os_run *run, long qi, struct line *l,
		     size_t n, size_t keep)
{
	const struct os_run_query *rq = &run->q[qi];
	size_t kept = 0, deep = 0;

	qsort(l, n, sizeof *l, reference_order);
	for (size_t i = 0; i < n; i++) {
		int seen = 0;

		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(l[j].id, l[i].id) == 0;
		if (seen)
			continue;
		if (kept < keep) {
			if (kept >= rq->n ||
			    strcmp(os_result_id(run, &rq->r[kept]), l[i].id) != 0)
				return 0;
		} else if (relevant_id(l[i].id)) {
			if (deep >= rq->ndeep ||
			    run->deep[rq->deep + deep] != kept + 1)
				return 0;
			deep++;
		}
		kept++;
	}
	return (kept < keep ? kept : keep) == rq->n && deep == rq->ndeep;
}

/* Writes TREC qrels of queries with 1 to 60 judged items (grades 0-3)
 * to a temporary file, loads them, and checks that each judged item is
 * found with its grade, and items of other queries are not. */
static int judgments_found(struct os_rng *rng)
{
	char path[] = "/tmp/test-evalrun-qrels-XXXXXX";
	int fd = mkstemp(path), found = 1;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	struct os_qrels_opts o = {1, 1 << 20};
	struct os_qrels q;
	struct os_error err;
	size_t n[50];

	if (!f)
		return 0;
	for (int k = 0; k < 50; k++) {
		n[k] = 1 + (size_t)os_rng_below(rng, 60);
		for (size_t i = 0; i < n[k]; i++)
			fprintf(f, "q%d 0 d%d-%zu %zu\n", k, k, i, i % 4);
	}
	fclose(f);
	os_qrels_init(&q);
	if (os_qrels_load(&q, path, &o, &err) < 0) {
		unlink(path);
		return 0;
	}
	for (int k = 0; k < 50; k++) {
		char qid[16], id[32];
		long qi;

		snprintf(qid, sizeof qid, "q%d", k);
		qi = os_strmap_find(&q.qids, qid, strlen(qid));
		found &= qi >= 0 && q.q[qi].n == n[k];
		for (size_t i = 0; qi >= 0 && i <= n[k]; i++) {
			const struct os_judgment *j;

			/* d<k>-<n[k]> is the next query's or nobody's */
			snprintf(id, sizeof id, "d%d-%zu", i < n[k] ? k : k + 1000, i);
			j = os_qrels_find(&q, (size_t)qi, os_eval_hash(id, strlen(id)), id);
			found &= i < n[k] ? j && j->grade == (double)(i % 4) : !j;
		}
	}
	os_qrels_release(&q);
	unlink(path);
	return found;
}

static struct line lists[QUERIES][MAX_LIST];
static size_t sizes[QUERIES];

/* Writes the queries' lines to `path`, each query's together or, with
 * `apart`, its first half with those of the others and its second half
 * after them. */
static int write_run(const char *path, int apart)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	for (int part = 0; part < 1 + apart; part++)
		for (int q = 0; q < QUERIES; q++) {
			size_t half = apart ? sizes[q] / 2 : sizes[q];
			size_t from = part ? half : 0, to = part ? sizes[q] : half;

			for (size_t i = from; i < to; i++)
				fprintf(f, "q%d Q0 %s %d %d run\n", q, lists[q][i].id,
					lists[q][i].rank, lists[q][i].score);
		}
	return fclose(f);
}

/* Judgments of every item id a list may hold, one in three relevant. */
static int relevant_qrels(const char *path, struct os_qrels *qrels)
{
	FILE *f = fopen(path, "w");
	struct os_qrels_opts o = {1, 1 << 20};
	struct os_error err;

	if (!f)
		return -1;
	for (int q = 0; q < QUERIES; q++)
		for (int d = 0; d < 3 * MAX_LIST; d++)
			fprintf(f, "q%d 0 d%d %d\n", q, d, d % 3 == 0);
	fclose(f);
	os_qrels_init(qrels);
	return os_qrels_load(qrels, path, &o, &err);
}

/* Loads the run at `path`, by score or by rank, and checks each kind of
 * list. */
static void check_run(const char *path, const char *what, size_t keep,
		      const struct os_qrels *qrels)
{
	for (by_rank_mode = 0; by_rank_mode < 2; by_rank_mode++) {
		struct os_run_opts o = {1 << 20, by_rank_mode, 10, keep, qrels};
		struct os_run run;
		struct os_error err;
		int same[5] = {1, 1, 1, 1, 1};
		static struct line copy[MAX_LIST];

		os_run_init(&run);
		if (os_run_load(&run, path, &o, &err) < 0) {
			printf("# %s\n", err.message);
			exit(1);
		}
		for (int q = 0; q < QUERIES; q++) {
			char qid[16];
			long qi;

			snprintf(qid, sizeof qid, "q%d", q);
			qi = os_strmap_find(&run.qids, qid, strlen(qid));
			memcpy(copy, lists[q], sizes[q] * sizeof *copy);
			same[q % 5] &= qi >= 0 &&
				       same_list(&run, qi, copy, sizes[q], keep);
		}
		printf("# %s, %s\n", what, by_rank_mode ? "--by-rank" : "by score");
		ok(same[0], "ranked lists stay as they are");
		ok(same[1], "nearly ranked lists are ranked");
		ok(same[2], "reversed lists are ranked");
		ok(same[3], "shuffled lists are ranked");
		ok(same[4], "lists of ties keep item id order, or input order");
		os_run_release(&run);
	}
}

int main(void)
{
	char path[] = "/tmp/test-evalrun-XXXXXX";
	char qrels_path[] = "/tmp/test-evalrun-rel-XXXXXX";
	int fd = mkstemp(path), qfd = mkstemp(qrels_path);
	struct os_qrels qrels;
	struct os_rng rng;

	if (fd < 0 || qfd < 0)
		return 1;
	close(fd);
	close(qfd);
	os_rng_seed(&rng, 11);
	for (int q = 0; q < QUERIES; q++)
		sizes[q] = make_list(&rng, q, lists[q]);
	if (relevant_qrels(qrels_path, &qrels) < 0 || write_run(path, 0) < 0)
		return 1;
	check_run(path, "whole lists", MAX_LIST, NULL);
	check_run(path, "cut after 10", 10, &qrels);
	if (write_run(path, 1) < 0)
		return 1;
	check_run(path, "queries apart, cut after 10", 10, &qrels);
	os_qrels_release(&qrels);
	unlink(path);
	unlink(qrels_path);
	ok(judgments_found(&rng), "judgments of few and of many items are found, others not");
	return tap_done();
}
