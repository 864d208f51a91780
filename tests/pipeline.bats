#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The whole pipeline of bin/demo on a tiny shop made by share/sample/generate,
# small and fast: ingest, encoder, SIDs, CoT, a generative model trained on
# the titles and the train period's clicks and then distilled, search,
# evaluation. Each stage's output must be well-formed, and the model's
# Recall@10 on the test period's judged queries must beat a random ranking
# by a wide margin. A second test runs every program and stage once more
# at toy size (a few training steps, no claim on quality): that one is
# small enough for valgrind (bench/valgrind/run), where the first is
# skipped.

load helper

@test "tiny shop: tokenize, encode, quantize, cot, sft, distill, search, evaluate" {
	if [ -n "${OS_VALGRIND:-}" ]; then
		skip "its training takes hours under valgrind; the toy pipeline runs there"
	fi
	"$OS_SRCDIR/share/sample/generate" --seed 2 --items 400 --users 40 --out shop
	export OS_CATALOG="$PWD/shop.db"
	os-tokenize -q shop/items.jsonl -o items.jsonl
	[ "$(wc -l <items.jsonl)" -eq 400 ]
	os-tokenize -q --train-encoder shop/train.jsonl --encoder-dim 32 --encoder-epochs 3
	os-tokenize -q --no-mine --emit embedding shop/items.jsonl | os-quantize -q -o sid.jsonl
	os-cot -q --train shop/train.jsonl shop/train.jsonl -o train.cot.jsonl
	os-cot -q --train shop/train.jsonl shop/test.jsonl -o test.cot.jsonl
	python3 - <<'PY'
import json
sids = [tuple(json.loads(l)["sid"]) for l in open("sid.jsonl")]
assert len(sids) == 400 and len(set(sids)) == 400, "every item has its own SID"
for name in ("train", "test"):
    queries = [json.loads(l) for l in open(f"shop/{name}.jsonl")]
    cots = [json.loads(l) for l in open(f"{name}.cot.jsonl")]
    assert [q["qid"] for q in queries] == [c["qid"] for c in cots]
    assert all(c["cot"]["backend"] == "stats" and len(c["cot"]["keywords"]) <= 8 for c in cots)
    negated = [c for c in cots if " without " in c["query"]]
    assert negated and all(c["cot"]["negative"] for c in negated), "negations are found"
PY
	os-distill -q -o shop.osm --dim 64 --heads 4 --ff 256 --layers 2 --buckets 4096 \
		--batch 64 --epochs 12 --lr 0.003 --warmup 10 --pseudo-queries 1 shop/train.jsonl
	os-distill -q -o distill.osm --stage distill --init shop.osm --batch 64 --epochs 1 \
		--lr 0.0005 --warmup 5 --pseudo-queries 1 train.cot.jsonl
	for m in shop distill; do
		os-search -m $m.osm shop/test.jsonl -o $m.run.jsonl
		[ "$(wc -l <$m.run.jsonl)" -eq "$(wc -l <shop/test.jsonl)" ]
	done
	python3 - <<'PY'
import json, random
ids = [json.loads(l)["id"] for l in open("shop/items.jsonl")]
rng = random.Random(1)
with open("random.jsonl", "w") as out:
    for q in map(json.loads, open("shop/test.jsonl")):
        pick = rng.sample(ids, 10)
        out.write(json.dumps({"qid": q["qid"], "results": [{"id": i, "score": -r} for r, i in enumerate(pick)]}) + "\n")
PY
	os-eval --qrels shop/test.jsonl --min-grade 2 -k 10 shop.run.jsonl distill.run.jsonl \
		random.jsonl >eval.json
	python3 - <<'PY'
import json
runs = {r["run"]: r for r in json.load(open("eval.json"))["runs"]}
rand = runs["random.jsonl"]["metrics"]["recall@10"]
judged = sum(1 for _ in open("shop/test.jsonl"))
for name in ("shop.run.jsonl", "distill.run.jsonl"):
    model = runs[name]["metrics"]["recall@10"]
    print(name, model, "random", rand)
    assert runs[name]["queries"]["evaluated"] == judged
    assert model > 0.1 and model > 4 * rand, (name, model, rand)
PY
}

@test "toy size: every program and stage once, outputs well-formed" {
	"$OS_SRCDIR/share/sample/generate" --seed 3 --items 192 --users 6 --sessions 2 --out shop
	export OS_CATALOG="$PWD/shop.db"
	os-tokenize -q shop/items.jsonl -o items.jsonl
	os-tokenize -q --train-encoder shop/train.jsonl --encoder-dim 8 --encoder-epochs 1
	os-tokenize -q --no-mine --emit embedding shop/items.jsonl -o items.vec.jsonl
	os-quantize -q --levels 4,4 items.vec.jsonl -o sid.jsonl
	os-cot -q --train shop/train.jsonl shop/train.jsonl -o train.cot.jsonl
	os-cot -q --train shop/train.jsonl shop/test.jsonl -o test.cot.jsonl
	os-distill -q -o sft.osm --dim 16 --heads 2 --ff 32 --layers 1 --buckets 256 \
		--batch 16 --steps 2 --warmup 1 --valid shop/valid.jsonl --log sft.log shop/train.jsonl
	os-distill -q -o distill.osm --stage distill --init sft.osm --batch 8 --steps 2 \
		--warmup 1 train.cot.jsonl
	os-distill -q -o align.osm --stage align --init distill.osm --batch 2 --group 4 \
		--steps 2 --warmup 1 shop/feedback.jsonl
	os-search -q -m align.osm -k 5 --beam 5 shop/test.jsonl -o align.run.jsonl
	os-search -q -m distill.osm --explain -k 3 --beam 4 --query "grill without side burner" >explain.txt
	os-search -q --bm25 -k 5 shop/test.jsonl -o bm25.run.jsonl
	os-search -q --dense items.vec.jsonl -k 5 shop/test.jsonl -o dense.run.jsonl
	os-search -q -m sft.osm -k 5 --beam 5 --fuse bm25 shop/test.jsonl -o fused.run.jsonl
	os-eval -q --qrels shop/test.jsonl -C shop.db -k 1,5 --per-query --svg eval.svg \
		align.run.jsonl bm25.run.jsonl dense.run.jsonl fused.run.jsonl -o eval.json
	grep -q '^results' explain.txt
	python3 - <<'PY'
import json
import xml.etree.ElementTree as ET
items = {json.loads(l)["id"] for l in open("shop/items.jsonl")}
assert {json.loads(l)["id"] for l in open("items.jsonl")} == items
sids = [tuple(json.loads(l)["sid"]) for l in open("sid.jsonl")]
assert len(sids) == len(items) == len(set(sids)), "every item has its own SID"
for name in ("train", "test"):
    qids = [json.loads(l)["qid"] for l in open(f"shop/{name}.jsonl")]
    assert qids == [json.loads(l)["qid"] for l in open(f"{name}.cot.jsonl")]
steps = [json.loads(l) for l in open("sft.log")]
assert any("loss" in s for s in steps) and any("valid_recall@10" in s for s in steps)
test = [json.loads(l)["qid"] for l in open("shop/test.jsonl")]
for run in ("align", "bm25", "dense", "fused"):
    lines = [json.loads(l) for l in open(f"{run}.run.jsonl")]
    assert [r["qid"] for r in lines] == test, run
    for r in lines:
        ids = [x["id"] for x in r["results"]]
        assert 0 < len(ids) <= 5 and len(set(ids)) == len(ids) and set(ids) <= items, run
*per_query, summary = [json.loads(l) for l in open("eval.json")]
assert len(per_query) == 4 * len(test)
assert [r["run"] for r in summary["runs"]] == ["align.run.jsonl", "bm25.run.jsonl", "dense.run.jsonl", "fused.run.jsonl"]
assert len(summary["comparisons"]) == 3
ET.parse("eval.svg")
PY
}
