#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""peer.py: Recall@10, MRR@10 and NDCG@10 of a TREC run against TREC qrels,
in plain Python, the way os-eval computes them (trec_eval's ordering: score
descending, equal scores by docno descending; a repeated docno counts once;
NDCG gain 2^grade - 1 with trec_eval's ndcg_cut discount; relevant: grade
>= 1; averages over every judged query, a missing one scoring 0).

Usage: peer.py QRELS RUN    prints {"recall@10", "mrr@10", "ndcg@10", "seconds"}
"""
import json
import math
import sys
import time

K = 10


def main(qrels_path, run_path):
    start = time.perf_counter()
    judged = {}
    with open(qrels_path) as f:
        for line in f:
            qid, _, doc, grade = line.split()
            judged.setdefault(qid, {})[doc] = float(grade)
    runs = {}
    with open(run_path) as f:
        for line in f:
            qid, _, doc, _rank, score, _tag = line.split()
            runs.setdefault(qid, []).append((float(score), doc))
    recall = mrr = ndcg = 0.0
    for qid, grades in judged.items():
        num_rel = sum(1 for g in grades.values() if g >= 1)
        ideal = sorted((2 ** g - 1 for g in grades.values() if g > 0), reverse=True)
        results = runs.get(qid, [])
        # score descending, then docno descending
        results.sort(key=lambda r: r[1], reverse=True)
        results.sort(key=lambda r: r[0], reverse=True)
        seen, ranked = set(), []
        for _, doc in results:
            if doc not in seen:
                seen.add(doc)
                ranked.append(doc)
        top = ranked[:K]
        hits = [grades.get(doc, 0) for doc in top]
        if num_rel:
            recall += sum(1 for g in hits if g >= 1) / num_rel
        for rank, g in enumerate(hits, 1):
            if g >= 1:
                mrr += 1 / rank
                break
        disc = [1.0] + [1 / math.log2(r) for r in range(2, K + 1)]
        dcg = sum((2 ** g - 1) * disc[i] for i, g in enumerate(hits) if g > 0)
        idcg = sum(g * disc[i] for i, g in enumerate(ideal[:K]))
        if idcg > 0:
            ndcg += dcg / idcg
    n = len(judged)
    print(json.dumps({"recall@10": round(recall / n, 6), "mrr@10": round(mrr / n, 6),
                      "ndcg@10": round(ndcg / n, 6),
                      "seconds": round(time.perf_counter() - start, 3)}))


if __name__ == "__main__":
    main(*sys.argv[1:])
