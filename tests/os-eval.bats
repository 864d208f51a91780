#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# os-eval: every metric against a case worked out by hand, TREC and JSONL
# inputs giving identical numbers, ties, duplicates, empty and missing
# queries, grades, segments, comparisons, SID health, diversity, the
# chart, and bad input.

load helper

EVAL="$FIXTURES/eval"

# The "metrics" object of the first run of a summary.
metrics() { sed -e 's/.*"metrics":{\([^}]*\)}.*/\1/' <<<"$1" | head -n 1; }

# The hand-worked case (tests/fixtures/eval): judged q1..q4, cutoffs 1,3.
# q1: ranking d3 (grade 0), d9 (unjudged; ties d1 at 0.8 and comes first,
#     docids descending), d1 (2), d2 (1); relevant d1 d2 d4.
#     recall@3 1/3, mrr@3 1/3, p@3 1/3, ndcg@3 = (3/log2 3) / (3+1+1/log2 3)
#     = 0.408728, AP = (1/3 + 2/4) / 3.
# q2: d8 (unjudged), d5 (1): recall@3 1, mrr@3 1/2, ndcg@3 1, AP 1/2.
# q3 (missing from the run) and q4 (nothing relevant) score 0.
HAND='"recall@1":0,"recall@3":0.333333,"mrr@1":0,"mrr@3":0.208333,"ndcg@1":0,"ndcg@3":0.352182,"hit@1":0,"hit@3":0.5,"p@1":0,"p@3":0.166667,"map":0.194444,"mrr":0.208333'

@test "TREC qrels and run: every metric equals the hand-worked values" {
	run os-eval --qrels "$EVAL/qrels.txt" -k 3,1 "$EVAL/run.txt"
	[ "$status" -eq 0 ]
	[ "$(metrics "$output")" = "$HAND" ]
	[[ "$output" == *'"judged_queries":4,'* ]]
	[[ "$output" == *'"cutoffs":[1,3]'* ]]
	[[ "$output" == *'"queries":{"evaluated":4,"missing":2,"unjudged":1}'* ]]
}

@test "JSONL judgments and run give the same numbers as TREC" {
	run os-eval --qrels "$EVAL/qrels.jsonl" -k 1,3 "$EVAL/run.jsonl"
	[ "$status" -eq 0 ]
	[ "$(metrics "$output")" = "$HAND" ]
	[[ "$output" == *'"records_without_judgments":1'* ]]
	# mixed: TREC judgments, JSONL run, from standard input, compressed
	gzip -c "$EVAL/run.jsonl" >run.jsonl.gz
	run bash -c "os-eval --qrels '$EVAL/qrels.txt' -k 1,3 < run.jsonl.gz"
	[ "$(metrics "$output")" = "$HAND" ]
}

@test "--by-rank trusts the rank field; --gain linear; --min-grade" {
	# by rank q1 is d3, d1, d9, d2: its first relevant is at 2
	run os-eval --qrels "$EVAL/qrels.txt" -k 3 --by-rank "$EVAL/run.txt"
	[[ "$output" == *'"mrr@3":0.25,'* ]]
	# linear gains: q1 ndcg@3 = (2/log2 3) / (2 + 1 + 1/log2 3) = 0.347531,
	# with q2's 1: (0.347531 + 1) / 4
	run os-eval --qrels "$EVAL/qrels.txt" -k 3 --gain linear "$EVAL/run.txt"
	[[ "$output" == *'"ndcg@3":0.336883,'* ]]
	# only grade 2 is relevant: q1 has one relevant item (d1 at rank 3),
	# q2 none; recall@3 = (1 + 0 + 0 + 0) / 4
	run os-eval --qrels "$EVAL/qrels.txt" -k 3 --min-grade 2 "$EVAL/run.txt"
	[[ "$output" == *'"recall@3":0.25,'* ]]
	[[ "$output" == *'"map":0.083333,'* ]]
	# the same in JSONL, where q2's d5 is named by "relevant" alone (grade 1)
	run os-eval --qrels "$EVAL/qrels.jsonl" -k 3 --min-grade 2 "$EVAL/run.jsonl"
	[[ "$output" == *'"recall@3":0.25,'* ]]
	[[ "$output" == *'"map":0.083333,'* ]]
	run os-eval --qrels "$EVAL/qrels.txt" --gain square "$EVAL/run.txt"
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid --gain value 'square' (known: exp, linear)"* ]]
}

@test "a repeated item counts once, at its first place" {
	printf '%s\n' 'q1 0 d1 1' 'q1 0 d2 1' >qrels.txt
	echo '{"qid":"q1","results":[{"id":"d1","score":3},{"id":"d1","score":2},{"id":"d2","score":1}]}' >run.jsonl
	run os-eval --qrels qrels.txt -k 3 run.jsonl
	[ "$status" -eq 0 ]
	# d1, d2: p@3 = 2/3 (a counted repeat would make it 3/3), AP 1
	[[ "$output" == *'"p@3":0.666667,'* ]]
	[[ "$output" == *'"map":1,'* ]]
	[[ "$output" == *'"duplicate_rate":0.333333'* ]]
}

@test "an empty run scores 0 on every judged query" {
	run bash -c "os-eval --qrels '$EVAL/qrels.txt' -k 1,3 </dev/null"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"queries":{"evaluated":4,"missing":4,"unjudged":0}'* ]]
	[ "$(metrics "$output")" = '"recall@1":0,"recall@3":0,"mrr@1":0,"mrr@3":0,"ndcg@1":0,"ndcg@3":0,"hit@1":0,"hit@3":0,"p@1":0,"p@3":0,"map":0,"mrr":0' ]
}

@test "--per-query writes one line per run and query before the summary" {
	run os-eval --qrels "$EVAL/qrels.jsonl" -k 3 --per-query "$EVAL/run.jsonl"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 5 ]
	[[ "${lines[0]}" == '{"run":'*'"qid":"q1","metrics":{"recall@3":0.333333,'* ]]
	[[ "${lines[3]}" == *'"qid":"q4"'* ]]
	[[ "${lines[4]}" == '{"qrels":'* ]]
}

@test "segments from the judgments and head/torso/tail from a training file" {
	printf '%s\n' \
		'{"qid":"a","query":"Drill","segment":"brand","relevant":["x"]}' \
		'{"qid":"b","query":"saw","segment":"type","relevant":["y"]}' \
		'{"qid":"c","query":"hammer","segment":"type","relevant":["z"]}' >q.jsonl
	printf '%s\n' '{"qid":"a","results":[{"id":"x","score":1}]}' \
		'{"qid":"b","results":[{"id":"q","score":1}]}' \
		'{"qid":"c","results":[{"id":"z","score":1}]}' >r.jsonl
	printf '{"query":"drill"}\n{"query":"DRILL "}\n{"query":"drill"}\n{"query":"saw"}\n{"query":"saw"}\n' >train.jsonl
	run os-eval --qrels q.jsonl -k 1 --freq train.jsonl --head-min 3 --tail-max 1 r.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *'"by_segment":{"brand":{"queries":1,"metrics":{"recall@1":1,'* ]]
	[[ "$output" == *'"type":{"queries":2,"metrics":{"recall@1":0.5,'* ]]
	[[ "$output" == *'"by_frequency":{"head":{"queries":1,"metrics":{"recall@1":1,'* ]]
	[[ "$output" == *'"torso":{"queries":1,"metrics":{"recall@1":0,'* ]]
	[[ "$output" == *'"tail":{"queries":1,"metrics":{"recall@1":1,'* ]]
	run os-eval --qrels q.jsonl --head-min 2 --tail-max 2 r.jsonl
	[ "$status" -eq 2 ]
}

@test "two runs: differences, randomization p-values and bootstrap intervals" {
	run os-eval --qrels "$EVAL/qrels.txt" -k 3 "$EVAL/run.txt" "$EVAL/run.txt"
	[[ "$output" == *'"comparisons":[{"baseline":'*'"recall@3":{"diff":0,"p":1,"ci95":[0,0]}'* ]]
	# a run that finds everything against the hand-worked one
	printf '%s\n' 'q1 Q0 d1 1 3 x' 'q1 Q0 d2 2 2 x' 'q1 Q0 d4 3 1 x' 'q2 Q0 d5 1 1 x' \
		'q3 Q0 d6 1 1 x' >best.txt
	run os-eval --qrels "$EVAL/qrels.txt" -k 3 --seed 7 "$EVAL/run.txt" best.txt
	[[ "$output" =~ \"recall@3\":\{\"diff\":0\.416667,\"p\":0\.[0-9]+,\"ci95\":\[[0-9.]+,[0-9.]+\]\} ]]
	again=$(os-eval --qrels "$EVAL/qrels.txt" -k 3 --seed 7 "$EVAL/run.txt" best.txt)
	[ "$again" = "$output" ]
}

@test "SID health and diversity with a catalog" {
	printf '%s\n' \
		'{"id":"d1","title":"Red Drill","category":"Tools > Drills","brand":"Acme"}' \
		'{"id":"d2","title":"Blue Drill","category":"Tools > Drills","brand":"Bolt"}' \
		'{"id":"d5","title":"Saw","category":"Tools > Saws","brand":"Acme"}' \
		'{"id":"d7","title":"Glue","category":"Glue","brand":"Stik"}' >items.jsonl
	os-tokenize -q -C shop.db items.jsonl >/dev/null
	sqlite3 shop.db "INSERT INTO sids SELECT seq, CASE id WHEN 'd1' THEN '1,2,0' WHEN 'd2' THEN '1,3,0' WHEN 'd5' THEN '2,1,0' ELSE '3,1,0' END FROM items"
	printf '%s\n' \
		'{"qid":"q1","results":[{"id":"d1","score":3,"sid":[1,2,0]},{"id":"d2","score":2,"sid":[9,9,9]},{"id":"d5","score":1,"sid":[2,1,0]}]}' \
		'{"qid":"q2","results":[{"id":"d1","score":1,"sid":[1,2,0]}]}' >run.jsonl
	run os-eval --qrels "$EVAL/qrels.txt" -C shop.db --depth 10 run.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *'"sid":{"depth":10,"results_with_sid":4,"valid_sid_rate":0.75,"duplicate_rate":0}'* ]]
	# q1: 2 categories, 2 brands; q2: 1 and 1; items shown: d1 d2 d5 of 4;
	# exposure 0 1 1 2 (d7, d2, d5, d1): Gini = (-3*0 -1*1 +1*1 +3*2) / (4*4)
	[[ "$output" == *'"diversity":{"depth":10,"distinct_categories":1.5,"distinct_brands":1.5,"coverage":0.75,"exposure_gini":0.375}'* ]]
	run os-eval --qrels "$EVAL/qrels.txt" run.jsonl
	[[ "$output" == *'"valid_sid_rate":null'* ]]
	[[ "$output" != *'"diversity"'* ]]
}

@test "--table aligns the runs; --svg draws a well-formed chart" {
	cp "$EVAL/run.txt" 'a&b<run>.txt'
	run os-eval --qrels "$EVAL/qrels.jsonl" -k 1,3 --table --svg chart.svg "$EVAL/run.txt" 'a&b<run>.txt'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "all judged queries (4)" ]]
	[[ "${lines[1]}" =~ ^metric\ +.*run\.txt\ +a\&b\<run\>\.txt$ ]]
	[[ "$output" =~ recall@3\ +0\.3333\ +0\.3333\ \+0\.0000\ p=1\.0000 ]]
	python3 -c 'import sys, xml.etree.ElementTree as ET; r = ET.parse(sys.argv[1]).getroot(); assert r.tag.endswith("svg"); assert "a&b<run>.txt" in "".join(r.itertext())' chart.svg
	# the chart is written whole or not at all, and before the metrics
	run os-eval --qrels "$EVAL/qrels.jsonl" --svg /nonexistent/dir/c.svg "$EVAL/run.txt"
	[ "$status" -eq 1 ]
	[[ "$output" == "os-eval: cannot create '/nonexistent/dir/c.svg.tmp."* ]]
	run os-eval --qrels "$EVAL/qrels.jsonl" --svg - "$EVAL/run.txt"
	[ "$status" -eq 2 ]
	# one query is one query
	run os-eval --qrels "$EVAL/qrels.jsonl" --table --freq "$EVAL/qrels.jsonl" --tail-max 0 --head-min 1 "$EVAL/run.txt"
	[[ "$output" == *"frequency head (4 queries)"* ]]
	printf '{"qid":"q1","segment":"s","relevant":["d1"]}\n' >one.jsonl
	run os-eval --qrels one.jsonl --table "$EVAL/run.txt"
	[[ "$output" == *"segment s (1 query)"* ]]
}

@test "a run of many chunks: any line order, threads, compression and format give one result" {
	# 3000 queries x 150 results (11 MB, three chunks); equal scores and
	# repeated items in every query
	awk 'BEGIN { split("2 9 30 60 120 140", k, " ")
		for (q = 0; q < 3000; q++) for (i = 1; i <= 150; i++)
		printf "q%d Q0 d%d %d %d.5 run\n", q, (q * 31 + (i == 5 ? 3 : i) * 7) % 101, i, 200 - int(i / 2)
		for (q = 0; q < 3000; q++) for (j = 1; j <= 6; j++)
		printf "q%d 0 d%d %d\n", q, (q * 31 + k[j] * 7) % 101, j % 3 >"qrels.txt" }' >run.txt
	want=$(os-eval --qrels qrels.txt -k 1,10,100 --per-query run.txt)
	[[ "$want" == *'"queries":{"evaluated":3000,"missing":0,"unjudged":0},"metrics":{"recall@1":0,"recall@10":0.5,'* ]]
	[[ "$want" == *'"duplicate_rate":0.1}'* ]]
	# lines of a query far apart, one at a time on both ends of chunks
	sort -k3,3 -k1,1 run.txt >mixed.txt
	[ "$(os-eval --qrels qrels.txt -k 1,10,100 --per-query mixed.txt | sed 's/mixed.txt/run.txt/')" = "$want" ]
	[ "$(os-eval --threads 1 --qrels qrels.txt -k 1,10,100 --per-query run.txt)" = "$want" ]
	# standard input, which cannot be read twice: nothing is cut early
	[ "$(os-eval --qrels qrels.txt -k 1,10,100 --per-query - <mixed.txt | sed 's/"run":"-"/"run":"run.txt"/g')" = "$want" ]
	# blank lines and CRLF line ends; gzip (read through libarchive)
	awk '{ printf "%s\r\n", $0 } NR % 1000 == 0 { print "  " }' run.txt | gzip >crlf.txt.gz
	[ "$(os-eval --qrels qrels.txt -k 1,10,100 --per-query crlf.txt.gz | sed 's/crlf.txt.gz/run.txt/')" = "$want" ]
	# the same run as JSON lines, a query's results over several lines
	awk '{ printf "{\"qid\":\"%s\",\"results\":[{\"id\":\"%s\",\"score\":%s}]}\n", $1, $3, $5 }' mixed.txt >run.jsonl
	[ "$(os-eval --qrels qrels.txt -k 1,10,100 --per-query run.jsonl | sed 's/run.jsonl/run.txt/')" = "$want" ]
	# --by-rank keeps equal ranks in input order, whatever the chunks
	awk '{ $4 = 1; print }' run.txt >flat.txt
	run os-eval --qrels qrels.txt -k 10 --by-rank flat.txt
	awk '{ $5 = -NR; print }' run.txt >ordered.txt
	[ "$output" = "$(os-eval --qrels qrels.txt -k 10 ordered.txt | sed 's/ordered.txt/flat.txt/')" ]
	# a tar of two members, the second with a bad line
	head -n 200000 run.txt >part1.txt
	tail -n +200001 run.txt >part2.txt
	tar -cf parts.tar part1.txt part2.txt
	[ "$(os-eval --qrels qrels.txt -k 1,10,100 --per-query parts.tar | sed 's/parts.tar/run.txt/')" = "$want" ]
	sed -i '1000s/ 1[0-9]*\.5 / x /' part2.txt
	tar -cf parts.tar part1.txt part2.txt
	run os-eval --qrels qrels.txt parts.tar
	[ "$status" -eq 3 ]
	[ "$output" = "os-eval: parts.tar:part2.txt:1000: score 'x' is not a finite number" ]
	# pieces of blank lines only
	{ echo 'q1 Q0 d1 1 1 x'; yes '' | head -n 5000; } >blank.txt
	run os-eval --qrels "$EVAL/qrels.txt" -k 1 blank.txt
	[ "$status" -eq 0 ]
	[[ "$output" == *'"queries":{"evaluated":4,"missing":3,"unjudged":0}'* ]]
	# a bad line deep in the last chunk, and in the first of two pieces
	awk 'NR == 250001 { $5 = "x" } { print }' run.txt >bad.txt
	run os-eval --qrels qrels.txt bad.txt
	[ "$status" -eq 3 ]
	[ "$output" = "os-eval: bad.txt:250001: score 'x' is not a finite number" ]
	awk 'NR == 2 { $4 = "r" } NR == 200000 { $5 = "x" } { print }' run.txt >bad.txt
	run os-eval --qrels qrels.txt bad.txt
	[ "$output" = "os-eval: bad.txt:2: rank 'r' is not an integer of 32 bits" ]
	head -c 70000000 /dev/zero | tr '\0' 'a' >long.txt
	run os-eval --qrels qrels.txt --max-line 1000000 long.txt
	[ "$status" -eq 3 ]
	[ "$output" = "os-eval: long.txt:1: line longer than 1000000 bytes" ]
}

@test "bad input: each message names the file and line, exit 3" {
	printf 'q1 Q0 d1 1 0.5\n' >short.txt
	run os-eval --qrels "$EVAL/qrels.txt" short.txt
	[ "$status" -eq 3 ]
	[[ "$output" == "os-eval: short.txt:1: expected 'qid Q0 docid rank score tag' (6 fields)" ]]
	printf 'q1 Q0 d1 1 0.5 x\nq1 Q0 d2 two 0.4 x\n' >rank.txt
	run os-eval --qrels "$EVAL/qrels.txt" rank.txt
	[[ "$output" == "os-eval: rank.txt:2: rank 'two' is not an integer of 32 bits" ]]
	printf 'q1 Q0 d1 1 nan x\n' >score.txt
	run os-eval --qrels "$EVAL/qrels.txt" score.txt
	[[ "$output" == "os-eval: score.txt:1: score 'nan' is not a finite number" ]]
	printf 'q1 0 d1 1\nq1 0 d1 2\n' >twice.txt
	run os-eval --qrels twice.txt "$EVAL/run.txt"
	[ "$status" -eq 3 ]
	[[ "$output" == "os-eval: twice.txt:2: document 'd1' judged twice for query 'q1'" ]]
	echo '{"qid":"q1","results":{"id":"d1"}}' >obj.jsonl
	run os-eval --qrels "$EVAL/qrels.txt" obj.jsonl
	[[ "$output" == "os-eval: obj.jsonl:1: field 'results' must be an array" ]]
	echo '{"qid":"q1","graded":{"d1":"high"}}' >g.jsonl
	run os-eval --qrels g.jsonl "$EVAL/run.txt"
	[[ "$output" == "os-eval: g.jsonl:1: grade of 'd1' must be a number >= 0" ]]
	run os-eval "$EVAL/run.txt"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no judgments: give --qrels FILE"* ]]
	run os-eval --qrels "$EVAL/qrels.txt" -k 0,5 "$EVAL/run.txt"
	[ "$status" -eq 2 ]
	run os-eval --qrels missing.txt "$EVAL/run.txt"
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot read 'missing.txt': No such file or directory"* ]]
}
