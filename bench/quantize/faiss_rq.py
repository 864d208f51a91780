#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""faiss_rq.py: the peer of os-quantize for bench/quantize/run: residual
k-means with faiss.Kmeans, one level after another on the residuals, the
same levels, iterations and points per centroid; prints its training time
and the mean squared residual after each level as one JSON line.

Usage: faiss_rq.py VECTORS.npy K1,K2,... ITERATIONS THREADS
"""
import json
import sys
import time

import faiss
import numpy as np


def main(path, levels, iterations, threads):
    x = np.load(path).astype(np.float32)
    faiss.omp_set_num_threads(int(threads))
    r = x.copy()
    errors = []
    start = time.perf_counter()
    for level, k in enumerate(int(v) for v in levels.split(",")):
        km = faiss.Kmeans(x.shape[1], k, niter=int(iterations), seed=1 + level,
                          max_points_per_centroid=256, verbose=False)
        km.train(r)
        _, assign = km.index.search(r, 1)
        r -= km.centroids[assign[:, 0]]
        errors.append(float(np.mean(np.sum(r.astype(np.float64) ** 2, axis=1))))
    print(json.dumps({"seconds": round(time.perf_counter() - start, 3), "errors": errors}))


if __name__ == "__main__":
    main(*sys.argv[1:])
