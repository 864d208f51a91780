/* SPDX-License-Identifier: MIT */
/* test-bm25: the catalog's full-text index of titles (schema 5). Scores
 * and ranking against the BM25 formula worked out here by hand, stemming
 * and accent folding, upserts that change what matches (the triggers),
 * terms that look like FTS5 query syntax, no terms, and the migration
 * from schema 4 that indexes the items already there. FTS5's
 * integrity check compares the index with the items' titles.
 *
 * The test owns a temporary directory that it removes at the end. The
 * migration test downgrades a catalog with SQL of its own: the one place
 * outside catalog.c that needs to. */
#include "config.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/catalog.h"
#include "tap.h"

static char dir[] = "/tmp/test-bm25-XXXXXX";

struct hit {
	long seq;
	char id[16];
	double score;
};

struct hits {
	struct hit hit[16];
	size_t n;
	size_t stop_after; /* 0: never stop */
};

static int collect(void *ctx, long seq, const char *id, double score)
{
	struct hits *h = ctx;

	if (h->n < sizeof h->hit / sizeof h->hit[0]) {
		h->hit[h->n].seq = seq;
		snprintf(h->hit[h->n].id, sizeof h->hit[h->n].id, "%s", id);
		h->hit[h->n].score = score;
	}
	h->n++;
	return h->stop_after && h->n == h->stop_after ? 7 : 0;
}

/* Runs a query; returns what os_catalog_bm25 returned. */
static int query(struct os_catalog *c, struct hits *h, size_t k,
		 size_t nterms, const char *const *terms)
{
	struct os_error err = {0};
	int rc;

	h->n = 0;
	rc = os_catalog_bm25(c, terms, nterms, k, collect, h, &err);
	if (rc < 0)
		printf("# %s\n", err.message);
	return rc;
}

/* The ids of the hits, joined by spaces. */
static const char *ids(const struct hits *h)
{
	static char buf[256];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < h->n && i < 16; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s",
				      i ? " " : "", h->hit[i].id);
	return buf;
}

/* One term's contribution to FTS5's BM25 (k1 1.2, b 0.75), for a term in
 * `df` of `n` titles that has `tf` of a title's `len` tokens, the titles
 * having `total` tokens in all. */
static double bm25(double tf, double len, double df, double n, double total)
{
	double idf = log((n - df + 0.5) / (df + 0.5));

	if (idf <= 0)
		idf = 1e-6;
	return idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len / (total / n)));
}

static int close_to(double got, double want)
{
	return fabs(got - want) <= 1e-9 * fabs(want);
}

static int upsert(struct os_catalog *c, const char *id, const char *title)
{
	struct os_item item = {id, title, NULL, NULL, NULL, 0};
	struct os_error err = {0};
	char *old;
	int rc = os_catalog_item_upsert(c, &item, &old, &err);

	if (rc < 0)
		printf("# %s\n", err.message);
	free(old);
	return rc;
}

/* Tokens after porter and unicode61: walnut shelf | walnut tabl walnut top
 * | oak tabl | cordless drill | hammer drill | cafe lamp: 14 in 6 titles. */
static const char *const titles[][2] = {
	{"s1", "Walnut Shelf"},   {"s2", "Walnut Table, Walnut Top"},
	{"s3", "Oak Table"},      {"s4", "Cordless Drill"},
	{"s5", "Hammer Drills"},  {"s6", "Café Lamp"},
};

static void test_ranking(struct os_catalog *c)
{
	struct hits h = {0};
	const char *walnut[] = {"walnut"}, *drills[] = {"drills"};
	const char *cafe[] = {"CAFE"}, *two[] = {"walnut", "oak"};
	double w1 = bm25(1, 2, 2, 6, 14), w2 = bm25(2, 4, 2, 6, 14);
	double oak = bm25(1, 2, 1, 6, 14);

	is_long(query(c, &h, 10, 1, walnut), 0, "a one-term query runs");
	is_str(ids(&h), "s2 s1", "the title with the term twice ranks first");
	ok(h.n == 2 && h.hit[0].seq == 2 && h.hit[1].seq == 1,
	   "the hits carry the items' seq");
	ok(h.n == 2 && close_to(h.hit[0].score, w2) &&
		   close_to(h.hit[1].score, w1),
	   "the scores are BM25's, larger better");
	if (h.n == 2)
		printf("# walnut: %.9f %.9f, by hand %.9f %.9f\n",
		       h.hit[0].score, h.hit[1].score, w2, w1);

	query(c, &h, 10, 1, drills);
	is_str(ids(&h), "s4 s5", "'drills' finds 'drill', ties in seq order");
	query(c, &h, 10, 1, cafe);
	is_str(ids(&h), "s6", "case and accents are folded");

	query(c, &h, 10, 2, two);
	is_str(ids(&h), "s3 s2 s1", "any term may match, the rarer counts more");
	ok(h.n == 3 && close_to(h.hit[0].score, oak), "the rare term's score");
	query(c, &h, 2, 2, two);
	is_str(ids(&h), "s3 s2", "k limits the hits to the best k");
	query(c, &h, 0, 2, two);
	is_long((long)h.n, 0, "k 0 gives no hits");
	h.stop_after = 1;
	is_long(query(c, &h, 10, 2, two), 7, "fn's non-zero value is returned");
	is_long((long)h.n, 1, "and stops the ranking");
	h.stop_after = 0;
}

static void test_syntax(struct os_catalog *c)
{
	struct hits h = {0};
	const char *quotes[] = {"\"", "walnut\"", "\"oak"};
	const char *ops[] = {"title:oak", "-", "(", "*", "NEAR(a b)", "AND",
			     "x\" OR \"oak", ""};

	is_long(query(c, &h, 10, 0, NULL), 0, "zero terms is not an error");
	is_long((long)h.n, 0, "and gives no hits");
	is_long(query(c, &h, 10, 3, quotes), 0,
		"terms with double quotes do not break the query");
	is_str(ids(&h), "s3 s2 s1", "and match as their words");
	is_long(query(c, &h, 10, 8, ops), 0,
		"FTS5 operators in terms are taken as text");
	is_long((long)h.n, 0, "and match nothing here");
}

static void test_upsert(struct os_catalog *c)
{
	struct hits h = {0};
	const char *walnut[] = {"walnut"}, *oak[] = {"oak"};
	const char *pine[] = {"pine"};

	ok(upsert(c, "s1", "Oak Shelf") == 0, "an item's title is replaced");
	query(c, &h, 10, 1, walnut);
	is_str(ids(&h), "s2", "its old title no longer matches");
	query(c, &h, 10, 1, oak);
	is_str(ids(&h), "s1 s3", "its new title does");
	ok(upsert(c, "s1", "Oak Shelf") == 0, "the same title again");
	query(c, &h, 10, 1, oak);
	is_str(ids(&h), "s1 s3", "leaves the index as it was");
	ok(upsert(c, "s7", "Pine Stool") == 0, "a new item");
	query(c, &h, 10, 1, pine);
	ok(h.n == 1 && h.hit[0].seq == 7 && strcmp(h.hit[0].id, "s7") == 0,
	   "is found at once");
}

/* A catalog taken back to schema 4 (no index, no triggers, no CoT cache)
 * is refused by a reader and indexed by a writer's migration. */
static void test_migration(const char *path)
{
	struct os_catalog *c;
	struct os_error err = {0};
	struct os_catalog_summary s;
	struct hits h = {0};
	const char *pine[] = {"pine"};
	sqlite3 *db;
	int rc;

	rc = sqlite3_open(path, &db);
	ok(rc == SQLITE_OK &&
		   sqlite3_exec(db,
				"INSERT INTO items_fts (items_fts, rank) "
				"VALUES ('integrity-check', 1)",
				NULL, NULL, NULL) == SQLITE_OK,
	   "after the upserts the index agrees with the items");
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db,
				  "DROP TRIGGER items_fts_after_insert;"
				  "DROP TRIGGER items_fts_after_delete;"
				  "DROP TRIGGER items_fts_after_update;"
				  "DROP TABLE items_fts;"
				  "DROP TABLE cot_cache;"
				  "PRAGMA user_version = 4;",
				  NULL, NULL, NULL);
	ok(rc == SQLITE_OK, "a catalog back at schema 4");
	sqlite3_close(db);

	ok(os_catalog_open(&c, path, OS_CATALOG_READ_ONLY, &err) < 0 &&
		   err.status == OS_EXIT_FAILURE,
	   "is refused by a reader, as older schemas are");
	printf("# %s\n", err.message);
	if (os_catalog_open(&c, path, 0, &err) < 0) {
		ok(0, "a writer migrates it");
		printf("# %s\n", err.message);
		return;
	}
	ok(os_catalog_summary(c, &s, &err) == 0 &&
		   s.schema == OS_CATALOG_SCHEMA && s.items == 7,
	   "a writer migrates it to the current schema");
	query(c, &h, 10, 1, pine);
	is_str(ids(&h), "s7", "and indexes the items already there");
	os_catalog_close(c);
	ok(os_catalog_open(&c, path, OS_CATALOG_READ_ONLY, &err) == 0,
	   "a reader opens it then");
	query(c, &h, 10, 1, pine);
	is_str(ids(&h), "s7", "and queries it");
	os_catalog_close(c);
}

int main(void)
{
	struct os_catalog *c;
	struct os_error err = {0};
	char path[64], cmd[64];
	int all = 0;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/c.db", dir);
	if (os_catalog_open(&c, path, 0, &err) < 0) {
		printf("Bail out! %s\n", err.message);
		return 1;
	}
	for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
		all |= upsert(c, titles[i][0], titles[i][1]);
	ok(all == 0, "six items stored");
	test_ranking(c);
	test_syntax(c);
	test_upsert(c);
	os_catalog_close(c);
	test_migration(path);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
