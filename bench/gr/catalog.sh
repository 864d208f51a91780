# SPDX-License-Identifier: MIT
# bench/gr/catalog.sh: sourced by the Home Depot benchmarks. hd_catalog DB
# LEVELS builds, unless DB exists, the catalog of ../shared/data/home-depot
# with SIDs: ingest, the built-in encoder trained on train.jsonl, the
# items' vectors and os-quantize with LEVELS. Needs $bin and $data.
hd_catalog() {
	local db=$1 levels=$2 start
	[ -s "$db" ] && return 0
	start=$(date +%s.%N)
	"$bin/os-tokenize" -q -C "$db" "$data/catalog.jsonl" >/dev/null
	"$bin/os-tokenize" -q -C "$db" --train-encoder "$data/train.jsonl"
	"$bin/os-tokenize" -q -C "$db" --no-mine --emit embedding "$data/catalog.jsonl" >items.jsonl
	"$bin/os-quantize" -C "$db" --levels "$levels" items.jsonl 2>&1 >/dev/null | tail -n 1
	echo "catalog, encoder and SIDs ($levels) in $(secs "$start") s"
}

secs() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }'; }
