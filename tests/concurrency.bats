#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Concurrent use of one catalog: searches and evaluations read it, and
# os-cot fills its cache, while os-tokenize ingests into it. No program may
# fail with "database is locked", and each must see a consistent state:
# the items of whole batches, never half of one. (The sqlite3 shell that
# counts gets a busy timeout, as the programs have.)

load helper

@test "readers search and evaluate, os-cot caches, while os-tokenize ingests" {
	os-tokenize -q -C shop.db "$FIXTURES/tiny-shop.jsonl" | os-quantize -q -C shop.db --levels 4,4 >/dev/null
	os-distill -q -C shop.db -o m.osm --steps 20 --dim 16 --heads 2 --ff 16 --layers 1 \
		--buckets 64 </dev/null
	awk 'BEGIN { for (i = 0; i < 60000; i++)
		printf "{\"id\":\"n%d\",\"title\":\"Acme%d Blue Drill %d in. Model %d\"}\n", i, i % 300, i % 40, i }' >more.jsonl
	printf '%s\n' '{"qid":"a","query":"blue drill","relevant":["t01"]}' '{"qid":"b","query":"acme saw","relevant":["t02"]}' >q.jsonl
	os-tokenize -q -C shop.db --batch 2000 more.jsonl >/dev/null &
	writer=$!
	failures=0
	rounds=0
	while kill -0 "$writer" 2>/dev/null && [ "$rounds" -lt 200 ]; do
		rounds=$((rounds + 1))
		os-search -q -C shop.db -m m.osm q.jsonl >gen.jsonl 2>err1 || { cat err1; failures=$((failures + 1)); }
		os-search -q -C shop.db --bm25 -k 5 q.jsonl >bm25.jsonl 2>err2 || { cat err2; failures=$((failures + 1)); }
		os-eval -q -C shop.db --qrels q.jsonl gen.jsonl bm25.jsonl >/dev/null 2>err3 || { cat err3; failures=$((failures + 1)); }
		os-cot -q -C shop.db --refresh --train q.jsonl q.jsonl >cot.jsonl 2>err4 || { cat err4; failures=$((failures + 1)); }
		n=$(sqlite3 -cmd '.timeout 30000' shop.db 'SELECT count(*) FROM items')
		# whole batches only: the 40 first items, then batches of 2000
		[ $(((n - 40) % 2000)) -eq 0 ] || [ "$n" -eq 60040 ] || { echo "half a batch: $n"; failures=$((failures + 1)); }
	done
	wait "$writer"
	echo "rounds: $rounds, failures: $failures"
	[ "$rounds" -ge 2 ]
	[ "$failures" -eq 0 ]
	! grep -l "locked" err1 err2 err3 err4
	[ "$(wc -l <cot.jsonl)" -eq 2 ]
	[ "$(sqlite3 shop.db 'SELECT count(*) FROM items')" -eq 60040 ]
	[ "$(sqlite3 shop.db 'PRAGMA integrity_check')" = ok ]
}
