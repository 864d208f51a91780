#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bm25.py CATALOG QUERIES RUN: the BM25 baseline of the Home Depot README
(SQLite FTS5, porter unicode61, query words OR-ed), 100 results a query."""
import json, re, sqlite3, sys
catalog, queries, out = sys.argv[1:]
db = sqlite3.connect(":memory:")
db.execute("CREATE VIRTUAL TABLE t USING fts5(id UNINDEXED, title, tokenize='porter unicode61')")
with open(catalog) as f:
    db.executemany("INSERT INTO t VALUES (?, ?)", ((r["id"], r["title"]) for r in map(json.loads, f)))
with open(queries) as f, open(out, "w") as o:
    for q in map(json.loads, f):
        words = re.findall(r"\w+", q["query"])
        rows = db.execute("SELECT id, -bm25(t) FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT 100",
                          (" OR ".join('"%s"' % w for w in words),)).fetchall() if words else []
        o.write(json.dumps({"qid": q["qid"], "results": [{"id": i, "score": s} for i, s in rows]}) + "\n")
