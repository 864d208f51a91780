/* SPDX-License-Identifier: MIT */
/* catalog.c: the SQLite catalog (see catalog.h and os-catalog(5)).
 *
 * The catalog owns its prepared statements (one per entry of `sql`,
 * prepared on first use and finalized at close) and the buffer in which
 * os_catalog_bm25 writes its query (freed at close). */
#include "config.h"

#include "catalog.h"

#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "hash.h"

/* Migrations: migrations[v] takes a catalog from schema v to v + 1 and
 * ends by setting user_version to v + 1. */
static const char *const migrations[OS_CATALOG_SCHEMA] = {
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL"
	") STRICT;"
	"CREATE TABLE items ("
	"  seq INTEGER PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"
	"  title TEXT NOT NULL,"
	"  category TEXT,"
	"  brand TEXT,"
	"  attrs TEXT NOT NULL DEFAULT '{}'"
	") STRICT;"
	"CREATE TABLE vocab ("
	"  id INTEGER PRIMARY KEY,"
	"  token TEXT NOT NULL UNIQUE,"
	"  df INTEGER NOT NULL DEFAULT 0 CHECK (df >= 0)"
	") STRICT;"
	"CREATE TABLE keywords ("
	"  id INTEGER PRIMARY KEY,"
	"  type TEXT NOT NULL,"
	"  text TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  count INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (type, text)"
	") STRICT;"
	"CREATE TABLE item_keywords ("
	"  item INTEGER NOT NULL REFERENCES items(seq) ON DELETE CASCADE,"
	"  keyword INTEGER NOT NULL REFERENCES keywords(id) ON DELETE CASCADE,"
	"  position INTEGER NOT NULL,"
	"  PRIMARY KEY (item, keyword)"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX item_keywords_by_keyword ON item_keywords(keyword);"
	"PRAGMA user_version = 1;",
	/* 1 -> 2: semantic IDs, one per item, as "a,b,c,d" */
	"CREATE TABLE sids ("
	"  item INTEGER PRIMARY KEY REFERENCES items(seq) ON DELETE CASCADE,"
	"  sid TEXT NOT NULL UNIQUE"
	") STRICT;"
	"PRAGMA user_version = 2;",
	/* 2 -> 3: the quantizer's codebooks */
	"CREATE TABLE codebooks ("
	"  level INTEGER NOT NULL CHECK (level >= 0),"
	"  code INTEGER NOT NULL CHECK (code >= 0),"
	"  centroid BLOB NOT NULL,"
	"  PRIMARY KEY (level, code)"
	") STRICT, WITHOUT ROWID;"
	"PRAGMA user_version = 3;",
	/* 3 -> 4: large values (the encoder's table) by name */
	"CREATE TABLE blobs ("
	"  name TEXT PRIMARY KEY,"
	"  data BLOB NOT NULL"
	") STRICT;"
	"PRAGMA user_version = 4;",
	/* 4 -> 5: a BM25 full-text index of the titles, an FTS5 table whose
	 * text stays in items (external content), kept in step by triggers.
	 * os_catalog_item_upsert's INSERT ... ON CONFLICT DO UPDATE fires the
	 * update trigger for an item that exists, the insert trigger for a
	 * new one. 'rebuild' indexes the items already there. */
	"CREATE VIRTUAL TABLE items_fts USING fts5("
	"  title,"
	"  content = 'items',"
	"  content_rowid = 'seq',"
	"  tokenize = 'porter unicode61 remove_diacritics 2'"
	");"
	"CREATE TRIGGER items_fts_after_insert AFTER INSERT ON items BEGIN"
	"  INSERT INTO items_fts (rowid, title) VALUES (new.seq, new.title);"
	"END;"
	"CREATE TRIGGER items_fts_after_delete AFTER DELETE ON items BEGIN"
	"  INSERT INTO items_fts (items_fts, rowid, title)"
	"  VALUES ('delete', old.seq, old.title);"
	"END;"
	"CREATE TRIGGER items_fts_after_update AFTER UPDATE ON items BEGIN"
	"  INSERT INTO items_fts (items_fts, rowid, title)"
	"  VALUES ('delete', old.seq, old.title);"
	"  INSERT INTO items_fts (rowid, title) VALUES (new.seq, new.title);"
	"END;"
	"INSERT INTO items_fts (items_fts) VALUES ('rebuild');"
	"PRAGMA user_version = 5;",
	/* 5 -> 6: os-cot's answers, by a key that hashes everything they
	 * depend on (query, user, backend, model, prompt or statistics) */
	"CREATE TABLE cot_cache ("
	"  key TEXT PRIMARY KEY,"
	"  backend TEXT NOT NULL,"
	"  cot TEXT NOT NULL,"
	"  created INTEGER NOT NULL"
	") STRICT;"
	"PRAGMA user_version = 6;",
};

enum stmt {
	ST_META_GET,
	ST_META_SET,
	ST_ITEM_TITLE,
	ST_ITEM_UPSERT,
	ST_ITEMS_EACH,
	ST_VOCAB_EACH,
	ST_VOCAB_ADD,
	ST_VOCAB_UPDATE,
	ST_KEYWORDS_EACH,
	ST_KEYWORDS_EACH_SOURCE,
	ST_KEYWORDS_CLEAR,
	ST_ITEM_KEYWORDS_CLEAR_ALL,
	ST_KEYWORD_INSERT,
	ST_KEYWORD_ID,
	ST_ITEM_KEYWORDS_DELETE,
	ST_ITEM_KEYWORD_INSERT,
	ST_ITEM_KEYWORDS_OF_TYPE,
	ST_ITEMS_BY_ID,
	ST_COUNT_ITEMS,
	ST_COUNT_VOCAB,
	ST_COUNT_KEYWORDS,
	ST_COUNT_ITEM_KEYWORDS,
	ST_KEYWORD_TYPES,
	ST_SIDS_EACH,
	ST_SIDS_CLEAR,
	ST_SID_SET,
	ST_CODEBOOKS_CLEAR,
	ST_CODEBOOK_ADD,
	ST_CODEBOOKS_EACH,
	ST_BLOB_SET,
	ST_BLOB_GET,
	ST_BM25,
	ST_COT_GET,
	ST_COT_PUT,
	ST_COT_CLEAR,
	ST_COUNT_COT,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_COUNT_
};

static const char *const sql[ST_COUNT_] = {
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
			"ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	[ST_ITEM_TITLE] = "SELECT title FROM items WHERE id = ?1",
	[ST_ITEM_UPSERT] =
		"INSERT INTO items (id, title, category, brand, attrs) "
		"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET "
		"title = excluded.title, category = excluded.category, "
		"brand = excluded.brand, attrs = excluded.attrs RETURNING seq",
	[ST_ITEMS_EACH] = "SELECT id, title, category, brand, attrs, seq "
			  "FROM items ORDER BY seq",
	[ST_VOCAB_EACH] = "SELECT id, token, df FROM vocab ORDER BY id",
	[ST_VOCAB_ADD] = "INSERT INTO vocab (token, df) VALUES (?1, max(?2, 0)) "
			 "ON CONFLICT (token) DO UPDATE SET df = df + ?2 "
			 "RETURNING id",
	[ST_VOCAB_UPDATE] = "UPDATE vocab SET df = df + ?2 WHERE id = ?1",
	[ST_KEYWORDS_EACH] = "SELECT id, type, text, source, count FROM keywords "
			     "ORDER BY id",
	[ST_KEYWORDS_EACH_SOURCE] =
		"SELECT id, type, text, source, count FROM keywords "
		"WHERE source = ?1 ORDER BY id",
	[ST_KEYWORDS_CLEAR] = "DELETE FROM keywords",
	[ST_ITEM_KEYWORDS_CLEAR_ALL] = "DELETE FROM item_keywords",
	[ST_KEYWORD_INSERT] =
		"INSERT INTO keywords (type, text, source, count) "
		"VALUES (?1, ?2, ?3, ?4) ON CONFLICT (type, text) DO NOTHING",
	[ST_KEYWORD_ID] = "SELECT id FROM keywords WHERE type = ?1 AND text = ?2",
	[ST_ITEM_KEYWORDS_DELETE] = "DELETE FROM item_keywords WHERE item = ?1",
	[ST_ITEM_KEYWORD_INSERT] =
		"INSERT OR IGNORE INTO item_keywords (item, keyword, position) "
		"VALUES (?1, ?2, ?3)",
	[ST_ITEM_KEYWORDS_OF_TYPE] =
		"SELECT items.id, keywords.text FROM keywords "
		"JOIN item_keywords ON item_keywords.keyword = keywords.id "
		"JOIN items ON items.seq = item_keywords.item "
		"WHERE keywords.type = ?1 "
		"ORDER BY item_keywords.item, item_keywords.position",
	[ST_ITEMS_BY_ID] = "SELECT id, title, coalesce(category, ''), "
			   "coalesce(brand, ''), attrs FROM items ORDER BY id",
	[ST_COUNT_ITEMS] = "SELECT count(*) FROM items",
	[ST_COUNT_VOCAB] = "SELECT count(*) FROM vocab WHERE df > 0",
	[ST_COUNT_KEYWORDS] = "SELECT count(*) FROM keywords",
	[ST_COUNT_ITEM_KEYWORDS] = "SELECT count(*) FROM item_keywords",
	[ST_KEYWORD_TYPES] = "SELECT type, count(*) FROM keywords GROUP BY type "
			     "ORDER BY type",
	[ST_SIDS_EACH] = "SELECT items.id, sids.sid FROM sids "
			 "JOIN items ON items.seq = sids.item ORDER BY sids.item",
	[ST_SIDS_CLEAR] = "DELETE FROM sids",
	[ST_SID_SET] = "INSERT INTO sids (item, sid) VALUES (?1, ?2) "
		       "ON CONFLICT (item) DO UPDATE SET sid = excluded.sid",
	[ST_CODEBOOKS_CLEAR] = "DELETE FROM codebooks",
	[ST_CODEBOOK_ADD] = "INSERT INTO codebooks (level, code, centroid) "
			    "VALUES (?1, ?2, ?3)",
	[ST_CODEBOOKS_EACH] = "SELECT level, code, centroid FROM codebooks "
			      "ORDER BY level, code",
	[ST_BLOB_SET] = "INSERT INTO blobs (name, data) VALUES (?1, ?2) "
			"ON CONFLICT (name) DO UPDATE SET data = excluded.data",
	[ST_BLOB_GET] = "SELECT data FROM blobs WHERE name = ?1",
	/* The best ?2 first, then their ids: joining items only for those
	 * is faster when a common term matches many titles. Ties go in seq
	 * order, so that a run is the same every time. */
	[ST_BM25] = "SELECT hits.seq, items.id, -hits.bm25 FROM ("
		    "  SELECT rowid AS seq, bm25(items_fts) AS bm25"
		    "  FROM items_fts WHERE items_fts MATCH ?1"
		    "  ORDER BY bm25(items_fts), rowid LIMIT ?2"
		    ") AS hits JOIN items ON items.seq = hits.seq "
		    "ORDER BY hits.bm25, hits.seq",
	[ST_COT_GET] = "SELECT cot FROM cot_cache WHERE key = ?1",
	[ST_COT_PUT] = "INSERT INTO cot_cache (key, backend, cot, created) "
		       "VALUES (?1, ?2, ?3, unixepoch()) ON CONFLICT (key) DO "
		       "UPDATE SET cot = excluded.cot, created = excluded.created",
	[ST_COT_CLEAR] = "DELETE FROM cot_cache WHERE ?1 IS NULL OR backend = ?1",
	[ST_COUNT_COT] = "SELECT count(*) FROM cot_cache",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
};

struct os_catalog {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[ST_COUNT_];
	char *match; /* os_catalog_bm25's query, reused from call to call */
	size_t match_cap;
};

static int db_error(struct os_catalog *c, struct os_error *err)
{
	os_error_set(err, OS_EXIT_FAILURE, "catalog '%s': %s", c->path,
		     sqlite3_errmsg(c->db));
	return -1;
}

/* The prepared statement `s`, reset and with its bindings cleared. */
static sqlite3_stmt *stmt(struct os_catalog *c, enum stmt s,
			  struct os_error *err)
{
	if (!c->stmt[s] &&
	    sqlite3_prepare_v3(c->db, sql[s], -1, SQLITE_PREPARE_PERSISTENT,
			       &c->stmt[s], NULL) != SQLITE_OK) {
		db_error(c, err);
		return NULL;
	}
	sqlite3_reset(c->stmt[s]);
	sqlite3_clear_bindings(c->stmt[s]);
	return c->stmt[s];
}

/* Runs a statement that returns no rows. */
static int run(struct os_catalog *c, sqlite3_stmt *st, struct os_error *err)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		rc = SQLITE_DONE; /* RETURNING rows are read by the callers */
	if (rc != SQLITE_DONE) {
		db_error(c, err);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int exec_simple(struct os_catalog *c, enum stmt s, struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, s, err);

	return st ? run(c, st, err) : -1;
}

static int schema_version(struct os_catalog *c, int *version,
			  struct os_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_error(c, err);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_error(c, err);
	}
	*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int migrate(struct os_catalog *c, int from, struct os_error *err)
{
	if (exec_simple(c, ST_BEGIN, err) < 0)
		return -1;
	/* Another writer may have migrated meanwhile. */
	if (schema_version(c, &from, err) < 0)
		goto fail;
	for (int v = from; v < OS_CATALOG_SCHEMA; v++) {
		if (sqlite3_exec(c->db, migrations[v], NULL, NULL, NULL) !=
		    SQLITE_OK) {
			db_error(c, err);
			goto fail;
		}
	}
	if (from == 0 &&
	    os_catalog_meta_set(c, "created_by", PACKAGE_STRING, err) < 0)
		goto fail;
	return os_catalog_commit(c, err);
fail:
	os_catalog_rollback(c);
	return -1;
}

int os_catalog_open(struct os_catalog **out, const char *path, unsigned flags,
		    struct os_error *err)
{
	struct os_catalog *c = calloc(1, sizeof *c);
	int ro = flags & OS_CATALOG_READ_ONLY;
	int existing = ro || (flags & OS_CATALOG_EXISTING);
	int oflags = ro	        ? SQLITE_OPEN_READONLY
		     : existing ? SQLITE_OPEN_READWRITE
				: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int version;

	*out = NULL;
	if (!c || !(c->path = strdup(path))) {
		free(c);
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	if (sqlite3_open_v2(path, &c->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		os_error_set(err, OS_EXIT_FAILURE, "cannot open catalog '%s': %s",
			     path, c->db ? sqlite3_errmsg(c->db) : "out of memory");
		os_catalog_close(c);
		return -1;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, 30000);
	if (sqlite3_exec(c->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) !=
		    SQLITE_OK ||
	    schema_version(c, &version, err) < 0) {
		os_error_set(err, OS_EXIT_FAILURE, "cannot open catalog '%s': %s",
			     path, sqlite3_errmsg(c->db));
		os_catalog_close(c);
		return -1;
	}
	if (version > OS_CATALOG_SCHEMA) {
		os_error_set(err, OS_EXIT_FAILURE,
			     "catalog '%s' has schema version %d, newer than "
			     "this program's %d",
			     path, version, OS_CATALOG_SCHEMA);
		os_catalog_close(c);
		return -1;
	}
	if (existing && version == 0) {
		os_error_set(err, OS_EXIT_FAILURE,
			     "'%s' is not an onesearch catalog (schema version 0)",
			     path);
		os_catalog_close(c);
		return -1;
	}
	if (ro && version < OS_CATALOG_SCHEMA) {
		os_error_set(err, OS_EXIT_FAILURE,
			     "catalog '%s' has schema version %d, older than this "
			     "program's %d; a program that writes to it (such as "
			     "os-tokenize -C FILE </dev/null) upgrades it",
			     path, version, OS_CATALOG_SCHEMA);
		os_catalog_close(c);
		return -1;
	}
	if (!ro) {
		if (sqlite3_exec(c->db,
				 "PRAGMA journal_mode = WAL;"
				 "PRAGMA synchronous = NORMAL;"
				 "PRAGMA cache_size = -65536",
				 NULL, NULL, NULL) != SQLITE_OK) {
			db_error(c, err);
			os_catalog_close(c);
			return -1;
		}
		if (version < OS_CATALOG_SCHEMA && migrate(c, version, err) < 0) {
			os_catalog_close(c);
			return -1;
		}
	}
	*out = c;
	return 0;
}

void os_catalog_close(struct os_catalog *c)
{
	if (!c)
		return;
	for (int i = 0; i < ST_COUNT_; i++)
		sqlite3_finalize(c->stmt[i]);
	sqlite3_close(c->db);
	free(c->match);
	free(c->path);
	free(c);
}

int os_catalog_begin(struct os_catalog *c, struct os_error *err)
{
	return exec_simple(c, ST_BEGIN, err);
}

int os_catalog_commit(struct os_catalog *c, struct os_error *err)
{
	return exec_simple(c, ST_COMMIT, err);
}

void os_catalog_rollback(struct os_catalog *c)
{
	if (!sqlite3_get_autocommit(c->db))
		exec_simple(c, ST_ROLLBACK, NULL);
}

/* The text that statement `s` selects for `key` (malloc'd), or NULL when
 * there is none (err->status 0) or on error. */
static char *text_of(struct os_catalog *c, enum stmt s, const char *key,
		     struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, s, err);
	char *value = NULL;
	int rc;

	os_error_clear(err);
	if (!st)
		return NULL;
	bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		value = strdup((const char *)sqlite3_column_text(st, 0));
		if (!value)
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	} else if (rc != SQLITE_DONE) {
		db_error(c, err);
	}
	sqlite3_reset(st);
	return value;
}

char *os_catalog_meta_get(struct os_catalog *c, const char *key,
			  struct os_error *err)
{
	return text_of(c, ST_META_GET, key, err);
}

char *os_catalog_item_title(struct os_catalog *c, const char *id,
			    struct os_error *err)
{
	return text_of(c, ST_ITEM_TITLE, id, err);
}

int os_catalog_meta_set(struct os_catalog *c, const char *key,
			const char *value, struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, ST_META_SET, err);

	if (!st)
		return -1;
	bind_text(st, 1, key);
	bind_text(st, 2, value);
	return run(c, st, err);
}

int os_catalog_item_upsert(struct os_catalog *c, struct os_item *item,
			   char **old_title, struct os_error *err)
{
	sqlite3_stmt *st;

	*old_title = text_of(c, ST_ITEM_TITLE, item->id, err);
	if (!*old_title && err->status)
		return -1;
	st = stmt(c, ST_ITEM_UPSERT, err);
	if (!st)
		return -1;
	bind_text(st, 1, item->id);
	bind_text(st, 2, item->title);
	bind_text(st, 3, item->category);
	bind_text(st, 4, item->brand);
	bind_text(st, 5, item->attrs ? item->attrs : "{}");
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_error(c, err);
	}
	item->seq = (long)sqlite3_column_int64(st, 0);
	return run(c, st, err);
}

static const char *column_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* Steps `st` to the end, calling row() for each row; stops early when
 * row() returns non-zero (and returns that value). */
static int each_row(struct os_catalog *c, sqlite3_stmt *st,
		    int (*row)(sqlite3_stmt *st, void *ctx), void *ctx,
		    struct os_error *err)
{
	int rc, stop = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((stop = row(st, ctx)) != 0)
			break;
	if (!stop && rc != SQLITE_DONE) {
		sqlite3_reset(st);
		return db_error(c, err);
	}
	sqlite3_reset(st);
	return stop;
}

struct items_ctx {
	int (*fn)(void *ctx, const struct os_item *item);
	void *ctx;
};

static int item_row(sqlite3_stmt *st, void *p)
{
	struct items_ctx *ic = p;
	struct os_item item = {column_text(st, 0), column_text(st, 1),
			       column_text(st, 2), column_text(st, 3),
			       column_text(st, 4),
			       (long)sqlite3_column_int64(st, 5)};

	return ic->fn(ic->ctx, &item);
}

int os_catalog_items_each(struct os_catalog *c,
			  int (*fn)(void *ctx, const struct os_item *item),
			  void *ctx, struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, ST_ITEMS_EACH, err);
	struct items_ctx ic = {fn, ctx};

	return st ? each_row(c, st, item_row, &ic, err) : -1;
}

struct vocab_ctx {
	int (*fn)(void *ctx, long id, const char *token, long df);
	void *ctx;
};

static int vocab_row(sqlite3_stmt *st, void *p)
{
	struct vocab_ctx *vc = p;

	return vc->fn(vc->ctx, (long)sqlite3_column_int64(st, 0),
		      column_text(st, 1), (long)sqlite3_column_int64(st, 2));
}

int os_catalog_vocab_each(struct os_catalog *c,
			  int (*fn)(void *ctx, long id, const char *token,
				    long df),
			  void *ctx, struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, ST_VOCAB_EACH, err);
	struct vocab_ctx vc = {fn, ctx};

	return st ? each_row(c, st, vocab_row, &vc, err) : -1;
}

long os_catalog_vocab_add(struct os_catalog *c, long id, const char *token,
			  long delta, struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, id > 0 ? ST_VOCAB_UPDATE : ST_VOCAB_ADD, err);

	if (!st)
		return -1;
	if (id > 0) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, delta);
		return run(c, st, err) < 0 ? -1 : id;
	}
	bind_text(st, 1, token);
	sqlite3_bind_int64(st, 2, delta);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_error(c, err);
	}
	id = (long)sqlite3_column_int64(st, 0);
	return run(c, st, err) < 0 ? -1 : id;
}

struct keywords_ctx {
	int (*fn)(void *ctx, long id, const char *type, const char *text,
		  const char *source, long count);
	void *ctx;
};

static int keyword_row(sqlite3_stmt *st, void *p)
{
	struct keywords_ctx *kc = p;

	return kc->fn(kc->ctx, (long)sqlite3_column_int64(st, 0),
		      column_text(st, 1), column_text(st, 2),
		      column_text(st, 3), (long)sqlite3_column_int64(st, 4));
}

int os_catalog_keywords_each(struct os_catalog *c, const char *only_source,
			     int (*fn)(void *ctx, long id, const char *type,
				       const char *text, const char *source,
				       long count),
			     void *ctx, struct os_error *err)
{
	sqlite3_stmt *st = stmt(
		c, only_source ? ST_KEYWORDS_EACH_SOURCE : ST_KEYWORDS_EACH, err);
	struct keywords_ctx kc = {fn, ctx};

	if (!st)
		return -1;
	if (only_source)
		bind_text(st, 1, only_source);
	return each_row(c, st, keyword_row, &kc, err);
}

int os_catalog_keywords_clear(struct os_catalog *c, struct os_error *err)
{
	if (exec_simple(c, ST_ITEM_KEYWORDS_CLEAR_ALL, err) < 0)
		return -1;
	return exec_simple(c, ST_KEYWORDS_CLEAR, err);
}

long os_catalog_keyword_add(struct os_catalog *c, const char *type,
			    const char *text, const char *source, long count,
			    struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, ST_KEYWORD_INSERT, err);
	long id;

	if (!st)
		return -1;
	bind_text(st, 1, type);
	bind_text(st, 2, text);
	bind_text(st, 3, source);
	sqlite3_bind_int64(st, 4, count);
	if (run(c, st, err) < 0)
		return -1;
	if (sqlite3_changes(c->db) == 1)
		return (long)sqlite3_last_insert_rowid(c->db);
	st = stmt(c, ST_KEYWORD_ID, err);
	if (!st)
		return -1;
	bind_text(st, 1, type);
	bind_text(st, 2, text);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_error(c, err);
	}
	id = (long)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return id;
}

int os_catalog_item_keywords_set(struct os_catalog *c, long item,
				 const long *ids, const long *pos, size_t n,
				 int replace, struct os_error *err)
{
	sqlite3_stmt *st;

	if (replace) {
		if (!(st = stmt(c, ST_ITEM_KEYWORDS_DELETE, err)))
			return -1;
		sqlite3_bind_int64(st, 1, item);
		if (run(c, st, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < n; i++) {
		st = stmt(c, ST_ITEM_KEYWORD_INSERT, err);
		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, item);
		sqlite3_bind_int64(st, 2, ids[i]);
		sqlite3_bind_int64(st, 3, pos[i]);
		if (run(c, st, err) < 0)
			return -1;
	}
	return 0;
}

static int fingerprint_row(sqlite3_stmt *st, void *p)
{
	uint64_t *h = p;

	for (int i = 0; i < 5; i++) {
		const void *b = sqlite3_column_text(st, i);
		int n = sqlite3_column_bytes(st, i);

		*h = os_hash_bytes(*h, b ? b : "", (size_t)n);
		*h = os_hash_bytes(*h, "\x1f", 1); /* field separator */
	}
	return 0;
}

int os_catalog_items_fingerprint(struct os_catalog *c, char out[17],
				 struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, ST_ITEMS_BY_ID, err);
	uint64_t h = OS_FNV_OFFSET;

	if (!st || each_row(c, st, fingerprint_row, &h, err) < 0)
		return -1;
	snprintf(out, 17, "%016" PRIx64, os_hash_mix(h));
	return 0;
}

static long count_of(struct os_catalog *c, enum stmt s, struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, s, err);
	long n;

	if (!st)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_error(c, err);
	}
	n = (long)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

int os_catalog_summary(struct os_catalog *c, struct os_catalog_summary *s,
		       struct os_error *err)
{
	if ((s->items = count_of(c, ST_COUNT_ITEMS, err)) < 0 ||
	    (s->vocab = count_of(c, ST_COUNT_VOCAB, err)) < 0 ||
	    (s->keywords = count_of(c, ST_COUNT_KEYWORDS, err)) < 0 ||
	    (s->item_keywords = count_of(c, ST_COUNT_ITEM_KEYWORDS, err)) < 0 ||
	    (s->cot_cache = count_of(c, ST_COUNT_COT, err)) < 0)
		return -1;
	return schema_version(c, &s->schema, err);
}

struct types_ctx {
	int (*fn)(void *ctx, const char *type, long count);
	void *ctx;
};

static int type_row(sqlite3_stmt *st, void *p)
{
	struct types_ctx *tc = p;

	return tc->fn(tc->ctx, column_text(st, 0),
		      (long)sqlite3_column_int64(st, 1));
}

int os_catalog_keyword_types_each(struct os_catalog *c,
				  int (*fn)(void *ctx, const char *type,
					    long count),
				  void *ctx, struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, ST_KEYWORD_TYPES, err);
	struct types_ctx tc = {fn, ctx};

	return st ? each_row(c, st, type_row, &tc, err) : -1;
}

/* A callback on rows of two text columns: an item's id and a text. */
struct item_text_ctx {
	int (*fn)(void *ctx, const char *item, const char *text);
	void *ctx;
};

static int item_text_row(sqlite3_stmt *st, void *p)
{
	struct item_text_ctx *it = p;

	return it->fn(it->ctx, column_text(st, 0), column_text(st, 1));
}

int os_catalog_sids_each(struct os_catalog *c,
			 int (*fn)(void *ctx, const char *item, const char *sid),
			 void *ctx, struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, ST_SIDS_EACH, err);
	struct item_text_ctx it = {fn, ctx};

	return st ? each_row(c, st, item_text_row, &it, err) : -1;
}

int os_catalog_item_keywords_each(struct os_catalog *c, const char *type,
				  int (*fn)(void *ctx, const char *item,
					    const char *text),
				  void *ctx, struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, ST_ITEM_KEYWORDS_OF_TYPE, err);
	struct item_text_ctx it = {fn, ctx};

	if (!st)
		return -1;
	bind_text(st, 1, type);
	return each_row(c, st, item_text_row, &it, err);
}

int os_catalog_sids_clear(struct os_catalog *c, struct os_error *err)
{
	return exec_simple(c, ST_SIDS_CLEAR, err);
}

int os_catalog_sid_set(struct os_catalog *c, long seq, const char *sid,
		       struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, ST_SID_SET, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, seq);
	bind_text(st, 2, sid);
	return run(c, st, err);
}

int os_catalog_codebooks_clear(struct os_catalog *c, struct os_error *err)
{
	return exec_simple(c, ST_CODEBOOKS_CLEAR, err);
}

int os_catalog_codebook_add(struct os_catalog *c, int level, long code,
			    const void *centroid, size_t bytes,
			    struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, ST_CODEBOOK_ADD, err);

	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, level);
	sqlite3_bind_int64(st, 2, code);
	sqlite3_bind_blob(st, 3, centroid, (int)bytes, SQLITE_STATIC);
	return run(c, st, err);
}

struct codebooks_ctx {
	int (*fn)(void *ctx, int level, long code, const void *centroid,
		  size_t bytes);
	void *ctx;
};

static int codebook_row(sqlite3_stmt *st, void *p)
{
	struct codebooks_ctx *cc = p;

	return cc->fn(cc->ctx, sqlite3_column_int(st, 0),
		      (long)sqlite3_column_int64(st, 1),
		      sqlite3_column_blob(st, 2),
		      (size_t)sqlite3_column_bytes(st, 2));
}

int os_catalog_codebooks_each(struct os_catalog *c,
			      int (*fn)(void *ctx, int level, long code,
					const void *centroid, size_t bytes),
			      void *ctx, struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, ST_CODEBOOKS_EACH, err);
	struct codebooks_ctx cc = {fn, ctx};

	return st ? each_row(c, st, codebook_row, &cc, err) : -1;
}

int os_catalog_blob_set(struct os_catalog *c, const char *name,
			const void *data, size_t bytes, struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, ST_BLOB_SET, err);

	if (!st)
		return -1;
	bind_text(st, 1, name);
	sqlite3_bind_blob64(st, 2, data, bytes, SQLITE_STATIC);
	return run(c, st, err);
}

void *os_catalog_blob_get(struct os_catalog *c, const char *name,
			  size_t *bytes, struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, ST_BLOB_GET, err);
	void *copy = NULL;
	int rc;

	os_error_clear(err);
	if (!st)
		return NULL;
	bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*bytes = (size_t)sqlite3_column_bytes(st, 0);
		copy = malloc(*bytes + 1);
		if (copy)
			memcpy(copy, sqlite3_column_blob(st, 0), *bytes);
		else
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	} else if (rc != SQLITE_DONE) {
		db_error(c, err);
	}
	sqlite3_reset(st);
	return copy;
}

char *os_catalog_cot_get(struct os_catalog *c, const char *key,
			 struct os_error *err)
{
	return text_of(c, ST_COT_GET, key, err);
}

int os_catalog_cot_put(struct os_catalog *c, const char *key,
		       const char *backend, const char *cot,
		       struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, ST_COT_PUT, err);

	if (!st)
		return -1;
	bind_text(st, 1, key);
	bind_text(st, 2, backend);
	bind_text(st, 3, cot);
	return run(c, st, err);
}

int os_catalog_cot_clear(struct os_catalog *c, const char *backend,
			 struct os_error *err)
{
	sqlite3_stmt *st = stmt(c, ST_COT_CLEAR, err);

	if (!st)
		return -1;
	bind_text(st, 1, backend);
	return run(c, st, err);
}

struct bm25_ctx {
	int (*fn)(void *ctx, long seq, const char *id, double score);
	void *ctx;
};

static int bm25_row(sqlite3_stmt *st, void *p)
{
	struct bm25_ctx *bc = p;

	return bc->fn(bc->ctx, (long)sqlite3_column_int64(st, 0),
		      column_text(st, 1), sqlite3_column_double(st, 2));
}

/* Writes into c->match the FTS5 query that matches any of `terms`: each
 * a string in double quotes (a quote in it doubled), joined by " OR ".
 * Returns its length, or -1. */
static long bm25_query(struct os_catalog *c, const char *const *terms,
		       size_t nterms, struct os_error *err)
{
	size_t need = 1, n = 0;
	char *q;

	for (size_t i = 0; i < nterms; i++) {
		need += (i ? 4 : 0) + 2;
		for (const char *s = terms[i]; *s; s++)
			need += *s == '"' ? 2 : 1;
	}
	if (need > INT_MAX) {
		os_error_set(err, OS_EXIT_FAILURE,
			     "catalog '%s': a query of %zu bytes is too long",
			     c->path, need);
		return -1;
	}
	q = os_grow(c->match, &c->match_cap, need, 1, 256);
	if (!q) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	c->match = q;
	for (size_t i = 0; i < nterms; i++) {
		if (i) {
			memcpy(q + n, " OR ", 4);
			n += 4;
		}
		q[n++] = '"';
		for (const char *s = terms[i]; *s; s++) {
			if (*s == '"')
				q[n++] = '"';
			q[n++] = *s;
		}
		q[n++] = '"';
	}
	q[n] = '\0';
	return (long)n;
}

int os_catalog_bm25(struct os_catalog *c, const char *const *terms,
		    size_t nterms, size_t k,
		    int (*fn)(void *ctx, long seq, const char *id,
			      double score),
		    void *ctx, struct os_error *err)
{
	struct bm25_ctx bc = {fn, ctx};
	sqlite3_stmt *st;
	long n;

	if (nterms == 0 || k == 0)
		return 0;
	/* reset first: the statement may still hold the buffer's old text */
	if (!(st = stmt(c, ST_BM25, err)) ||
	    (n = bm25_query(c, terms, nterms, err)) < 0)
		return -1;
	sqlite3_bind_text(st, 1, c->match, (int)n, SQLITE_STATIC);
	sqlite3_bind_int64(
		st, 2, (uint64_t)k > INT64_MAX ? INT64_MAX : (sqlite3_int64)k);
	return each_row(c, st, bm25_row, &bc, err);
}
