#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Bad input, as a table: each kind of bad input given to each program that
# reads it, with the exact message and exit status (onesearch(7): 3 for a
# bad record, 1 for a file that cannot be used), and nothing lost: the
# catalog holds what it held and no output file is left behind. (Empty
# input is not bad: cli-contract.bats checks that it exits 0.)

load helper

setup_file() {
	export PATH="$(os_make_wrappers):$PATH"
	unset OS_CATALOG
	cd "$BATS_FILE_TMPDIR" || return 1
	tiny_shop
	os-distill -q -C t.db -o t.osm --pseudo-queries 0 --dim 16 --heads 2 --ff 32 \
		--layers 1 --buckets 64 --batch 16 --threads 1 --epochs 1 </dev/null
	other_codebooks other.db
	head -c 100000000 /dev/zero | tr '\0' 'a' >long.jsonl
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	cp "$BATS_FILE_TMPDIR"/{t.db,t.osm,other.db,q.jsonl} .
	cp t.db c.db
}

# bad STATUS MESSAGE COMMAND...: COMMAND exits with STATUS and prints
# MESSAGE (a glob: * stands for what varies), and loses nothing: catalog
# c.db dumps as it did before, and no out.* file exists.
bad() {
	local want_status=$1 message=$2 before
	shift 2
	before=$(sqlite3 c.db .dump)
	run "$@"
	if [ "$status" -ne "$want_status" ] || [[ "$output" != $message ]]; then
		echo "# $*: status $status, output: $output" >&3
		return 1
	fi
	[ "$(sqlite3 c.db .dump)" = "$before" ]
	! ls out.* 2>/dev/null
}

# all_bad STATUS MESSAGE FILE: bad STATUS MESSAGE for every program
# reading FILE as its input (os-eval: as the run, then as the judgments);
# %p in MESSAGE stands for the program.
all_bad() {
	local want_status=$1 message=$2 file=$3 cmd
	while IFS= read -r cmd; do
		# shellcheck disable=SC2086
		bad "$want_status" "${message//%p/${cmd%% *}}" ${cmd//%f/$file}
	done <<-EOF
		os-tokenize -C c.db -o out.jsonl %f
		os-quantize -C c.db -o out.jsonl %f
		os-cot -C c.db -o out.jsonl %f
		os-distill -C c.db -o out.osm --epochs 1 --dim 16 --heads 2 --ff 32 --layers 1 %f
		os-search -C c.db -m t.osm -o out.jsonl %f
		os-eval -C c.db -o out.json --qrels q.jsonl %f
		os-eval -C c.db -o out.json --qrels %f q.jsonl
	EOF
}

@test "malformed JSON, a line that is no object, invalid UTF-8: every reader, exit 3" {
	printf '{"id":"a","title":\n' >malformed.jsonl
	all_bad 3 '%p: malformed.jsonl:1: malformed JSON at column 19' malformed.jsonl
	printf '{"id":"a","title":"\377","qid":"a","query":"\377"}\n' >utf8.jsonl
	all_bad 3 '%p: utf8.jsonl:1: invalid UTF-8' utf8.jsonl
	printf '{"id":"a","title":"x"}\n"just a string"\n' >string.jsonl
	bad 3 'os-tokenize: string.jsonl:2: expected a JSON object, got a string' \
		os-tokenize -C c.db -o out.jsonl string.jsonl
	bad 3 'os-search: string.jsonl:1: missing field *' \
		os-search -C c.db -m t.osm -o out.jsonl string.jsonl
	printf '[1, 2]\n' >array.jsonl
	for p in os-quantize os-cot os-search; do
		extra=$([ $p = os-search ] && echo "-m t.osm" || true)
		# shellcheck disable=SC2086
		bad 3 "$p: array.jsonl:1: expected a JSON object, got an array" \
			$p -C c.db $extra -o out.jsonl array.jsonl
	done
	# os-eval tells TREC from JSON lines by the first character
	bad 3 "os-eval: array.jsonl:1: expected 'qid Q0 docid rank score tag' (6 fields)" \
		os-eval -o out.json --qrels q.jsonl array.jsonl
	bad 3 "os-eval: array.jsonl:1: expected 'qid 0 docid grade' (4 fields)" \
		os-eval -o out.json --qrels array.jsonl q.jsonl
}

@test "wrong field types and missing fields: each program names the field" {
	printf '{"id":"a","title":5}\n' >title.jsonl
	bad 3 "os-tokenize: title.jsonl:1: field 'title' must be a string" \
		os-tokenize -C c.db -o out.jsonl title.jsonl
	printf '{"title":"x"}\n' >noid.jsonl
	for p in os-tokenize os-quantize; do
		bad 3 "$p: noid.jsonl:1: missing field 'id'" $p -C c.db -o out.jsonl noid.jsonl
	done
	printf '{"qid":"a","query":5}\n' >query.jsonl
	printf '{"qid":"a"}\n' >noquery.jsonl
	for p in os-cot "os-distill --epochs 1" "os-search -m t.osm"; do
		# shellcheck disable=SC2086
		bad 3 "${p%% *}: query.jsonl:1: field 'query' must be a string" \
			$p -C c.db -o out.x query.jsonl
		# shellcheck disable=SC2086
		bad 3 "${p%% *}: noquery.jsonl:1: missing field 'query'" $p -C c.db -o out.x noquery.jsonl
	done
	printf '{"qid":"a","results":{"id":"x"}}\n' >results.jsonl
	bad 3 "os-eval: results.jsonl:1: field 'results' must be an array" \
		os-eval -o out.json --qrels q.jsonl results.jsonl
	printf '{"qid":"a","graded":{"x":"high"}}\n' >grade.jsonl
	bad 3 "os-eval: grade.jsonl:1: grade of 'x' must be a number >= 0" \
		os-eval -o out.json --qrels grade.jsonl q.jsonl
}

@test "a 100 MB line: every reader stops at the bound, exit 3" {
	ln -s "$BATS_FILE_TMPDIR/long.jsonl" long.jsonl
	all_bad 3 '%p: long.jsonl:1: line longer than 67108864 bytes' long.jsonl
}

@test "vectors: Inf, NaN and mixed dimensions are refused with their line" {
	printf '{"id":"t01","title":"x","embedding":[1e999,1,1,1]}\n' >inf.jsonl
	printf '{"id":"t01","title":"x","embedding":[NaN,1,1,1]}\n' >nan.jsonl
	printf '{"id":"t01","embedding":[1,1,1,1]}\n{"id":"t02","embedding":[1,1,1]}\n' >mixed.jsonl
	for p in "os-quantize -C c.db -o out.jsonl" \
		"os-search -C c.db -o out.jsonl --query x --dense"; do
		name=${p%% *}
		# shellcheck disable=SC2086
		bad 3 "$name: inf.jsonl:1: embedding value 1 is not a finite number" $p inf.jsonl
		# shellcheck disable=SC2086
		bad 3 "$name: nan.jsonl:1: malformed JSON at column 38" $p nan.jsonl
		# shellcheck disable=SC2086
		bad 3 "$name: mixed.jsonl:2: embedding has 3 values, expected 4" $p mixed.jsonl
	done
}

@test "SIDs that no item has are counted, not fatal" {
	jq -c '{qid, results: [{id: .relevant[0], score: 1, sid: [9, 9, 9]}]}' q.jsonl >run.jsonl
	run os-eval -C c.db --qrels q.jsonl run.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *'"valid_sid_rate":0,'* ]]
}

@test "models: another catalog's, truncated, bit-flipped, not a model, a directory" {
	bad 1 "os-search: t.osm: the model was trained against other codebooks (model *, catalog *); train it again on this catalog" \
		os-search -C other.db -m t.osm -o out.jsonl q.jsonl
	cp other.db c.db
	bad 1 "os-distill: t.osm: the model was trained against other codebooks (model *, catalog *); train it again on this catalog" \
		os-distill -C c.db --init t.osm -o out.osm --epochs 1 q.jsonl
	cp t.db c.db
	head -c 3000 t.osm >cut.osm
	python3 -c '
b = bytearray(open("t.osm", "rb").read())
b[len(b) // 2] ^= 4
open("flip.osm", "wb").write(b)'
	for m in cut.osm flip.osm; do
		bad 1 "os-search: $m: checksum mismatch: the file is truncated or corrupted" \
			os-search -C c.db -m $m -o out.jsonl q.jsonl
		bad 1 "os-distill: $m: checksum mismatch: the file is truncated or corrupted" \
			os-distill -C c.db --init $m -o out.osm q.jsonl
	done
	bad 1 "os-search: q.jsonl: not a onesearch model (bad magic)" \
		os-search -C c.db -m q.jsonl -o out.jsonl q.jsonl
	bad 1 "os-distill: q.jsonl: not a onesearch model (bad magic)" \
		os-distill -C c.db --init q.jsonl -o out.osm q.jsonl
	bad 1 "os-search: cannot read '.': Is a directory" os-search -C c.db -m . -o out.jsonl q.jsonl
	bad 1 "os-distill: cannot read '.': Is a directory" \
		os-distill -C c.db --init . -o out.osm q.jsonl
}

@test "a catalog of a newer schema: every program refuses it, exit 1" {
	sqlite3 c.db 'PRAGMA user_version = 99'
	message="catalog 'c.db' has schema version 99, newer than this program's 6"
	for p in os-tokenize os-quantize os-cot "os-distill --epochs 1" "os-search --bm25"; do
		# shellcheck disable=SC2086
		bad 1 "${p%% *}: $message" $p -C c.db -o out.x q.jsonl
	done
	bad 1 "os-eval: $message" os-eval -C c.db -o out.x --qrels q.jsonl /dev/null
}

@test "a directory given as a file: every input, exit 1" {
	all_bad 1 "%p: cannot read '.': Is a directory" .
	bad 1 "os-search: cannot read '.': Is a directory" os-search -C c.db --dense . -o out.jsonl q.jsonl
	mkdir d.db
	bad 1 "os-tokenize: cannot open catalog 'd.db': unable to open database file" \
		os-tokenize -C d.db -o out.jsonl q.jsonl
}
