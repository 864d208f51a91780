#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vectors.py: the vectors of bench/quantize/run, as VECTORS.npy and as
item records with "embedding" for os-quantize (and items.jsonl to ingest).

  vectors.py catalog CATALOG.jsonl OUTDIR   the Home Depot titles: hashed
      words and character trigrams, projected to 128 dimensions by a fixed
      random Gaussian matrix, scaled to length 1
  vectors.py synthetic N OUTDIR             N points around 2,000 centers in
      128 dimensions, scaled to length 1
"""
import json
import re
import sys
import zlib

import numpy as np

DIM, BUCKETS = 128, 1 << 18


def features(title):
    words = re.findall(r"\w+", title.lower())
    grams = [w for w in words] + [w[i:i + 3] for w in words for i in range(max(1, len(w) - 2))]
    return [zlib.crc32(g.encode()) % BUCKETS for g in grams]


def save(outdir, ids, titles, x):
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    x = x.astype(np.float32)
    np.save(f"{outdir}/vectors.npy", x)
    with open(f"{outdir}/items.jsonl", "w") as items, open(f"{outdir}/vectors.jsonl", "w") as vec:
        for i, t, v in zip(ids, titles, x):
            items.write(json.dumps({"id": i, "title": t}) + "\n")
            vec.write(json.dumps({"id": i, "embedding": [float(f"{a:.6g}") for a in v]}) + "\n")


def main(kind, arg, outdir):
    rng = np.random.default_rng(7)
    if kind == "catalog":
        rows = [json.loads(line) for line in open(arg)]
        proj = rng.standard_normal((BUCKETS, DIM), dtype=np.float32)
        x = np.zeros((len(rows), DIM), dtype=np.float32)
        for n, r in enumerate(rows):
            x[n] = proj[features(r["title"])].sum(axis=0)
        save(outdir, [r["id"] for r in rows], [r["title"] for r in rows], x)
    else:
        n = int(arg)
        centers = rng.standard_normal((2000, DIM), dtype=np.float32)
        x = centers[rng.integers(0, 2000, n)] + 0.3 * rng.standard_normal((n, DIM), dtype=np.float32)
        save(outdir, [f"s{i}" for i in range(n)], [f"synthetic {i}" for i in range(n)], x)


if __name__ == "__main__":
    main(*sys.argv[1:])
