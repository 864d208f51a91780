#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# os-tokenize: ingest and upsert, compressed and tar input, Unicode, bad
# input that loses nothing, the keyword golden files, and a kill -9 in the
# middle of an ingest.

load helper

SAMPLE="$OS_SRCDIR/share/sample"

count() { sqlite3 "$1" "$2"; }

@test "ingest stores every item and writes the records back annotated" {
	run bash -c "os-tokenize -q -C shop.db '$SAMPLE/items.jsonl' | wc -l"
	[ "$status" -eq 0 ]
	[ "$output" -eq 3000 ]
	[ "$(count shop.db 'SELECT count(*) FROM items')" -eq 3000 ]
	[ "$(count shop.db 'PRAGMA journal_mode')" = wal ]
	[ "$(count shop.db 'PRAGMA user_version')" -eq 6 ]
	[ "$(count shop.db "SELECT value FROM meta WHERE key = 'normalization'")" = nfkc-casefold-fold-accents ]
	run os-tokenize -C shop.db --summary
	[[ "$output" == *'"items":3000'* ]]
	[[ "$output" == *'"items_fingerprint":"'* ]]
}

@test "re-ingesting an item updates it, never duplicates it" {
	echo '{"id":"7","title":"Walnut Shelf","brand":"Acme","attrs":{"w":"2 in."}}' >a.jsonl
	echo '{"id":"7","title":"Maple Shelf","brand":null}' >b.jsonl
	os-tokenize -q -C c.db a.jsonl >/dev/null
	os-tokenize -q -C c.db b.jsonl >/dev/null
	[ "$(count c.db 'SELECT count(*) FROM items')" -eq 1 ]
	[ "$(count c.db "SELECT title || '|' || coalesce(brand, 'null') || '|' || attrs FROM items")" = "Maple Shelf|null|{}" ]
	[ "$(count c.db "SELECT df FROM vocab WHERE token = 'walnut'")" -eq 0 ]
	[ "$(count c.db "SELECT df FROM vocab WHERE token = 'maple'")" -eq 1 ]
	[ "$(count c.db "SELECT df FROM vocab WHERE token = 'shelf'")" -eq 1 ]
	# an id as an integer is the same item as the string
	run bash -c "echo '{\"id\":7,\"title\":\"Oak Shelf\"}' | os-tokenize -q -C c.db"
	[[ "$output" == '{"id":"7","title":"Oak Shelf",'* ]]
	[ "$(count c.db 'SELECT count(*) FROM items')" -eq 1 ]
}

@test "gzip, xz, zstd, bzip2 and tar inputs read like plain JSONL" {
	head -n 50 "$SAMPLE/items.jsonl" >part1.jsonl
	sed -n '51,80p' "$SAMPLE/items.jsonl" >part2.jsonl
	gzip -c part1.jsonl >p.jsonl.gz
	xz -c part1.jsonl >p.jsonl.xz
	zstd -q -c part1.jsonl >p.jsonl.zst
	bzip2 -c part1.jsonl >p.jsonl.bz2
	tar cf shards.tar part1.jsonl part2.jsonl
	tar czf shards.tgz part1.jsonl part2.jsonl
	for f in p.jsonl.gz p.jsonl.xz p.jsonl.zst p.jsonl.bz2; do
		run bash -c "os-tokenize -q -C $f.db $f | wc -l"
		[ "$output" -eq 50 ]
	done
	for f in shards.tar shards.tgz; do
		run bash -c "os-tokenize -q -C $f.db < $f | wc -l"
		[ "$output" -eq 80 ]
		[ "$(count $f.db 'SELECT count(*) FROM items')" -eq 80 ]
	done
	# a bad line inside a member names archive, member and line
	printf '{"id":"x","title":"ok"}\n{"id":"y"}\n' >bad.jsonl
	tar czf bad.tgz part1.jsonl bad.jsonl
	run os-tokenize -q -C bad.db bad.tgz
	[ "$status" -eq 3 ]
	[[ "$output" == *"os-tokenize: bad.tgz:bad.jsonl:2: missing field 'title'"* ]]
}

@test "Unicode: full-width, accents, CJK and emoji are normalized and split" {
	printf '%s\n' \
		'{"id":"1","title":"ＢＥＨＲ Ｐｒｅｍｉｕｍ Café Crème 🎨 Paint"}' \
		'{"id":"2","title":"不锈钢 水槽 Sink"}' >u.jsonl
	run os-tokenize -q -C u.db --emit keywords,words u.jsonl
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *'"words":["behr","premium","cafe","creme","paint"]'* ]]
	[[ "${lines[1]}" == *'"words":["不","锈","钢","水","槽","sink"]'* ]]
	[[ "${lines[1]}" == *'{"type":"material","text":"不 锈 钢"}'* ]]
	# queries meet the items in one vocabulary
	run bash -c "echo '{\"qid\":1,\"query\":\"behr PAINT cafe zzz\"}' | os-tokenize -C u.db --queries --emit tokens,words"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"words":["behr","paint","cafe","zzz"]'* ]]
	[[ "$output" =~ \"tokens\":\[[1-9][0-9]*,[1-9][0-9]*,[1-9][0-9]*,0\] ]]
}

@test "invalid UTF-8 exits 3 naming the line, and nothing is stored" {
	printf '{"id":"1","title":"fine"}\n{"id":"2","title":"bad \xff byte"}\n' >bad.jsonl
	run os-tokenize -C c.db -o out.jsonl bad.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == *"os-tokenize: bad.jsonl:2: invalid UTF-8"* ]]
	# the catalog this run would have created is not left behind
	[ ! -e c.db ]
	[ ! -e out.jsonl ]
	! ls | grep -q tmp
	# an existing catalog is left as it was
	echo '{"id":"0","title":"before"}' | os-tokenize -q -C c.db >/dev/null
	run os-tokenize -C c.db bad.jsonl
	[ "$status" -eq 3 ]
	[ "$(count c.db 'SELECT group_concat(title) FROM items')" = before ]
}

@test "bad records: each message names the field; --keep-going skips them" {
	printf '%s\n' \
		'{"id":"1","title":"good one"}' \
		'{"title":"no id"}' \
		'{"id":"3","title":42}' \
		'{"id":"4","title":"x","attrs":[1]}' \
		'{"id":"5","title":"x","brand":7}' \
		'[1]' \
		'{"id":"6","title":"good two"}' >mixed.jsonl
	run os-tokenize -q -C c.db mixed.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == "os-tokenize: mixed.jsonl:2: missing field 'id'" ]]
	[ ! -e c.db ]
	run os-tokenize -q -k -C c.db -o out.jsonl mixed.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == *"mixed.jsonl:3: field 'title' must be a string"* ]]
	[[ "$output" == *"mixed.jsonl:4: field 'attrs' must be an object or null"* ]]
	[[ "$output" == *"mixed.jsonl:5: field 'brand' must be a string or null"* ]]
	[[ "$output" == *"mixed.jsonl:6: expected a JSON object, got an array"* ]]
	[[ "$output" == *"5 bad records skipped"* ]]
	# each skipped record is reported once
	[ "$(grep -c 'mixed.jsonl:6:' <<<"$output")" -eq 1 ]
	[ "$(count c.db 'SELECT count(*) FROM items')" -eq 2 ]
	[ "$(wc -l <out.jsonl)" -eq 2 ]
}

@test "a line over --max-line is refused with its length bound" {
	{ echo '{"id":"1","title":"ok"}'; printf '{"id":"2","title":"%0200d"}\n' 0; } >long.jsonl
	run os-tokenize -q -C c.db --max-line 100 long.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == *"long.jsonl:2: line longer than 100 bytes"* ]]
}

@test "runtime errors: a directory, a missing file, a newer catalog" {
	mkdir d
	run os-tokenize -q -C c.db d
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot read 'd': Is a directory"* ]]
	run os-tokenize -q -C c.db missing.jsonl
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot read 'missing.jsonl': No such file or directory"* ]]
	sqlite3 new.db 'PRAGMA user_version = 99'
	run os-tokenize -q -C new.db --summary
	[ "$status" -eq 1 ]
	[[ "$output" == *"catalog 'new.db' has schema version 99, newer than this program's 6"* ]]
	echo "not sqlite" >junk.db
	run os-tokenize -q -C junk.db --summary
	[ "$status" -eq 1 ]
	[[ "$output" == *"junk.db"* ]]
	run os-tokenize --summary
	[ "$status" -eq 2 ]
	[[ "$output" == *"no catalog: give -C FILE or set OS_CATALOG"* ]]
}

@test "keyword dictionary of the sample shop matches its golden file" {
	os-tokenize -q -C shop.db "$SAMPLE/items.jsonl" >/dev/null
	os-tokenize -C shop.db --dump-keywords >keywords.tsv
	diff -u "$FIXTURES/sample-keywords.tsv" keywords.tsv
	head -n 60 "$SAMPLE/test.jsonl" | jq -c '{qid, query}' |
		os-tokenize -C shop.db --queries >queries.jsonl
	diff -u "$FIXTURES/sample-queries.jsonl" queries.jsonl
}

@test "--keywords adds user keywords; --no-mine keeps the dictionary" {
	printf '# finishes\ncolor\tTugboat\nbrand\tDeckOver\n' >mine.tsv
	echo '{"id":"1","title":"BEHR DeckOver 1-gal. #SC-141 Tugboat Wood Coating"}' >a.jsonl
	run os-tokenize -q -C c.db --keywords mine.tsv a.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *'{"type":"brand","text":"deckover"},{"type":"spec","text":"1-gal"},{"type":"color","text":"tugboat"},{"type":"material","text":"wood"}'* ]]
	echo '{"id":"2","title":"Tugboat Deck Stain"}' >b.jsonl
	run os-tokenize -q -C c.db --no-mine b.jsonl
	[[ "$output" == *'{"type":"color","text":"tugboat"}'* ]]
	[ "$(count c.db "SELECT count(*) FROM item_keywords WHERE item = '1'")" -eq 4 ]
	printf 'no tab here\n' >broken.tsv
	echo '{"id":"9","title":"Never Stored"}' >c.jsonl
	run os-tokenize -q -C c.db --keywords broken.tsv c.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == *"broken.tsv:1: expected 'type<TAB>keyword'"* ]]
	[ "$(count c.db "SELECT count(*) FROM items WHERE id = '9'")" -eq 0 ]
	# the dump is a keywords file: loading it back changes nothing
	os-tokenize -C c.db --dump-keywords >dump.tsv
	os-tokenize -q -C c2.db --no-lexicon --keywords dump.tsv a.jsonl >/dev/null
	[ "$(os-tokenize -C c2.db --dump-keywords | cut -f1,2 | sort)" = "$(cut -f1,2 dump.tsv | sort)" ]
}

@test "--queries never changes the catalog" {
	os-tokenize -q -C shop.db "$SAMPLE/items.jsonl" >/dev/null
	sqlite3 shop.db 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
	before=$(sha1sum shop.db)
	os-tokenize -C shop.db --queries "$SAMPLE/test.jsonl" >/dev/null
	[ "$(sha1sum shop.db)" = "$before" ]
	run bash -c "echo '{\"qid\":1}' | os-tokenize -C shop.db --queries"
	[ "$status" -eq 3 ]
	[[ "$output" == *"-:1: missing field 'query'"* ]]
}

@test "kill -9 during a large ingest leaves whole batches and a sound catalog" {
	awk 'BEGIN { for (i = 0; i < 300000; i++)
		printf "{\"id\":\"%d\",\"title\":\"Brand%d Steel Widget %d in. Model %d\"}\n", i, i % 500, i % 40, i }' >big.jsonl
	os-tokenize -q -C big.db --batch 1000 -o out.jsonl big.jsonl &
	pid=$!
	for _ in $(seq 1 600); do
		n=$(sqlite3 big.db 'SELECT count(*) FROM items' 2>/dev/null || echo 0)
		[ "${n:-0}" -ge 20000 ] && break
		sleep 0.05
	done
	kill -9 "$pid"
	wait "$pid" || true
	[ "$(sqlite3 big.db 'PRAGMA integrity_check')" = ok ]
	n=$(sqlite3 big.db 'SELECT count(*) FROM items')
	[ "$n" -ge 20000 ]
	[ $((n % 1000)) -eq 0 ] || [ "$n" -eq 300000 ]
	# every stored item counted in the vocabulary, no more
	[ "$(sqlite3 big.db "SELECT df FROM vocab WHERE token = 'widget'")" -eq "$n" ]
	[ ! -e out.jsonl ]
	# running again completes the ingest
	os-tokenize -q -C big.db --batch 50000 big.jsonl >/dev/null
	[ "$(sqlite3 big.db 'SELECT count(*) FROM items')" -eq 300000 ]
	[ "$(sqlite3 big.db "SELECT df FROM vocab WHERE token = 'widget'")" -eq 300000 ]
}

@test "--emit takes a list of known keys, nothing else" {
	echo '{"id":"1","title":"Steel Pipe"}' >a.jsonl
	run os-tokenize -q -C c.db --emit tokens,ngrams a.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" =~ \"tokens\":\[[1-9][0-9]*,[1-9][0-9]*\],\"ngrams\":\[\[[0-9,]+\],\[[0-9,]+\]\]\}$ ]]
	for bad in '' 'keywords,' ',keywords' 'keywords,,tokens' 'colour'; do
		run os-tokenize -q -C c.db --emit "$bad" a.jsonl
		[ "$status" -eq 2 ]
		[[ "$output" == *"invalid --emit value '$bad'"* ]]
	done
}

@test "the built-in encoder: trained, stored, and vectors emitted" {
	os-tokenize -q -C shop.db "$SAMPLE/items.jsonl" >/dev/null
	run os-tokenize -q -C shop.db --emit embedding --queries "$SAMPLE/test.jsonl"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the catalog has no encoder: train one with --train-encoder first"* ]]
	run os-tokenize -C shop.db --train-encoder "$SAMPLE/train.jsonl" --encoder-dim 16 \
		--encoder-epochs 3 --encoder-buckets 4096
	[ "$status" -eq 0 ]
	[[ "$output" == *"encoder: "*" query-item pairs"*"24000 title queries"* ]]
	[[ "$output" == *"encoder epoch 3 of 3, loss "* ]]
	[ "$(sqlite3 shop.db "SELECT value FROM meta WHERE key = 'encoder_dim'")" -eq 16 ]
	[ "$(sqlite3 shop.db "SELECT length(data) FROM blobs WHERE name = 'encoder'")" -gt 0 ]
	os-tokenize -q -C shop.db --no-mine --emit embedding "$SAMPLE/items.jsonl" >items.emb
	os-tokenize -q -C shop.db --queries --emit embedding "$SAMPLE/test.jsonl" >queries.emb
	# unit vectors of 16 floats; most queries find a relevant item first
	python3 - <<'PY'
import json, math
items = [json.loads(l) for l in open("items.emb")]
queries = [json.loads(l) for l in open("queries.emb")]
assert all(len(r["embedding"]) == 16 for r in items + queries)
assert all(abs(math.sqrt(sum(x * x for x in r["embedding"])) - 1) < 1e-5 for r in items + queries)
hits = 0
for q in queries[:100]:
    best = max(items, key=lambda i: sum(a * b for a, b in zip(i["embedding"], q["embedding"])))
    hits += q["graded"].get(best["id"], 0) >= 2
print("hits", hits)
assert hits >= 60, hits
PY
	# the same seed gives the same encoder; title queries are a choice
	cp shop.db again.db
	cp shop.db none.db
	run os-tokenize -C none.db --train-encoder "$SAMPLE/train.jsonl" --encoder-dim 16 \
		--encoder-epochs 1 --encoder-buckets 4096 --encoder-title-queries 0
	[ "$status" -eq 0 ]
	[[ "$output" == *" 0 title queries"* ]]
	run os-tokenize -C none.db --train-encoder "$SAMPLE/train.jsonl" --encoder-title-queries 101
	[ "$status" -eq 2 ]
	os-tokenize -q -C again.db --train-encoder "$SAMPLE/train.jsonl" --encoder-dim 16 \
		--encoder-epochs 3 --encoder-buckets 4096
	[ "$(sqlite3 shop.db "SELECT hex(data) FROM blobs" | md5sum)" = "$(sqlite3 again.db "SELECT hex(data) FROM blobs" | md5sum)" ]
	# KHQE: the item vector moves with --fusion
	a=$(head -n 1 "$SAMPLE/items.jsonl" | os-tokenize -q -C shop.db --no-mine --emit embedding --fusion 1)
	b=$(head -n 1 "$SAMPLE/items.jsonl" | os-tokenize -q -C shop.db --no-mine --emit embedding --fusion 0.2)
	[ "$a" != "$b" ]
	# a record's own vector is kept as it is
	run bash -c "echo '{\"id\":\"x1\",\"title\":\"Steel Pipe\",\"embedding\":[0.5,1]}' | os-tokenize -q -C shop.db --no-mine --emit embedding"
	[[ "$output" == *'"embedding":[0.5,1]}' ]]
}
