# SPDX-License-Identifier: MIT
# helper.bash: loaded by every bats file. Puts the programs under test
# first on PATH (wrapped in valgrind when configure --enable-valgrind set
# OS_VALGRIND), gives each test a scratch directory, and names fixtures.
#
# Run one file by hand from the top of a built tree:
#   OS_BUILDDIR=$PWD OS_SRCDIR=$PWD bats tests/os-tokenize.bats

: "${OS_BUILDDIR:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
: "${OS_SRCDIR:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
: "${OS_PROGRAMS:=src/os-tokenize}"
FIXTURES="$OS_SRCDIR/tests/fixtures"
MANDIR="$OS_SRCDIR/man"

# The wrappers live in a per-file directory so that parallel test files
# never share one.
os_make_wrappers() {
	local dir="$BATS_FILE_TMPDIR/bin" p name
	mkdir -p "$dir"
	for p in $OS_PROGRAMS; do
		name=$(basename "$p")
		cat >"$dir/$name" <<WRAP
#!/bin/sh
exec $OS_VALGRIND "$OS_BUILDDIR/$p" "\$@"
WRAP
		chmod +x "$dir/$name"
	done
	echo "$dir"
}

setup_file() {
	export PATH="$(os_make_wrappers):$PATH"
	unset OS_CATALOG
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
}

# The names of the programs under test, one per line.
os_program_names() {
	local p
	for p in $OS_PROGRAMS; do basename "$p"; done
}

# The tiny shop (40 items with vectors) ingested and quantized into t.db,
# and each title as a query for its own item in q.jsonl, in the current
# directory.
tiny_shop() {
	os-tokenize -q -C t.db "$FIXTURES/tiny-shop.jsonl" | os-quantize -q -C t.db --levels 4,4 >/dev/null
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(json.dumps({"qid": r["id"], "query": r["title"], "relevant": [r["id"]]}))' \
		"$FIXTURES/tiny-shop.jsonl" >q.jsonl
}

# other_codebooks DB: a copy of t.db (from tiny_shop) with the same items
# under other codebooks, quantized from their vectors reversed and negated.
other_codebooks() {
	cp t.db "$1"
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    r["embedding"] = [-x for x in r["embedding"][::-1]]
    print(json.dumps(r))' "$FIXTURES/tiny-shop.jsonl" | os-quantize -q -C "$1" --levels 4,4 >/dev/null
}
