#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# os-quantize: clusters recovered, unique SIDs, determinism, --assign
# keeping old SIDs, the catalog's state after bad input and after a kill.

load helper

# N items in C well-separated Gaussian clusters of D dimensions: items.jsonl
# (ingest) and vec.jsonl (id, embedding, cluster).
make_clusters() {
	python3 - "$@" <<'PY'
import json, random, sys
n, c, d, seed, first = map(int, sys.argv[1:6])
rng = random.Random(seed)
rng2 = random.Random(1)
centers = [[rng2.gauss(0, 10) for _ in range(d)] for _ in range(c)]
with open("items.jsonl", "a") as items, open("vec.jsonl", "w") as vec:
    for i in range(first, first + n):
        k = i % c
        v = [round(x + rng.gauss(0, 0.05), 6) for x in centers[k]]
        items.write(json.dumps({"id": "i%d" % i, "title": "item %d" % i}) + "\n")
        vec.write(json.dumps({"id": "i%d" % i, "cluster": k, "embedding": v}) + "\n")
PY
}

sids() { sqlite3 "$1" 'SELECT group_concat(sid, " ") FROM (SELECT sid FROM sids ORDER BY item)'; }

@test "clusters are recovered at level 1 and every SID is unique" {
	make_clusters 300 5 12 3 0
	os-tokenize -q -C shop.db items.jsonl >/dev/null
	run os-quantize -C shop.db --levels 5,4,4 --no-normalize -o out.jsonl vec.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *"level 1: 5 codes, 5 used, perplexity 5.0"* ]]
	[[ "$output" == *"300 items: "*"% with a unique SID before disambiguation (ICR), largest bucket "* ]]
	python3 - <<'PY'
import json
rows = [json.loads(l) for l in open("out.jsonl")]
by_cluster = {}
for r in rows:
    by_cluster.setdefault(r["cluster"], set()).add(r["sid"][0])
assert all(len(v) == 1 for v in by_cluster.values()), by_cluster
assert len({c for v in by_cluster.values() for c in v}) == 5
assert len({tuple(r["sid"]) for r in rows}) == len(rows) == 300
assert all(len(r["sid"]) == 4 for r in rows)
PY
	[ "$(sqlite3 shop.db 'SELECT count(*), count(DISTINCT sid) FROM sids')" = "300|300" ]
	[ "$(sqlite3 shop.db 'SELECT count(*) FROM codebooks')" -eq 13 ]
	[ "$(sqlite3 shop.db "SELECT value FROM meta WHERE key = 'sid_levels'")" = 5,4,4 ]
	[ -n "$(sqlite3 shop.db "SELECT value FROM meta WHERE key = 'sid_fingerprint'")" ]
}

@test "the same seed gives the same SIDs, with any thread count" {
	make_clusters 400 7 8 5 0
	os-tokenize -q -C a.db items.jsonl >/dev/null
	cp a.db b.db
	os-quantize -q -C a.db --levels 8,8 --seed 3 --threads 1 vec.jsonl >a.out
	os-quantize -q -C b.db --levels 8,8 --seed 3 --threads 2 vec.jsonl >b.out
	cmp a.out b.out
	[ "$(sids a.db)" = "$(sids b.db)" ]
	# default levels for 400 items: 3 levels of 8 (400^(1/3) = 7.4)
	run os-quantize -C a.db vec.jsonl
	[[ "$output" == *"level 3: 8 codes"* ]]
}

@test "--assign gives new items SIDs and changes no old one" {
	make_clusters 200 4 8 1 0
	os-tokenize -q -C shop.db items.jsonl >/dev/null
	os-quantize -q -C shop.db --levels 4,4 vec.jsonl >/dev/null
	sqlite3 shop.db "SELECT value FROM meta WHERE key = 'sid_fingerprint'" >fp.txt
	before=$(sids shop.db)
	make_clusters 30 4 8 2 200
	os-tokenize -q -C shop.db --no-mine items.jsonl >/dev/null
	run os-quantize -C shop.db --assign vec.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *"30 items: 30 new SIDs, 0 kept"* ]]
	[ "$(sqlite3 shop.db 'SELECT count(*), count(DISTINCT sid) FROM sids')" = "230|230" ]
	after=$(sids shop.db)
	[ "${after:0:${#before}}" = "$before" ]
	# an item that has a SID keeps it, and the record says so
	head -n 1 vec.jsonl >again.jsonl
	sid=$(sqlite3 shop.db "SELECT sid FROM sids JOIN items ON seq = item WHERE id = 'i200'")
	run os-quantize -q -C shop.db --assign again.jsonl
	[[ "$output" == *"\"sid\":[${sid}]}" ]]
	# the fingerprint is the codebooks': new SIDs leave it as it is
	fp=$(sqlite3 shop.db "SELECT value FROM meta WHERE key = 'sid_fingerprint'")
	[ "$fp" = "$(cat fp.txt)" ]
	run os-quantize -q -C shop.db --assign --levels 4 again.jsonl
	[ "$status" -eq 2 ]
	[[ "$output" == *"--assign keeps the catalog's quantizer; --levels applies to training"* ]]
	os-tokenize -q -C new.db items.jsonl >/dev/null
	run os-quantize -q -C new.db --assign again.jsonl
	[ "$status" -eq 1 ]
	[[ "$output" == *"the catalog has no codebooks: run os-quantize without --assign first"* ]]
	run os-quantize -q -C absent.db again.jsonl
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot open catalog 'absent.db': No such file or directory"* ]]
	[ ! -e absent.db ]
}

@test "bad input exits 3 naming the line and leaves the catalog as it was" {
	make_clusters 50 2 4 1 0
	os-tokenize -q -C shop.db items.jsonl >/dev/null
	os-quantize -q -C shop.db --levels 2,2 vec.jsonl >/dev/null
	before=$(sids shop.db)
	{ head -n 3 vec.jsonl; echo '{"id":"i9","embedding":[1,2,3]}'; } >dim.jsonl
	run os-quantize -q -C shop.db --levels 2,2 dim.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == "os-quantize: dim.jsonl:4: embedding has 3 values, expected 4" ]]
	{ head -n 2 vec.jsonl; echo '{"id":"i9","embedding":[1,1e999,0,0]}'; } >inf.jsonl
	run os-quantize -q -C shop.db --levels 2,2 inf.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == "os-quantize: inf.jsonl:3: embedding value 2 is not a finite number" ]]
	echo '{"id":"nope","embedding":[1,2,3,4]}' >unknown.jsonl
	run os-quantize -q -C shop.db unknown.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == "os-quantize: unknown.jsonl:1: item 'nope' is not in the catalog (ingest it with os-tokenize first)" ]]
	echo '{"id":"i1","embedding":"x"}' >type.jsonl
	run os-quantize -q -C shop.db type.jsonl
	[[ "$output" == *"type.jsonl:1: field 'embedding' must be a non-empty array of numbers"* ]]
	run os-quantize -C shop.db --levels 64 vec.jsonl
	[ "$status" -eq 2 ]
	[[ "$output" == *"--levels asks for 64 codes at level 1 but there are 50 items"* ]]
	run os-quantize -C shop.db </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"no items read: the catalog is unchanged"* ]]
	[ "$(sids shop.db)" = "$before" ]
	run os-quantize -C shop.db --levels 1,4 vec.jsonl
	[ "$status" -eq 2 ]
}

@test "kill -9 while quantizing leaves the previous codebooks and SIDs" {
	make_clusters 40000 50 32 1 0
	os-tokenize -q -C shop.db items.jsonl >/dev/null
	os-quantize -q -C shop.db --levels 4,4 vec.jsonl >/dev/null
	before=$(sids shop.db | md5sum)
	books=$(sqlite3 shop.db 'SELECT hex(centroid) FROM codebooks ORDER BY level, code' | md5sum)
	for wait in 0.3 1 2; do
		os-quantize -q -C shop.db --levels 512,512 --max-per-centroid 0 -o out.jsonl vec.jsonl &
		pid=$!
		sleep "$wait"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" || true
		[ "$(sqlite3 shop.db 'PRAGMA integrity_check')" = ok ]
		levels=$(sqlite3 shop.db "SELECT value FROM meta WHERE key = 'sid_levels'")
		if [ "$levels" = 4,4 ]; then # killed before the commit: all as before
			[ "$(sids shop.db | md5sum)" = "$before" ]
			[ "$(sqlite3 shop.db 'SELECT hex(centroid) FROM codebooks ORDER BY level, code' | md5sum)" = "$books" ]
			[ ! -e out.jsonl ]
		else # the run finished: all new
			[ "$levels" = 512,512 ]
			[ "$(sqlite3 shop.db 'SELECT count(*), count(DISTINCT sid) FROM sids')" = "40000|40000" ]
			[ "$(sqlite3 shop.db 'SELECT count(*) FROM codebooks')" -eq 1024 ]
		fi
	done
}

@test "an item given twice is bad input" {
	make_clusters 20 2 4 1 0
	os-tokenize -q -C shop.db items.jsonl >/dev/null
	{ cat vec.jsonl; head -n 1 vec.jsonl; } >twice.jsonl
	run os-quantize -q -C shop.db --levels 2 twice.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == "os-quantize: twice.jsonl:21: item 'i0' is given twice (first at line 1)" ]]
}

@test "items flow from os-tokenize straight into os-quantize" {
	make_clusters 40 4 6 1 0
	python3 -c '
import json
with open("vec.jsonl") as f, open("both.jsonl", "w") as o:
    for r in map(json.loads, f):
        r["title"] = "item " + r["id"]
        o.write(json.dumps(r) + "\n")'
	run bash -c "set -o pipefail; os-tokenize -q -C p.db both.jsonl | os-quantize -q -C p.db --levels 4 | wc -l"
	[ "$status" -eq 0 ]
	[ "$output" -eq 40 ]
	[ "$(sqlite3 p.db 'SELECT count(*) FROM sids')" -eq 40 ]
	echo '{"id":"i0","embedding":[1,2,3,4,5,6]}' >one.jsonl
	run os-quantize -q -C p.db one.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == *"1 item read: quantizing needs at least 2"* ]]
}

@test "--with-queries clusters query vectors with the items; only items get SIDs" {
	make_clusters 60 3 6 1 0
	os-tokenize -q -C shop.db items.jsonl >/dev/null
	mv vec.jsonl items.vec.jsonl
	make_clusters 30 3 6 9 100 # same centers, other points: the "queries"
	run os-quantize -C shop.db --levels 3,2 --with-queries vec.jsonl items.vec.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *"codebooks trained on 60 items and 30 queries"* ]]
	[[ "$output" == *"level 1: 3 codes, 3 used"* ]]
	[ "$(sqlite3 shop.db 'SELECT count(*) FROM sids')" -eq 60 ]
	{ head -n 2 vec.jsonl; echo '{"qid":"x","embedding":[1,2]}'; } >bad.jsonl
	run os-quantize -C shop.db --levels 3 --with-queries bad.jsonl items.vec.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == *"bad.jsonl:3: embedding has 2 values, expected 6"* ]]
	run os-quantize -C shop.db --assign --with-queries vec.jsonl items.vec.jsonl
	[ "$status" -eq 2 ]
}
