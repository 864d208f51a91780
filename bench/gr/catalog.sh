# SPDX-License-Identifier: MIT
# bench/gr/catalog.sh: sourced by the Home Depot benchmarks. hd_catalog DB
# LEVELS builds, unless DB exists, the catalog of ../shared/data/home-depot
# with SIDs: ingest, the built-in encoder trained on train.jsonl, the
# items' vectors (items.jsonl, the records with "embedding") and
# os-quantize with LEVELS; the seconds of each step go to catalog.times
# (lines "step seconds"). hd_segments VALID OUT labels each query of VALID
# "head" or "tail" in its "segment" (tail: a word, a lowercase run of
# letters and digits, that no train query has). Need $bin and $data.
hd_catalog() {
	local db=$1 levels=$2 start
	[ -s "$db" ] && return 0
	start=$(date +%s.%N)
	"$bin/os-tokenize" -q -C "$db" "$data/catalog.jsonl" >/dev/null
	echo "ingest $(secs "$start")" >catalog.times
	start=$(date +%s.%N)
	"$bin/os-tokenize" -q -C "$db" --train-encoder "$data/train.jsonl"
	echo "encoder $(secs "$start")" >>catalog.times
	start=$(date +%s.%N)
	"$bin/os-tokenize" -q -C "$db" --no-mine --emit embedding "$data/catalog.jsonl" >items.jsonl
	"$bin/os-quantize" -C "$db" --levels "$levels" items.jsonl 2>&1 >/dev/null | tail -n 1
	echo "sids $(secs "$start")" >>catalog.times
	echo "catalog, encoder and SIDs ($levels):" $(cat catalog.times) "(seconds)"
}

hd_segments() {
	/usr/bin/python3 - "$data/train.jsonl" "$1" "$2" <<'PY'
import json, re, sys
seen = set()
for line in open(sys.argv[1]):
    seen.update(re.findall(r"\w+", json.loads(line)["query"].lower()))
with open(sys.argv[3], "w") as out:
    for line in open(sys.argv[2]):
        r = json.loads(line)
        words = re.findall(r"\w+", r["query"].lower())
        r["segment"] = "head" if all(w in seen for w in words) else "tail"
        out.write(json.dumps(r) + "\n")
PY
}

secs() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }'; }
