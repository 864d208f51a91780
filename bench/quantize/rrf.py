#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""rrf.py RUN_A RUN_B RUN: reciprocal rank fusion (k = 60) of two runs."""
import json, sys
k = 60
a = {r["qid"]: r["results"] for r in map(json.loads, open(sys.argv[1]))}
b = {r["qid"]: r["results"] for r in map(json.loads, open(sys.argv[2]))}
with open(sys.argv[3], "w") as o:
    for qid in a.keys() | b.keys():
        s = {}
        for lst in (a.get(qid, []), b.get(qid, [])):
            for rank, r in enumerate(lst, 1):
                s[r["id"]] = s.get(r["id"], 0) + 1 / (k + rank)
        top = sorted(s.items(), key=lambda x: -x[1])[:100]
        o.write(json.dumps({"qid": qid, "results": [{"id": i, "score": v} for i, v in top]}) + "\n")
