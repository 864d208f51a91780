#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The contract every program keeps (see onesearch(7)): --help, --version,
# usage errors, empty input, bad records, write errors and a full disk,
# and documented options.

load helper

# os-quantize needs items in its catalog, and --assign a quantizer there;
# os-distill SIDs, and os-search a model trained on them.
setup_file() {
	export PATH="$(os_make_wrappers):$PATH"
	unset OS_CATALOG
	printf '%s\n' '{"id":"1","title":"one"}' '{"id":"2","title":"two"}' |
		os-tokenize -q -C "$BATS_FILE_TMPDIR/quantize.db" >/dev/null
	printf '%s\n' '{"id":"1","embedding":[1,0]}' '{"id":"2","embedding":[0,1]}' |
		os-quantize -q -C "$BATS_FILE_TMPDIR/quantize.db" --levels 2 >/dev/null
	os-distill -q -C "$BATS_FILE_TMPDIR/quantize.db" $TINY_MODEL \
		-o "$BATS_FILE_TMPDIR/model.osm" </dev/null
}

TINY_MODEL="--steps 2 --layers 1 --dim 8 --heads 2 --ff 8 --buckets 64"

# The arguments a program needs to run on records from stdin.
args_for() {
	case "$1" in
	os-tokenize) echo "-C $BATS_TEST_TMPDIR/contract.db" ;;
	os-quantize) echo "-C $BATS_FILE_TMPDIR/quantize.db --assign" ;;
	os-cot) echo "-C $BATS_FILE_TMPDIR/quantize.db" ;;
	os-eval) echo "--qrels $FIXTURES/eval/qrels.txt" ;;
	os-distill) echo "-C $BATS_FILE_TMPDIR/quantize.db $TINY_MODEL -o $BATS_TEST_TMPDIR/m.osm" ;;
	os-search) echo "-C $BATS_FILE_TMPDIR/quantize.db -m $BATS_FILE_TMPDIR/model.osm" ;;
	*) echo "" ;;
	esac
}

# A good record for each program.
record_for() {
	case "$1" in
	os-tokenize) echo '{"id":"1","title":"Behr Premium 1 gal. Deck Stain"}' ;;
	os-quantize) echo '{"id":"1","embedding":[1,0]}' ;;
	os-cot) echo '{"query":"one"}' ;;
	os-eval) echo '{"qid":"q1","results":[{"id":"d1","score":1}]}' ;;
	os-distill) echo '{"query":"one","relevant":["1"]}' ;;
	os-search) echo '{"qid":"q1","query":"one"}' ;;
	esac
}

@test "--help prints usage to stdout and exits 0" {
	for p in $(os_program_names); do
		run "$p" --help
		[ "$status" -eq 0 ]
		[[ "${lines[0]}" == "Usage: $p "* ]]
	done
}

@test "--version names the program and the package" {
	for p in $(os_program_names); do
		run "$p" --version
		[ "$status" -eq 0 ]
		[[ "${lines[0]}" == "$p (onesearch) "* ]]
	done
}

@test "a bad option exits 2 with a hint" {
	for p in $(os_program_names); do
		run "$p" --no-such-option
		[ "$status" -eq 2 ]
		[[ "$output" == *"$p: unrecognized option '--no-such-option'"* ]]
		[[ "$output" == *"Try '$p --help' for more information."* ]]
		run "$p" -Z
		[ "$status" -eq 2 ]
		[[ "$output" == *"invalid option -- 'Z'"* ]]
	done
}

@test "empty input exits 0 with empty output (os-eval: a summary of nothing found)" {
	for p in $(os_program_names); do
		run bash -c "$p $(args_for "$p") </dev/null 2>/dev/null"
		[ "$status" -eq 0 ]
		if [ "$p" = os-eval ]; then
			[[ "$output" == *'"missing":4,'*'"recall@10":0,'* ]]
		else
			[ -z "$output" ]
		fi
	done
}

@test "a malformed line exits 3 naming -:LINE:" {
	for p in $(os_program_names); do
		run bash -c "{ echo '$(record_for "$p")'; echo '{\"id\": oops'; } | $p $(args_for "$p") -q"
		[ "$status" -eq 3 ]
		[[ "$output" == *"$p: -:2: malformed JSON at column 8"* ]]
	done
}

@test "output to /dev/full exits 1" {
	for p in $(os_program_names); do
		if [ "$p" = os-distill ]; then # its output is the model file
			run bash -c "echo '$(record_for "$p")' | $p $(args_for "$p") -q -o /dev/full"
			[ "$status" -eq 1 ]
			[[ "$output" == *"$p: cannot write '/dev/full': No space left on device"* ]]
			continue
		fi
		run bash -c "echo '$(record_for "$p")' | $p $(args_for "$p") -q >/dev/full"
		[ "$status" -eq 1 ]
		[[ "$output" == *"$p: write error: No space left on device"* ]]
	done
}

@test "a full disk: exit 1 naming the file, the catalog as it was, no partial file" {
	unshare --user --map-root-user --mount true 2>/dev/null ||
		skip "no user namespace here to mount a small tmpfs in"
	items="$OS_SRCDIR/share/sample/items.jsonl" # 800 kB, twice the room
	os-tokenize -q -C shop.db "$FIXTURES/tiny-shop.jsonl" >/dev/null
	os-quantize -q -C shop.db --levels 4,4 "$FIXTURES/tiny-shop.jsonl" >/dev/null
	jq -c '{qid: .id, query: .title, relevant: [.id]}' "$FIXTURES/tiny-shop.jsonl" >q.jsonl
	mkdir small
	cat >full.sh <<-EOF
		mount -t tmpfs -o size=400k tmpfs small || exit 99
		cp shop.db small/
		os-tokenize -q -C small/shop.db "$items" >/dev/null
		echo "ingest \$? \$(sqlite3 small/shop.db 'SELECT count(*) FROM items; PRAGMA integrity_check' | tr '\n' ' ')"
		os-tokenize -q -C shop.db --no-mine -o small/items.jsonl "$items"
		echo "items \$?"
		os-distill -q -C shop.db -o small/m.osm --dim 64 --layers 2 --ff 256 --steps 1 q.jsonl
		echo "model \$?"
		yes '{"qid":"q","query":"bolt white rake"}' | head -n 3000 >many.jsonl
		os-search -q -C shop.db --bm25 -o small/run.jsonl many.jsonl
		echo "search \$?"
		ls small
	EOF
	run unshare --user --map-root-user --mount bash full.sh
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "os-tokenize: catalog 'small/shop.db': database or disk is full" ]
	[ "${lines[1]}" = "ingest 1 40 ok " ]
	[ "${lines[2]}" = "os-tokenize: cannot write 'small/items.jsonl': No space left on device" ]
	[ "${lines[3]}" = "items 1" ]
	[ "${lines[4]}" = "os-distill: cannot write 'small/m.osm': No space left on device" ]
	[ "${lines[5]}" = "model 1" ]
	[ "${lines[6]}" = "os-search: cannot write 'small/run.jsonl': No space left on device" ]
	[ "${lines[7]}" = "search 1" ]
	[ "${lines[8]}" = "shop.db" ] # and nothing else
	[ "${#lines[@]}" -eq 9 ]
}

@test "every long option in --help is in the man page" {
	for p in $(os_program_names); do
		page="$MANDIR/$p.1"
		[ -f "$page" ]
		text=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$page")
		for opt in $("$p" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
			if ! grep -q -- "$opt" <<<"$text"; then
				echo "$p: $opt is not in $page"
				return 1
			fi
		done
	done
}

@test "bash completion offers each program's long options and the values of a few" {
	source "$OS_SRCDIR/share/completion/onesearch.bash"
	for p in $(os_program_names); do
		COMP_WORDS=("$p" --hel)
		COMP_CWORD=1
		_onesearch "$p"
		[ "${COMPREPLY[*]}" = "--help" ]
	done
	COMP_WORDS=(os-search --be)
	COMP_CWORD=1
	_onesearch os-search
	[ "${COMPREPLY[*]}" = "--beam=" ]
	COMP_WORDS=(os-search --fusion "")
	COMP_CWORD=2
	_onesearch os-search
	[ "${COMPREPLY[*]}" = "rrf score" ]
}
