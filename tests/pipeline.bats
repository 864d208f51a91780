#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The whole pipeline on the sample shop, small and fast: ingest, encoder,
# SIDs, a generative model trained on the titles, search, evaluation. Each
# stage's output must be well-formed, and the model's Recall@10 on the
# judged sample queries must beat a random ranking by a wide margin.

load helper

@test "sample shop: tokenize, encode, quantize, distill, search, evaluate" {
	items="$OS_SRCDIR/share/sample/items.jsonl"
	queries="$OS_SRCDIR/share/sample/queries.jsonl"
	export OS_CATALOG="$PWD/shop.db"
	os-tokenize -q "$items" -o items.jsonl
	[ "$(wc -l <items.jsonl)" -eq 600 ]
	os-tokenize -q --train-encoder "$queries" --encoder-dim 32 --encoder-epochs 3
	os-tokenize -q --no-mine --emit embedding "$items" | os-quantize -q -o sid.jsonl
	python3 - <<'PY'
import json
sids = [tuple(json.loads(l)["sid"]) for l in open("sid.jsonl")]
assert len(sids) == 600 and len(set(sids)) == 600, "every item has its own SID"
PY
	os-distill -q -o shop.osm --dim 64 --heads 4 --ff 256 --layers 2 --buckets 4096 \
		--batch 64 --epochs 15 --lr 0.003 --warmup 10 --pseudo-queries 1 </dev/null
	os-search -m shop.osm "$queries" -o run.jsonl
	[ "$(wc -l <run.jsonl)" -eq 60 ]
	python3 - "$OS_SRCDIR/share/sample/items.jsonl" <<'PY'
import json, random, sys
ids = [json.loads(l)["id"] for l in open(sys.argv[1])]
rng = random.Random(1)
with open("random.jsonl", "w") as out:
    for q in map(json.loads, open(sys.argv[1].replace("items", "queries"))):
        pick = rng.sample(ids, 10)
        out.write(json.dumps({"qid": q["qid"], "results": [{"id": i, "score": -r} for r, i in enumerate(pick)]}) + "\n")
PY
	os-eval --qrels "$queries" -k 10 run.jsonl random.jsonl >eval.json
	python3 - <<'PY'
import json
runs = {r["run"]: r for r in json.load(open("eval.json"))["runs"]}
model = runs["run.jsonl"]["metrics"]["recall@10"]
rand = runs["random.jsonl"]["metrics"]["recall@10"]
print("model", model, "random", rand)
assert runs["run.jsonl"]["queries"]["evaluated"] == 60
assert model > 0.15 and model > 5 * rand, (model, rand)
PY
}
