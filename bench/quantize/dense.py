#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""dense.py ITEMS QUERIES RUN: exact dense retrieval for bench/quantize/quality:
each query's 100 items of highest dot product, as an os-eval run."""
import json, sys, numpy as np
items=[json.loads(l) for l in open(sys.argv[1])]
ids=[i["id"] for i in items]; X=np.array([i["embedding"] for i in items],dtype=np.float32)
with open(sys.argv[3],"w") as out:
    for l in open(sys.argv[2]):
        q=json.loads(l); v=np.array(q["embedding"],dtype=np.float32)
        s=X@v; top=np.argsort(-s)[:100]
        out.write(json.dumps({"qid":q["qid"],"results":[{"id":ids[t],"score":float(s[t])} for t in top]})+"\n")
