#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""sid_meaning.py CATALOG.db QUERIES: for queries with 2 or more relevant
items, the share of pairs of relevant items whose SIDs share the level-1
code, against the same share with the SIDs shuffled over the items."""
import itertools
import json
import random
import sqlite3
import sys

db = sqlite3.connect(sys.argv[1])
sid = dict(db.execute("SELECT items.id, sids.sid FROM sids JOIN items ON seq = item"))
first = {i: s.split(",")[0] for i, s in sid.items()}
shuffled = list(first.values())
random.Random(1).shuffle(shuffled)
rand = dict(zip(first.keys(), shuffled))
same = same_rand = pairs = 0
for q in map(json.loads, open(sys.argv[2])):
    rel = [i for i in q.get("relevant", []) if i in first]
    for a, b in itertools.combinations(rel, 2):
        pairs += 1
        same += first[a] == first[b]
        same_rand += rand[a] == rand[b]
print(json.dumps({"pairs": pairs, "same_level1": round(same / pairs, 4),
                  "same_level1_random": round(same_rand / pairs, 4),
                  "ratio": round(same / max(same_rand, 1), 1)}))
