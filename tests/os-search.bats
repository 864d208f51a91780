#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# os-search: every result a distinct catalog item with its SID, scores as
# log-probabilities, the same results on any number of threads, BM25 and
# fusion, --explain, the refusals of a model that does not fit, and dense
# retrieval over item vectors (--dense) against a brute force; the
# layer matrices in bfloat16 (--precision bf16).

load helper

setup_file() {
	export PATH="$(os_make_wrappers):$PATH"
	unset OS_CATALOG
	cd "$BATS_FILE_TMPDIR" || return 1
	tiny_shop
	os-distill -q -C t.db -o t.osm --pseudo-queries 0 --dim 32 --heads 2 --ff 64 --layers 2 --buckets 256 \
		--batch 16 --lr 0.003 --warmup 10 --dropout 0 --threads 1 --epochs 100 </dev/null
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	cp "$BATS_FILE_TMPDIR"/{t.db,t.osm,q.jsonl} .
}

@test "every result is a distinct catalog item with its own SID, best first" {
	run os-search -C t.db -m t.osm -k 20 --beam 20 -o run.jsonl q.jsonl
	[ "$status" -eq 0 ]
	sqlite3 t.db "SELECT i.id, s.sid FROM sids s JOIN items i ON i.seq = s.item" >sids.txt
	python3 - <<'PY'
import json, math
sid = dict(l.rstrip("\n").split("|") for l in open("sids.txt"))
queries = [json.loads(l) for l in open("q.jsonl")]
runs = [json.loads(l) for l in open("run.jsonl")]
assert [r["qid"] for r in runs] == [q["qid"] for q in queries]
for r in runs:
    res = r["results"]
    assert len(res) == 20, r
    ids = [x["id"] for x in res]
    assert len(set(ids)) == len(ids), ids
    for i, x in enumerate(res):
        assert ",".join(map(str, x["sid"])) == sid[x["id"]], x
        assert x["rank"] == i + 1 and x["score"] <= 0
    scores = [x["score"] for x in res]
    assert scores == sorted(scores, reverse=True)
    assert math.fsum(math.exp(s) for s in scores) <= 1 + 1e-5
PY
}

@test "with a beam as wide as the catalog the items' probabilities sum to 1" {
	os-search -C t.db -m t.osm -k 40 --beam 40 --query "acme red drill" >run.jsonl
	python3 -c '
import json, math
r = json.loads(open("run.jsonl").readline())
assert len(r["results"]) == 40
total = math.fsum(math.exp(x["score"]) for x in r["results"])
assert abs(total - 1) < 1e-3, total'
}

@test "--precision bf16: every item found, scores close to fp32's; an unknown precision is refused" {
	os-search -C t.db -m t.osm -k 40 --beam 40 q.jsonl >fp32.jsonl
	os-search -C t.db -m t.osm -k 40 --beam 40 --precision bf16 q.jsonl >bf16.jsonl
	python3 - <<'PY'
import json
a = [json.loads(l) for l in open("fp32.jsonl")]
b = [json.loads(l) for l in open("bf16.jsonl")]
assert [r["qid"] for r in a] == [r["qid"] for r in b]
rounded = False
for x, y in zip(a, b):
    sx = {r["id"]: r["score"] for r in x["results"]}
    sy = {r["id"]: r["score"] for r in y["results"]}
    assert set(sx) == set(sy) and len(sx) == 40
    assert x["results"][0]["id"] == y["results"][0]["id"], (x, y)
    assert abs(sx[x["results"][0]["id"]] - sy[x["results"][0]["id"]]) < 0.05
    rounded |= sx != sy
assert rounded, "bf16 gave fp32's scores exactly"
PY
	run os-search -C t.db -m t.osm --precision fp16 --query drill
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid --precision value 'fp16' (known: fp32, bf16)"* ]]
}

@test "--fuse and --fusion name the words they know" {
	run os-search -C t.db -m t.osm --fuse dense --query drill
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid --fuse value 'dense' (known: bm25)"* ]]
	run os-search -C t.db -m t.osm --fuse bm25 --fusion max --query drill
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid --fusion value 'max' (known: rrf, score)"* ]]
}

@test "results do not depend on the number of threads" {
	os-search -C t.db -m t.osm --threads 1 q.jsonl >one.jsonl
	os-search -C t.db -m t.osm --threads 2 q.jsonl >two.jsonl
	cmp one.jsonl two.jsonl
}

@test "a query's words find its item first, with the model and with BM25" {
	for mode in "-m t.osm" "--bm25" "-m t.osm --fuse bm25" "-m t.osm --fuse bm25 --fusion score"; do
		os-search -C t.db $mode -k 5 q.jsonl >run.jsonl
		run os-eval --qrels q.jsonl -k 1 run.jsonl
		[ "$status" -eq 0 ]
		echo "$mode: $output"
		python3 -c 'import json, sys; m = json.load(sys.stdin)["runs"][0]["metrics"]; assert m["recall@1"] >= 0.9, m' <<<"$output"
	done
}

@test "--bm25 needs no model and writes no SIDs; fusion keeps only items of the two lists" {
	os-search -C t.db --bm25 -k 3 --query "blue saw" >bm25.jsonl
	python3 -c '
import json
r = json.loads(open("bm25.jsonl").readline())
assert r["qid"] == "1" and r["query"] == "blue saw"
assert all(set(x) == {"id", "score", "rank"} for x in r["results"]), r'
	os-search -C t.db -m t.osm -k 20 --query "blue saw" >model.jsonl
	os-search -C t.db --bm25 -k 100 --query "blue saw" >all.jsonl
	os-search -C t.db -m t.osm --fuse bm25 -k 20 --query "blue saw" >fused.jsonl
	python3 -c '
import json
ids = lambda f: [x["id"] for x in json.loads(open(f).readline())["results"]]
assert set(ids("fused.jsonl")) <= set(ids("model.jsonl")) | set(ids("all.jsonl"))'
}

@test "--explain shows the levels, the beams and the titles" {
	run os-search -C t.db -m t.osm --explain -k 3 --query "acme red drilll"
	[ "$status" -eq 0 ]
	[[ "$output" == *"query: acme red drilll"* ]]
	[[ "$output" == *"tokens (? unknown to the model): acme red drilll?"* ]]
	[[ "$output" == *"level 1, most likely codes before the trie:"* ]]
	[[ "$output" == *"level 2 beams (prefix, log p of the code, score):"* ]]
	[[ "$output" == *"results:"* ]]
	[[ "$output" == *" red "* ]]
}

@test "--explain lists the ten likeliest first-level codes of sixteen, best first" {
	os-tokenize -q -C w.db "$FIXTURES/tiny-shop.jsonl" | os-quantize -q -C w.db --levels 16,4 >/dev/null
	os-distill -q -C w.db -o w.osm --pseudo-queries 0 --dim 16 --heads 2 --ff 32 --layers 1 \
		--buckets 64 --batch 16 --epochs 5 --threads 1 </dev/null
	os-search -C w.db -m w.osm --explain -k 3 --query "acme red drill" >explain.txt
	python3 - <<'PY'
import re
text = open("explain.txt").read()
block = text.split("level 1, most likely codes before the trie:\n")[1]
rows = [re.match(r"\s+(\d+)\s+p=([0-9.]+)$", line) for line in block.splitlines()[:11]]
listed = [(int(m[1]), float(m[2])) for m in rows if m]
assert len(listed) == 10, listed
codes = [c for c, _ in listed]
assert len(set(codes)) == 10 and all(c < 16 for c in codes), codes
assert all(a[1] >= b[1] for a, b in zip(listed, listed[1:])), listed
PY
}

@test "a model trained against other codebooks is refused" {
	other_codebooks other.db
	run os-search -C other.db -m t.osm --query drill
	[ "$status" -eq 1 ]
	[[ "$output" == *"os-search: t.osm: the model was trained against other codebooks"* ]]
}

@test "a truncated, a corrupted and a foreign model file are refused" {
	head -c 5000 t.osm >cut.osm
	run os-search -C t.db -m cut.osm --query drill
	[ "$status" -eq 1 ]
	[[ "$output" == *"os-search: cut.osm: checksum mismatch: the file is truncated or corrupted"* ]]
	python3 -c '
import sys
b = bytearray(open("t.osm", "rb").read())
b[len(b) // 2] ^= 4
open("flip.osm", "wb").write(b)'
	run os-search -C t.db -m flip.osm --query drill
	[ "$status" -eq 1 ]
	[[ "$output" == *"checksum mismatch"* ]]
	run os-search -C t.db -m q.jsonl --query drill
	[ "$status" -eq 1 ]
	[[ "$output" == *"os-search: q.jsonl: not a onesearch model (bad magic)"* ]]
	run os-search -C t.db -m . --query drill
	[ "$status" -eq 1 ]
	[[ "$output" == *"os-search: cannot read '.': Is a directory"* ]]
	run os-search -C t.db -m missing.osm --query drill
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot open 'missing.osm': No such file or directory"* ]]
}

@test "a catalog without SIDs is refused; BM25 works on it" {
	os-tokenize -q -C plain.db "$FIXTURES/tiny-shop.jsonl" >/dev/null
	run os-search -C plain.db -m t.osm --query drill
	[ "$status" -eq 1 ]
	[[ "$output" == *"the catalog has no SIDs (run os-quantize first)"* ]]
	run os-search -C plain.db --bm25 --query drill
	[ "$status" -eq 0 ]
	[[ "$output" == *'"results":[{"id":'* ]]
}

@test "a bad query record exits 3 naming its line; usage errors exit 2" {
	printf '%s\n' '{"qid":"a","query":"drill"}' '{"qid":"b"}' >bad.jsonl
	run os-search -C t.db -m t.osm -o out.jsonl bad.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == *"os-search: bad.jsonl:2: missing field 'query'"* ]]
	[ ! -e out.jsonl ]
	run os-search -C t.db -m t.osm -k 30 --beam 20 --query x
	[ "$status" -eq 2 ]
	[[ "$output" == *"-k (30) cannot exceed --beam (20)"* ]]
	run os-search -C t.db --query x
	[ "$status" -eq 2 ]
	[[ "$output" == *"no model: give -m MODEL (or --bm25, or --dense VECTORS)"* ]]
	run os-search -C t.db --bm25 -m t.osm --query x
	[ "$status" -eq 2 ]
}

@test "--dense ranks by the dot product with the item vectors, as a brute force does" {
	cp t.db d.db
	os-tokenize -q -C d.db --train-encoder q.jsonl --encoder-dim 16 --encoder-epochs 3 \
		--encoder-buckets 256
	# the shop's own 4-value vectors left out: the encoder's instead
	jq -c 'del(.embedding)' "$FIXTURES/tiny-shop.jsonl" |
		os-tokenize -q -C d.db --no-mine --emit embedding >vec.jsonl
	os-tokenize -q -C d.db --queries --emit embedding q.jsonl >qv.jsonl
	# vectors of another encoder serve only queries that bring their own
	run os-search -C d.db --dense "$FIXTURES/tiny-shop.jsonl" --query x
	[ "$status" -eq 1 ]
	[[ "$output" == *"the catalog's encoder makes vectors of 16 values, the items' have 4"* ]]
	os-search -C d.db --dense vec.jsonl -k 5 --threads 1 q.jsonl >run.jsonl
	os-search -C d.db --dense vec.jsonl -k 5 --threads 2 q.jsonl >two.jsonl
	cmp run.jsonl two.jsonl
	# queries that bring their vectors (the same ones here) are searched with them
	os-search -C d.db --dense vec.jsonl -k 5 qv.jsonl >own.jsonl
	python3 - <<'PY'
import json
items = [json.loads(l) for l in open("vec.jsonl")]
queries = [json.loads(l) for l in open("qv.jsonl")]
for name in ("run.jsonl", "own.jsonl"):
    runs = [json.loads(l) for l in open(name)]
    assert [r["qid"] for r in runs] == [q["qid"] for q in queries]
    for q, r in zip(queries, runs):
        scored = sorted(((-sum(a * b for a, b in zip(i["embedding"], q["embedding"])), n, i["id"])
                         for n, i in enumerate(items)))[:5]
        got = r["results"]
        assert all(set(x) == {"id", "score", "rank"} for x in got), got
        assert [x["rank"] for x in got] == [1, 2, 3, 4, 5]
        for (s, _, i), x in zip(scored, got):
            assert abs(-s - x["score"]) < 1e-5, (q["qid"], s, x)
        # the same items, apart from near-ties the float sums order otherwise
        assert [i for _, _, i in scored] == [x["id"] for x in got] or \
            abs(scored[4][0] - scored[3][0]) < 1e-5, (q["qid"], scored, got)
PY
	run os-eval --qrels q.jsonl -k 1 run.jsonl
	python3 -c 'import json, sys; m = json.load(sys.stdin)["runs"][0]["metrics"]; assert m["recall@1"] >= 0.9, m' <<<"$output"
	# fused with BM25: items of the two lists only
	os-search -C d.db --dense vec.jsonl -k 100 --query "blue saw" >dense.jsonl
	os-search -C d.db --bm25 -k 100 --query "blue saw" >bm25.jsonl
	os-search -C d.db --dense vec.jsonl --fuse bm25 -k 20 --query "blue saw" >fused.jsonl
	python3 -c '
import json
ids = lambda f: [x["id"] for x in json.loads(open(f).readline())["results"]]
assert len(ids("fused.jsonl")) == 20
assert set(ids("fused.jsonl")) <= set(ids("dense.jsonl")) | set(ids("bm25.jsonl"))'
}

@test "--dense: bad vectors and queries are refused, naming the line" {
	cp t.db d.db
	printf '%s\n' '{"id":"a","embedding":[1,0]}' '{"id":"b","embedding":[0,1]}' >v.jsonl
	run os-search -C d.db --dense v.jsonl -o out.jsonl --query x
	[ "$status" -eq 1 ]
	[[ "$output" == *'a query without "embedding", and the catalog has no encoder'* ]]
	[ ! -e out.jsonl ]
	run bash -c "echo '{\"qid\":\"1\",\"query\":\"x\",\"embedding\":[0.2,0.9]}' | os-search -C d.db --dense v.jsonl -k 1"
	[ "$status" -eq 0 ]
	[[ "$output" == '{"qid":"1","query":"x","results":[{"id":"b","score":0.9,"rank":1}]}' ]]
	run bash -c "echo '{\"qid\":\"1\",\"query\":\"x\",\"embedding\":[1,2,3]}' | os-search -C d.db --dense v.jsonl"
	[ "$status" -eq 3 ]
	[[ "$output" == *"os-search: -:1: embedding has 3 values, expected 2"* ]]
	printf '%s\n' '{"id":"a","embedding":[1,0]}' '{"id":"a","embedding":[0,1]}' >dup.jsonl
	printf '%s\n' '{"id":"a","embedding":[1,0]}' '{"id":"b","embedding":[0,1,1]}' >mixed.jsonl
	printf '%s\n' '{"id":"a","embedding":[1,"x"]}' >nan.jsonl
	printf '%s\n' '{"id":"a"}' >none.jsonl
	: >empty.jsonl
	for f in dup:"dup.jsonl:2: item 'a' is given twice (first at line 1)" \
		mixed:"mixed.jsonl:2: embedding has 3 values, expected 2" \
		nan:"nan.jsonl:1: embedding value 2 is not a finite number" \
		none:"none.jsonl:1: field 'embedding' must be a non-empty array of numbers" \
		empty:"empty.jsonl: no item vectors"; do
		run os-search -C d.db --dense "${f%%:*}.jsonl" -o out.jsonl --query x
		echo "$output"
		[ "$status" -eq 3 ]
		[[ "$output" == *"os-search: ${f#*:}"* ]]
		[ ! -e out.jsonl ]
	done
	for bad in "-m t.osm" "--bm25" "--explain" "--with-cot"; do
		run os-search -C d.db --dense v.jsonl $bad --query x
		[ "$status" -eq 2 ]
	done
	run os-search -C d.db --dense v.jsonl -m t.osm --query x
	[[ "$output" == *"give -m MODEL or --dense VECTORS, not both"* ]]
}
