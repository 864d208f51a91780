#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# os-cot: the stats backend's CoT on a small shop (a golden file, and the
# rules one by one: inferred category, leave-one-out, negations,
# preferences, thresholds), --explain, the cache (also when killed), bad
# input, and the llm backend against a local stand-in server.

load helper

setup_file() {
	export PATH="$(os_make_wrappers):$PATH"
	unset OS_CATALOG
	os-tokenize -q -C "$BATS_FILE_TMPDIR/c.db" "$FIXTURES/cot/items.jsonl" >/dev/null
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	cp "$BATS_FILE_TMPDIR/c.db" .
	cp "$FIXTURES/cot/train.jsonl" .
}

cot() {
	os-cot -q -C c.db --train train.jsonl "$@"
}

@test "the CoT of the fixture queries is the golden one" {
	run cot -o got.jsonl "$FIXTURES/cot/queries.jsonl"
	[ "$status" -eq 0 ]
	diff -u "$FIXTURES/cot/golden.jsonl" got.jsonl
}

@test "records pass through with their keys, in order, with a cot added" {
	printf '%s\n' '{"qid":7,"query":"bedroom fan","x":{"y":[1]},"cot":"old"}' \
		'{"query":"tap"}' | cot >out.jsonl
	jq -e -s 'length == 2 and .[0].qid == 7 and .[0].x.y == [1] and
		.[0].cot.backend == "stats" and .[1].query == "tap" and
		.[1].cot.intent == "faucet"' out.jsonl
}

@test "a category is inferred from what the training queries with its words led to" {
	echo '{"query":"bedroom fan"}' | cot --explain >out.jsonl
	jq -e '.cot.category == ["ceiling fan"] and .cot.intent == "ceiling fan"' out.jsonl
	# "bedroom" and "fan" both come in two training queries, both
	# about ceiling fans; the first word wins the tie
	jq -e '[.cot_explain[] | select(.field == "category")] ==
		[{"field":"category","keyword":"ceiling fan","from":"pairs",
		  "word":"bedroom","score":0.7451,"lift":3.17,"queries":2}]' out.jsonl
	# without training pairs nothing is inferred
	echo '{"query":"bedroom fan"}' | os-cot -q -C c.db >out.jsonl
	jq -e '.cot.category == [] and .cot.keywords == []' out.jsonl
}

@test "a training query's own pairs are left out" {
	echo '{"query":"Unique  GIZMO"}' >q.jsonl
	cot --min-support 1 q.jsonl >out.jsonl
	jq -e '.cot.category == [] and .cot.keywords == []' out.jsonl
	cot --min-support 1 --no-leave-one-out q.jsonl >out.jsonl
	jq -e '.cot.category == ["soldering iron"]' out.jsonl
}

@test "negations become negative constraints and 'without' keywords" {
	printf '%s\n' '{"query":"lead-free solder"}' '{"query":"solder without flux"}' \
		'{"query":"drill no battery"}' | cot --explain >out.jsonl
	jq -e -s '.[0].cot.negative == ["lead"] and .[1].cot.negative == ["flux"] and
		.[2].cot.negative == ["battery"] and
		(.[1].cot.keywords | index("without flux")) != null and
		(.[1].cot_explain[] | select(.field == "negative") | .cue) == "without flux"' out.jsonl
}

@test "preferences come from the user's history and profile" {
	cot "$FIXTURES/cot/queries.jsonl" >out.jsonl
	# q5: 2 of 3 history items are aqualine faucets, their median price
	# 159 is in the dearest third (from 129); q8: 3 of 4 budgetline, 2
	# drills, median 49 in the cheapest third (to 49)
	jq -e -s '(map(select(.qid == "q5"))[0].cot.personal ==
		["aqualine","faucet","premium","modern"]) and
		(map(select(.qid == "q8"))[0].cot.personal == ["budgetline","drill","budget"])' out.jsonl
	# one history item is not a preference; --history limits what is read
	echo '{"query":"tap","user":{"id":"u","history":["13"]}}' | cot >out.jsonl
	jq -e '.cot.personal == []' out.jsonl
	echo '{"query":"tap","user":{"id":"u","history":["12","13","14"]}}' | cot --history 1 >out.jsonl
	jq -e '.cot.personal == []' out.jsonl
	echo '{"query":"tap","user":null}' | cot >out.jsonl
	jq -e '.cot.personal == []' out.jsonl
}

@test "thresholds: --max-keywords, --min-score, --min-lift" {
	cot --max-keywords 1 "$FIXTURES/cot/queries.jsonl" >out.jsonl
	jq -e -s 'all(.[]; (.cot.keywords | length) <= 1) and
		any(.[]; (.cot.keywords | length) == 1)' out.jsonl
	cot --min-score 1 --min-attribute 1 "$FIXTURES/cot/queries.jsonl" >out.jsonl
	jq -e -s 'all(.[]; .cot.substitutes == [] and (.cot.attributes.brand // []) == [])' out.jsonl
	# "battery power tool": drill scores 0.62 at a lift of 1.76
	echo '{"query":"battery power tool"}' | cot >out.jsonl
	jq -e '.cot.category == []' out.jsonl
	echo '{"query":"battery power tool"}' | cot --min-lift 1.5 >out.jsonl
	jq -e '.cot.category == ["drill"]' out.jsonl
}

@test "a second run reads every answer from the cache; a change of input misses it" {
	run os-cot -v -C c.db --train train.jsonl -o one.jsonl "$FIXTURES/cot/queries.jsonl"
	[ "$status" -eq 0 ]
	[[ "$output" == *"statistics of 16 items"* ]]
	[[ "$output" == *"8 queries, 0 from the cache"* ]]
	[ "$(sqlite3 c.db 'SELECT count(*) FROM cot_cache')" -eq 8 ]
	run os-cot -v -C c.db --train train.jsonl -o two.jsonl "$FIXTURES/cot/queries.jsonl"
	[[ "$output" == *"8 queries, 8 from the cache"* ]]
	[[ "$output" != *"statistics"* ]]
	cmp one.jsonl two.jsonl
	run os-cot -v -C c.db --train train.jsonl --refresh -o two.jsonl "$FIXTURES/cot/queries.jsonl"
	[[ "$output" == *"8 queries, 0 from the cache"* ]]
	cmp one.jsonl two.jsonl
	# other thresholds, other training pairs: other answers
	run os-cot -v -C c.db --train train.jsonl --min-score 0.9 -o /dev/null "$FIXTURES/cot/queries.jsonl"
	[[ "$output" == *"8 queries, 0 from the cache"* ]]
	echo '{"query":"tap","relevant":["14"]}' >>train.jsonl
	run os-cot -v -C c.db --train train.jsonl -o /dev/null "$FIXTURES/cot/queries.jsonl"
	[[ "$output" == *"8 queries, 0 from the cache"* ]]
	[ "$(sqlite3 c.db 'SELECT count(*) FROM cot_cache')" -eq 24 ]
	# --no-cache neither reads nor writes
	run os-cot -v -C c.db --train train.jsonl --no-cache -o /dev/null "$FIXTURES/cot/queries.jsonl"
	[[ "$output" == *"8 queries, 0 from the cache"* ]]
	[ "$(sqlite3 c.db 'SELECT count(*) FROM cot_cache')" -eq 24 ]
}

@test "the same answers on any number of threads" {
	cot --threads 1 "$FIXTURES/cot/queries.jsonl" --no-cache >one.jsonl
	cot --threads 2 "$FIXTURES/cot/queries.jsonl" --no-cache >two.jsonl
	cmp one.jsonl two.jsonl
}

@test "a bad user exits 3 naming the line; the records before it are written" {
	printf '%s\n' '{"query":"tap"}' '{"query":"fan","user":{"history":"13"}}' >bad.jsonl
	run cot -o out.jsonl bad.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == *"os-cot: bad.jsonl:2: \"user\": \"history\" must be an array of item ids"* ]]
	[ ! -e out.jsonl ]
	run bash -c "os-cot -q -C c.db --train train.jsonl <bad.jsonl"
	[ "$status" -eq 3 ]
	[ "$(echo "$output" | grep -c '"cot"')" -eq 1 ]
	printf '%s\n' '{"query":"tap","user":[1]}' | { run cot; [ "$status" -eq 3 ]; }
	run bash -c "echo '{\"qid\":1}' | os-cot -q -C c.db"
	[ "$status" -eq 3 ]
	[[ "$output" == *"os-cot: -:1: "*"query"* ]]
}

@test "a bad training file exits 3 naming its line; no catalog is created" {
	printf '%s\n' '{"query":"tap","relevant":["1"]}' '{"query":"x","relevant":"1"}' >t.jsonl
	run bash -c "echo '{\"query\":\"tap\"}' | os-cot -q -C c.db --train t.jsonl"
	[ "$status" -eq 3 ]
	[[ "$output" == *"os-cot: t.jsonl:2: "* ]]
	run bash -c "echo '{\"query\":\"tap\"}' | os-cot -q -C c.db --train missing.jsonl"
	[ "$status" -eq 1 ]
	[[ "$output" == *"missing.jsonl: No such file or directory"* ]]
	run bash -c "echo '{\"query\":\"tap\"}' | os-cot -q -C none.db"
	[ "$status" -eq 1 ]
	[ ! -e none.db ]
	run os-cot -C c.db --train - </dev/null
	[ "$status" -eq 2 ]
	run os-cot -C c.db --backend oracle </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid --backend value 'oracle'"* ]]
}

# The llm backend against tests/fixtures/llm-server.py.
KEY="sk-test-4f9a2c81e7"

start_server() {
	python3 "$FIXTURES/llm-server.py" "$BATS_TEST_TMPDIR" "$KEY" &
	SERVER=$!
	for _ in $(seq 500); do [ -e "$BATS_TEST_TMPDIR/port" ] && break; sleep 0.01; done
	URL="http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/port")/v1/chat/completions"
}

teardown() {
	if [ -n "${SERVER:-}" ]; then kill "$SERVER" 2>/dev/null || true; fi
}

llm() {
	OS_LLM_API_KEY=$KEY os-cot -C c.db --backend llm --endpoint "$URL" --model test-model \
		--timeout 1 --retries 2 "$@"
}

# Neither the output, the messages nor the catalog ever hold the key.
no_key_anywhere() {
	! grep -r -q -a -- "$KEY" out.jsonl err c.db* 2>/dev/null
}

@test "llm: good answers become the CoT, the key is sent and never shown" {
	start_server
	printf '%s\n' '{"qid":1,"query":"good drill"}' \
		'{"qid":2,"query":"good saw","user":{"history":["1","2"],"profile":{"style":"modern"}}}' >q.jsonl
	llm q.jsonl >out.jsonl 2>err
	jq -e -s 'length == 2 and all(.[]; .cot.backend == "llm" and
		.cot.keywords == ["power tools","voltix","impact driver"] and
		.cot.attributes.brand == ["voltix"])' out.jsonl
	[ "$(grep -c 'auth ok' requests)" -eq 2 ]
	grep -q $'^good drill\tauth ok\t[0-9]*\ttest-model$' requests
	no_key_anywhere
	# without the key, no Authorization header
	os-cot -q -C c.db --backend llm --endpoint "$URL" --model other --no-cache q.jsonl >/dev/null
	[ "$(grep -c 'auth bad' requests)" -eq 2 ]
}

@test "llm: the prompt carries the history's titles and the profile" {
	start_server
	echo '{"query":"good","user":{"history":["13","nope"],"profile":{"style":"modern"}}}' >q.jsonl
	cat >prompt.txt <<'TXT'
Query: {{query}}
History: {{history}}
Profile: {{profile}}
TXT
	llm --prompt prompt.txt q.jsonl >out.jsonl
	jq -e '.cot.backend == "llm"' out.jsonl
	grep -qx 'Query: good' prompts
	grep -qx 'History: Aqualine Brushed Nickel Kitchen Faucet' prompts
	grep -qx 'Profile: {"style":"modern"}' prompts
	# the default prompt asks for the three steps and the JSON answer
	llm --no-cache <<<'{"query":"good again"}' >/dev/null
	grep -q '^3. Preference calibration' prompts
	grep -q '^Shopper.s recent items (most recent first): none$' prompts
	run os-cot -C c.db --backend llm --endpoint "$URL" --model m --prompt missing.txt q.jsonl
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot open 'missing.txt'"* ]]
}

@test "llm: bad answers are retried, then the record passes through without a CoT" {
	start_server
	printf '%s\n' '{"qid":1,"query":"malformed","cot":"old"}' '{"qid":2,"query":"schema"}' \
		'{"qid":3,"query":"fix"}' '{"qid":4,"query":"good"}' >q.jsonl
	run llm -o out.jsonl q.jsonl
	[ "$status" -eq 1 ]
	[[ "$output" == *"os-cot: q.jsonl:1: llm: bad answer: the answer's content holds no JSON object (after 3 tries)"* ]]
	[[ "$output" == *"os-cot: q.jsonl:2: llm: bad answer: \"cot\": \"intent\" must be a string (after 3 tries)"* ]]
	[[ "$output" == *"2 of 4 queries got no CoT from the llm"* ]]
	jq -e -s '[.[] | has("cot")] == [false, false, true, true] and .[2].cot.backend == "llm"' out.jsonl
	[ "$(grep -c '^malformed' requests)" -eq 3 ]
	[ "$(grep -c '^fix' requests)" -eq 2 ]
	# only answers are cached: a second run asks for the failed ones again
	run llm -o out.jsonl q.jsonl
	[ "$(grep -c '^fix' requests)" -eq 2 ]
	[ "$(grep -c '^malformed' requests)" -eq 6 ]
}

@test "llm: timeouts, 429 and 500 are retried with a pause; a 500 for good is reported" {
	start_server
	printf '%s\n' '{"query":"slow"}' '{"query":"busy"}' '{"query":"flaky"}' '{"query":"broken"}' >q.jsonl
	run llm --retries 1 -o out.jsonl q.jsonl
	[ "$status" -eq 1 ]
	[[ "$output" == *"q.jsonl:1: llm: Timeout was reached (after 2 tries)"* ]]
	[[ "$output" == *"q.jsonl:4: llm: HTTP 500 (after 2 tries)"* ]]
	jq -e -s '[.[] | has("cot")] == [false, true, true, false]' out.jsonl
	[ "$(grep -c '^busy' requests)" -eq 2 ]
	[ "$(grep -c '^flaky' requests)" -eq 2 ]
	[ "$(grep -c '^broken' requests)" -eq 2 ]
	# --retries 0: one try only
	run llm --retries 0 --no-cache -o out.jsonl <(echo '{"query":"broken"}')
	[ "$(grep -c '^broken' requests)" -eq 3 ]
}

@test "llm: --parallel keeps several requests in flight; a second run costs no request" {
	start_server
	for i in 1 2 3 4 5 6 7 8; do echo "{\"qid\":$i,\"query\":\"wait $i\"}"; done >q.jsonl
	llm --parallel 4 q.jsonl >one.jsonl
	[ "$(wc -l <requests)" -eq 8 ]
	[ "$(cut -f3 requests | sort -n | tail -n 1)" -ge 2 ]
	run llm -v q.jsonl -o two.jsonl
	[[ "$output" == *"8 queries, 8 from the cache"* ]]
	[ "$(wc -l <requests)" -eq 8 ]
	cmp one.jsonl two.jsonl
	# another model, another prompt: not the same answers
	run llm -v --model test-model-2 q.jsonl -o /dev/null
	[[ "$output" == *"8 queries, 0 from the cache"* ]]
}

@test "llm: an endpoint that is not there, and usage errors" {
	run os-cot -C c.db --backend llm --model m --timeout 1 --retries 0 \
		--endpoint http://127.0.0.1:9/v1/chat/completions <<<'{"query":"x"}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"llm: Couldn't connect to server"* ]]
	run os-cot -C c.db --backend llm --model m </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"--backend llm needs --endpoint URL and --model NAME"* ]]
	run os-cot -C c.db --backend llm --endpoint http://x --model m --explain </dev/null
	[ "$status" -eq 2 ]
}

@test "kill -9 while the cache fills: whole chunks kept, a rerun gives the same records" {
	python3 -c '
import json
for i in range(200000):
    print(json.dumps({"qid": i, "query": "bedroom fan %d" % i}))' >many.jsonl
	cot --no-cache many.jsonl >whole.jsonl
	for attempt in 1 2 3; do
		rm -f c.db*
		cp "$BATS_FILE_TMPDIR/c.db" .
		# os-cot itself in the background (a shell function would run in a
		# subshell that kill -9 kills, leaving os-cot running)
		os-cot -q -C c.db --train train.jsonl many.jsonl >part.jsonl &
		pid=$!
		for _ in $(seq 1000); do
			n=$(sqlite3 -cmd '.timeout 5000' c.db 'SELECT count(*) FROM cot_cache' 2>/dev/null || echo 0)
			[ "${n:-0}" -gt 0 ] && break
			sleep 0.01
		done
		kill -9 $pid
		wait $pid || true
		[ "$(sqlite3 -cmd '.timeout 5000' c.db 'PRAGMA integrity_check')" = ok ]
		n=$(sqlite3 -cmd '.timeout 5000' c.db 'SELECT count(*) FROM cot_cache')
		echo "# attempt $attempt: $n answers cached when killed" >&3
		# chunks of 256 queries, each in one transaction (or all done)
		[ "$n" -eq 200000 ] || [ $((n % 256)) -eq 0 ]
		[ "$n" -lt 200000 ] && break
	done
	cot many.jsonl >again.jsonl
	cmp whole.jsonl again.jsonl
	[ "$(sqlite3 -cmd '.timeout 5000' c.db 'SELECT count(*) FROM cot_cache')" -eq 200000 ]
}
