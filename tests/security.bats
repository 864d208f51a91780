#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Security: SQL is never built from strings (the sources are read); files
# are created with the user's umask, through an O_EXCL temporary; the LLM
# key stays out of argv. (os-cot.bats checks that the key never reaches
# an output, a log or an error, and that HTTPS verification is on.)

load helper

SRC="$OS_SRCDIR/src"

@test "SQL is never built from strings: one file talks to SQLite, with constant statements" {
	# only the catalog calls SQLite's statement functions
	run grep -rlE 'sqlite3_(prepare|exec)' "$SRC" --include='*.c'
	[ "$status" -eq 0 ]
	[ "$output" = "$SRC/lib/catalog.c" ]
	# each call's SQL is a literal or an entry of the two constant tables
	run grep -nE 'sqlite3_(prepare[a-z0-9_]*|exec)\(' "$SRC/lib/catalog.c"
	[ "${#lines[@]}" -ge 4 ]
	for line in "${lines[@]}"; do
		[[ "$line" =~ sqlite3_(prepare_v[23]|exec)\(c-\>db,\ *(sql\[s\]|migrations\[v\]|\"[A-Z]|$) ]] || {
			echo "# SQL from elsewhere: $line" >&3
			return 1
		}
	done
	grep -q '^static const char \*const sql\[ST_COUNT_\] = {' "$SRC/lib/catalog.c"
	grep -q '^static const char \*const migrations\[OS_CATALOG_SCHEMA\] = {' "$SRC/lib/catalog.c"
	# and no SQL is formatted anywhere
	run grep -rnE 'sqlite3_v?s?n?mprintf|sqlite3_snprintf|%[qQw]' "$SRC" --include='*.c'
	[ "$status" -eq 1 ]
}

@test "outputs and models take the user's umask; the temporary is O_EXCL and never left" {
	(umask 027 && os-tokenize -q -C shop.db -o items.jsonl "$FIXTURES/tiny-shop.jsonl")
	[ "$(stat -c %a items.jsonl)" = 640 ]
	(umask 077 && os-quantize -q -C shop.db --levels 4,4 -o sids.jsonl items.jsonl)
	[ "$(stat -c %a sids.jsonl)" = 600 ]
	python3 -c '
import json
for line in open("items.jsonl"):
    r = json.loads(line)
    print(json.dumps({"qid": r["id"], "query": r["title"], "relevant": [r["id"]]}))' >q.jsonl
	(umask 022 && os-distill -q -C shop.db -o m.osm --pseudo-queries 0 --dim 16 --heads 2 \
		--ff 32 --layers 1 --buckets 64 --batch 16 --threads 1 --epochs 1 q.jsonl)
	[ "$(stat -c %a m.osm)" = 644 ]
	[ -z "$(ls | grep '\.tmp\.')" ]
	# temporaries come from mkstemp(3) (O_CREAT | O_EXCL), in one place
	run grep -rln 'mkstemp' "$SRC" --include='*.c'
	[ "$output" = "$SRC/lib/output.c" ]
	# the other files a program creates: a device or FIFO given as the
	# output, and os-distill's --log, which is appended to
	run bash -c "grep -rnE '[^_]open\\([^)]*O_CREAT|fopen\\([^)]*\"[wa]' '$SRC' --include='*.c' | sort"
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == "$SRC/lib/output.c:"*'fopen(path, "w")'* ]]
	[[ "${lines[1]}" == "$SRC/os-distill.c:"*'fopen(o->log, "a")'* ]]
}

@test "the LLM key is read from the environment, never from an option" {
	run os-cot --help
	[[ "$output" == *OS_LLM_API_KEY* ]]
	[[ "$output" != *--api-key* && "$output" != *--key* ]]
	run os-cot --api-key=secret --query x
	[ "$status" -eq 2 ]
}
