#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# os-distill: a tiny shop learned to 100% Recall@1, the same model for the
# same seed, --resume after an interrupt giving the model of an
# uninterrupted run, refusals, bad input, the metrics log; self-distillation
# from an sft model with a teacher reading CoT keywords; preference
# alignment raising the item the feedback rewards; OpenBLAS's kernels;
# dense labels of pseudo-queries and training queries; prefix and item
# vectors.

load helper

# Runs os-distill -q ARGS -o MODEL in the background and interrupts it
# (SIGINT) once its first checkpoint is there; $stopped is its exit status.
interrupt_after_checkpoint() {
	local model=$1 pid
	shift
	os-distill -q "$@" -o "$model" &
	pid=$!
	for _ in $(seq 500); do [ -e "$model.ckpt" ] && break; sleep 0.01; done
	kill -INT $pid
	stopped=0
	wait $pid || stopped=$?
}

# shop_vectors EPOCHS: trains t.db's encoder on q.jsonl for EPOCHS and
# writes the tiny shop's vectors from it to vec.jsonl.
shop_vectors() {
	os-tokenize -q -C t.db --train-encoder q.jsonl --encoder-dim 16 --encoder-epochs "$1" \
		--encoder-buckets 256
	jq -c 'del(.embedding)' "$FIXTURES/tiny-shop.jsonl" |
		os-tokenize -q -C t.db --no-mine --emit embedding >vec.jsonl
}

# t01_hits MODEL K: how many of the other titles' searches (q.jsonl) put
# t01 among MODEL's first K results.
t01_hits() {
	os-search -C t.db -m "$1" -k "$2" q.jsonl |
		jq -r 'select(.qid != "t01") | .results[].id' | grep -c '^t01$' || true
}

SMALL="--pseudo-queries 0 --dim 32 --heads 2 --ff 64 --layers 2 --buckets 256 --batch 16 --lr 0.003 --warmup 10 --dropout 0 --threads 1"

@test "the tiny shop's titles are learned to 100% Recall@1" {
	tiny_shop
	run os-distill -C t.db -o t.osm $SMALL --epochs 100 </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"40 examples an epoch: 40 titles x 1, 0 pseudo-queries, 0 queries"* ]]
	[[ "$output" == *"wrote 't.osm' after 300 steps"* ]]
	[ ! -e t.osm.ckpt ]
	os-search -C t.db -m t.osm -k 1 q.jsonl >run.jsonl
	run os-eval --qrels q.jsonl -k 1 run.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *'"recall@1":1,'* ]]
}

@test "OpenBLAS runs the kernels OPENBLAS_CORETYPE names, else ones the CPU is made for" {
	tiny_shop
	run env OPENBLAS_CORETYPE=Prescott os-distill -C t.db -o t.osm $SMALL --steps 2 </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"matrix products: "* ]]
	[[ "$output" == *"matrix products: openblas"* ]] || skip "the BLAS is not OpenBLAS"
	[[ "$output" == *"matrix products: openblas, kernels Prescott"* ]]
	[ -z "${OS_VALGRIND:-}" ] || skip "valgrind's runs set OPENBLAS_CORETYPE"
	grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo || skip "the CPU has no AVX2"
	run env -u OPENBLAS_CORETYPE os-distill -C t.db -o t.osm $SMALL --steps 2 </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" =~ "matrix products: openblas, kernels "(Haswell|Zen|SkylakeX|Cooperlake|SapphireRapids) ]]
}

# learn_tiny_shop MODEL [OPTIONS]: trains MODEL on the tiny shop for 100
# epochs with OPTIONS (os-distill's messages in $learned) and fails unless
# it finds every item first.
learn_tiny_shop() {
	local model=$1
	shift
	learned=$(os-distill -C t.db -o "$model" $SMALL --epochs 100 "$@" </dev/null 2>&1)
	os-search -C t.db -m "$model" -k 1 q.jsonl >run.jsonl
	os-eval --qrels q.jsonl -k 1 run.jsonl | jq -e '.runs[0].metrics["recall@1"] == 1'
}

# first_loss MODEL [OPTIONS]: the loss of the first step of a small MODEL
# trained with OPTIONS.
first_loss() {
	local model=$1
	shift
	os-distill -q -C t.db -o "$model" $SMALL --steps 1 --log-every 1 \
		--log "$model.log" "$@" </dev/null
	jq .loss "$model.log"
}

@test "--constrained-loss: softmaxes over the codes the SIDs allow, lower than over all codes" {
	tiny_shop
	learn_tiny_shop c.osm --constrained-loss
	[[ "$learned" == *"each level's softmax over the codes the catalog's SIDs allow after the prefix"* ]]
	# the same first step: the constrained loss leaves out codes, so it is lower
	full=$(first_loss a.osm)
	part=$(first_loss b.osm --constrained-loss)
	echo "first loss: over all codes $full, constrained $part"
	awk -v f="$full" -v p="$part" 'BEGIN { exit !(p < f - 0.1) }'
}

# prefix_vector_count DB: the SID prefixes below level 1 whose parent
# prefix has another child too, counted from the catalog's SIDs.
prefix_vector_count() {
	sqlite3 "$1" 'SELECT sid FROM sids' | python3 -c '
import collections, sys
sids = [tuple(line.strip().split(",")) for line in sys.stdin]
nodes = {s[:d] for s in sids for d in range(2, len(s) + 1)}
children = collections.Counter(n[:-1] for n in nodes)
print(sum(1 for n in nodes if children[n[:-1]] > 1))'
}

@test "--prefix-vectors: one for each SID prefix below level 1 with siblings; the tiny shop is learned" {
	tiny_shop
	want=$(prefix_vector_count t.db)
	[ "$want" -gt 10 ]
	learn_tiny_shop p.osm --prefix-vectors
	[[ "$learned" == *"user history 0, $want prefix vectors,"* ]]
	# the vectors are parameters: the first step's loss is the same (they
	# start at 0), the model file is larger
	[ "$(first_loss a.osm)" = "$(first_loss b.osm --prefix-vectors)" ]
	[ "$(stat -c %s b.osm)" -gt "$(( $(stat -c %s a.osm) + want * 32 * 4 ))" ]
	# a checkpoint with them resumes only with them, to the same model
	args="-C t.db $SMALL --steps 400 --checkpoint-every 5 --prefix-vectors q.jsonl"
	os-distill -q $args -o whole.osm
	interrupt_after_checkpoint part.osm $args
	[ -e part.osm.ckpt ]
	run os-distill -q ${args/--prefix-vectors/} -o part.osm --resume
	[ "$status" -eq 2 ]
	[[ "$output" == *"the checkpoint's model has another shape than the options give"* ]]
	os-distill -q $args -o part.osm --resume
	cmp whole.osm part.osm
}

@test "--item-vectors: prefix vectors that also score their items' mean vector; the tiny shop is learned" {
	tiny_shop
	want=$(prefix_vector_count t.db)
	vec="$FIXTURES/tiny-shop.jsonl"
	learn_tiny_shop iv.osm --item-vectors "$vec"
	[[ "$learned" == *"user history 0, $want prefix vectors,"* ]]
	[[ "$learned" == *"each prefix vector also scores the mean of its items' vectors (4 values)"* ]]
	# the projection starts at 0: the first step's loss is that of prefix
	# vectors alone; the file holds the means (4 values a vector) and the
	# projection (4 x 32)
	[ "$(first_loss a.osm --prefix-vectors)" = "$(first_loss b.osm --item-vectors "$vec")" ]
	[ "$(stat -c %s b.osm)" -ge "$(( $(stat -c %s a.osm) + (want * 4 + 4 * 32) * 4 ))" ]
	# the means are fixed: a checkpoint resumes to the model of a run
	# without a stop
	args="-C t.db $SMALL --steps 400 --checkpoint-every 5 --item-vectors $vec q.jsonl"
	os-distill -q $args -o whole.osm
	interrupt_after_checkpoint part.osm $args
	[ -e part.osm.ckpt ]
	os-distill -q $args -o part.osm --resume
	cmp whole.osm part.osm
}

@test "--item-vectors: refused with --init; a bad vectors file, one of other items, one of some items" {
	tiny_shop
	os-distill -q -C t.db -o p.osm $SMALL --steps 2 --prefix-vectors </dev/null
	run os-distill -C t.db -o n.osm $SMALL --steps 2 --init p.osm \
		--item-vectors "$FIXTURES/tiny-shop.jsonl" </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"--item-vectors gives a new model its item vectors; the model of --init keeps its own"* ]]
	printf '{"id":"t01","embedding":[1,2]}\n{"id":"t02","embedding":[1,\n' >bad.jsonl
	run os-distill -C t.db -o n.osm $SMALL --steps 2 --item-vectors bad.jsonl </dev/null
	[ "$status" -eq 3 ]
	[[ "$output" == *"bad.jsonl:2:"* ]]
	[ ! -e n.osm ]
	# vectors of other items only: refused; of some items: a warning
	printf '{"id":"x1","embedding":[1,2]}\n' >other.jsonl
	run os-distill -C t.db -o n.osm $SMALL --steps 2 --item-vectors other.jsonl </dev/null
	[ "$status" -eq 3 ]
	[[ "$output" == *"other.jsonl: no vector of a catalog item with a SID"* ]]
	[ ! -e n.osm ]
	head -n 30 "$FIXTURES/tiny-shop.jsonl" >some.jsonl
	run os-distill -C t.db -o n.osm $SMALL --steps 2 --item-vectors some.jsonl </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"10 of the catalog's items have no vector in 'some.jsonl': they add nothing to their prefixes' means"* ]]
}

@test "a model with prefix vectors searches a catalog that has new items since, by their paths" {
	tiny_shop
	os-distill -q -C t.db -o p.osm $SMALL --epochs 100 --prefix-vectors </dev/null
	cp t.db u.db
	python3 -c '
import json, sys
for i, line in enumerate(open(sys.argv[1])):
    r = json.loads(line)
    if i < 12:
        print(json.dumps({"id": "n" + r["id"], "title": r["title"] + " kit",
                          "embedding": [x + 0.01 for x in r["embedding"]]}))' \
		"$FIXTURES/tiny-shop.jsonl" >new.jsonl
	os-tokenize -q -C u.db --no-mine new.jsonl | os-quantize -q -C u.db --assign >/dev/null
	[ "$(sqlite3 u.db 'SELECT count(*) FROM sids')" -eq 52 ]
	[ "$(prefix_vector_count u.db)" -gt "$(prefix_vector_count t.db)" ]
	run os-search -C u.db -m p.osm -k 5 --beam 20 q.jsonl
	[ "$status" -eq 0 ]
	echo "$output" >run.jsonl
	# every result is an item of the new catalog, new ones among them
	sqlite3 u.db 'SELECT id FROM items JOIN sids ON seq = item' | sort >ids.txt
	jq -r '.results[].id' run.jsonl | sort -u >found.txt
	[ -z "$(comm -23 found.txt ids.txt)" ]
	grep -q '^n' found.txt
	run os-eval --qrels q.jsonl -k 5 run.jsonl
	[[ "$output" == *'"recall@5":1,'* ]]
}

@test "the same seed and threads give the same model, bit for bit; another seed another" {
	tiny_shop
	os-distill -q -C t.db -o a.osm $SMALL --epochs 5 --dropout 0.1 q.jsonl
	os-distill -q -C t.db -o b.osm $SMALL --epochs 5 --dropout 0.1 q.jsonl
	os-distill -q -C t.db -o c.osm $SMALL --epochs 5 --dropout 0.1 --seed 2 q.jsonl
	cmp a.osm b.osm
	! cmp -s a.osm c.osm
}

@test "--resume after SIGINT ends with the model of an uninterrupted run" {
	tiny_shop
	args="-C t.db $SMALL --dim 64 --ff 256 --steps 400 --dropout 0.1 --checkpoint-every 5"
	os-distill -q $args -o whole.osm q.jsonl
	interrupt_after_checkpoint part.osm $args q.jsonl
	[ "$stopped" -eq 130 ]
	[ -e part.osm.ckpt ]
	[ ! -e part.osm ]
	run os-distill $args -o part.osm --resume q.jsonl
	[ "$status" -eq 0 ]
	cmp whole.osm part.osm
	[ ! -e part.osm.ckpt ]
}

@test "the interrupt message names the checkpoint and how to go on" {
	tiny_shop
	os-distill -C t.db $SMALL --dim 64 --ff 256 --steps 100000 -o m.osm q.jsonl 2>err &
	pid=$!
	for _ in $(seq 500); do grep -q examples err && break; sleep 0.01; done
	sleep 0.2
	kill -TERM $pid
	status=0
	wait $pid || status=$?
	[ "$status" -eq 130 ]
	grep -q "interrupted at step [0-9]* of 100000; checkpoint saved to 'm.osm.ckpt' (continue with --resume)" err
}

@test "--resume refuses a checkpoint made with other options" {
	tiny_shop
	os-distill -q -C t.db $SMALL --steps 20 --checkpoint-every 10 -o m.osm q.jsonl &
	wait $!
	interrupt_after_checkpoint m.osm -C t.db $SMALL --steps 40 --checkpoint-every 10 q.jsonl
	[ -e m.osm.ckpt ]
	run os-distill -C t.db $SMALL --steps 40 --lr 0.01 -o m.osm --resume q.jsonl
	[ "$status" -eq 2 ]
	[[ "$output" == *"the checkpoint was made with lr 0.0030000000000000001, not 0.01"* ]]
	run os-distill -C t.db $SMALL --steps 40 -o m.osm --resume --item-repeat 2 q.jsonl
	[ "$status" -eq 2 ]
	[[ "$output" == *"item_repeat 1, not 2"* ]]
}

@test "a bad query record exits 3 naming its line, and writes no model" {
	tiny_shop
	printf '%s\n' '{"query":"acme drill","relevant":["t01"]}' '{"query":3}' >bad.jsonl
	run os-distill -C t.db -o m.osm $SMALL --steps 2 bad.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == *"os-distill: bad.jsonl:2: field 'query' must be a string"* ]]
	[ ! -e m.osm ]
	printf '%s\n' '{"query":"x","relevant":"t01"}' >bad2.jsonl
	run os-distill -C t.db -o m.osm $SMALL --steps 2 bad2.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == *"bad2.jsonl:1: field 'relevant' must be an array of item ids"* ]]
}

@test "a catalog without SIDs is refused" {
	os-tokenize -q -C plain.db "$FIXTURES/tiny-shop.jsonl" >/dev/null
	run os-distill -C plain.db -o m.osm --steps 1 </dev/null
	[ "$status" -eq 1 ]
	[[ "$output" == *"the catalog has no SIDs (run os-quantize first)"* ]]
	[ ! -e m.osm ]
}

@test "relevant ids outside the catalog are counted; no example at all is an error" {
	tiny_shop
	printf '%s\n' '{"query":"acme drill","relevant":["nope","t01"]}' >q2.jsonl
	run os-distill -C t.db -o m.osm $SMALL --steps 2 --item-repeat 0 q2.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 relevant ids are not catalog items with a SID: ignored"* ]]
	run os-distill -C t.db -o m.osm $SMALL --steps 2 --item-repeat 0 </dev/null
	[ "$status" -eq 3 ]
	[[ "$output" == *"no training examples"* ]]
}

@test "--dense-labels: pseudo-queries drawn once also teach the dense ranking's first item" {
	tiny_shop
	# no encoder yet: refused
	run os-distill -C t.db -o d.osm $SMALL --pseudo-queries 1 --dense-labels \
		"$FIXTURES/tiny-shop.jsonl" q.jsonl
	[ "$status" -eq 1 ]
	[[ "$output" == *"--dense-labels: the catalog has no encoder of the vectors' size (4 values"* ]]
	shop_vectors 3
	# a ranking that knows t01 alone puts it first for every pseudo-query
	grep '"id":"t01"' vec.jsonl >one.jsonl
	args="-C t.db $SMALL --pseudo-queries 1 --epochs 60"
	run os-distill $args -o dense.osm --dense-labels one.jsonl </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"the 40 pseudo-queries are drawn once; they are also 39 examples of other items, of their dense ranking's first 1"* ]]
	os-distill -q $args -o again.osm --dense-labels one.jsonl </dev/null
	cmp dense.osm again.osm
	os-distill -q $args -o plain.osm </dev/null
	# t01 comes in the top 2 of the other titles for the dense-labelled model only
	dense=$(t01_hits dense.osm 2)
	plain=$(t01_hits plain.osm 2)
	echo "t01 in the top 2: dense $dense, plain $plain"
	[ "$dense" -ge 15 ]
	[ "$plain" -le 5 ]
}

@test "--dense-top: each pseudo-query is an example of the dense ranking's first N items" {
	tiny_shop
	shop_vectors 1
	# a ranking of t01 and t02 alone: both label the other 38 titles'
	# pseudo-queries, and each labels the other's
	grep -E '"id":"t0[12]"' vec.jsonl >two.jsonl
	args="-C t.db $SMALL --pseudo-queries 1 --steps 1"
	for top in 2 5; do
		run os-distill $args -o top$top.osm --dense-labels two.jsonl --dense-top $top </dev/null
		[ "$status" -eq 0 ]
		[[ "$output" == *"they are also 78 examples of other items, of their dense ranking's first $top"* ]]
	done
	run os-distill $args -o no.osm --dense-top 2 </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"--dense-top says how many items --dense-labels gives a pseudo-query: give --dense-labels too"* ]]
	run os-distill $args -o no.osm --dense-labels two.jsonl --dense-top 65 </dev/null
	[ "$status" -eq 2 ]
	[ ! -e no.osm ]
}

@test "--dense-queries: each training query is also an example of its dense ranking's first items" {
	tiny_shop
	shop_vectors 3
	# a ranking of t01 and t02 alone, --dense-queries 2: 38 queries get
	# both, t01's and t02's queries the other one (their own is relevant)
	grep -E '"id":"t0[12]"' vec.jsonl >two.jsonl
	run os-distill -C t.db -o two.osm $SMALL --pseudo-queries 1 --steps 1 \
		--dense-labels two.jsonl --dense-queries 2 q.jsonl </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"78 examples label queries with other items of their dense ranking's first 2, at weight 0.3"* ]]
	# a ranking that knows t01 alone: at weight 4, t01 outweighs each
	# query's own item, and the model puts it first for the other queries
	grep '"id":"t01"' vec.jsonl >one.jsonl
	args="-C t.db $SMALL --pseudo-queries 1 --epochs 60 --dense-labels one.jsonl"
	os-distill -q $args -o plain.osm q.jsonl </dev/null
	os-distill -q $args -o dq.osm --dense-queries 1 --dense-query-weight 4 q.jsonl </dev/null
	dq=$(t01_hits dq.osm 1)
	plain=$(t01_hits plain.osm 1)
	echo "t01 first for other queries: dq $dq, plain $plain"
	[ "$dq" -ge 30 ]
	[ "$plain" -le 5 ]
	run os-distill -C t.db -o no.osm $SMALL --dense-queries 2 q.jsonl </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"--dense-queries ranks with the vectors of --dense-labels: give --dense-labels too"* ]]
	run os-distill -C t.db -o no.osm $SMALL --pseudo-queries 1 --dense-labels one.jsonl \
		--dense-queries 65 q.jsonl </dev/null
	[ "$status" -eq 2 ]
	run os-distill -C t.db -o no.osm $SMALL --pseudo-queries 1 --dense-labels one.jsonl \
		--dense-queries 1 --dense-query-weight -1 q.jsonl </dev/null
	[ "$status" -eq 2 ]
	[ ! -e no.osm ]
}

@test "--dense-labels: usage errors and a bad vectors file" {
	tiny_shop
	os-tokenize -q -C t.db --train-encoder q.jsonl --encoder-dim 16 --encoder-epochs 1 \
		--encoder-buckets 256
	run os-distill -C t.db -o d.osm $SMALL --dense-labels vec.jsonl q.jsonl
	[ "$status" -eq 2 ]
	[[ "$output" == *"--dense-labels labels pseudo-queries: it needs --pseudo-queries of 1 or more"* ]]
	printf '{"id":"t01","embedding":[1,2]}\n{"id":"t02","embedding":[1,\n' >bad.jsonl
	run os-distill -C t.db -o d.osm $SMALL --pseudo-queries 1 --dense-labels bad.jsonl q.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == *"bad.jsonl:2:"* ]]
	[ ! -e d.osm ]
}

@test "--log writes training metrics and validation as JSON lines" {
	tiny_shop
	os-distill -q -C t.db -o m.osm $SMALL --steps 30 --log-every 10 --valid q.jsonl \
		--valid-every 15 --log log.jsonl q.jsonl
	python3 - <<'PY'
import json
rows = [json.loads(l) for l in open("log.jsonl")]
train = [r for r in rows if "loss" in r]
valid = [r for r in rows if "valid_recall@10" in r]
assert [r["step"] for r in train] == [10, 20, 30], rows
for r in train:
    assert set(r) == {"step", "epoch", "loss", "lr", "grad_norm", "examples_per_s", "elapsed"}, r
assert train[-1]["loss"] < train[0]["loss"], train
assert [r["step"] for r in valid] == [15, 30], valid
assert all(r["valid_queries"] == 40 and 0 <= r["valid_recall@10"] <= 1 for r in valid), valid
PY
}

@test "usage errors: no model path, unknown stage, dim not a multiple of heads" {
	run os-distill -C x.db </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"no model file: give -o MODEL"* ]]
	run os-distill -C x.db -o m.osm --stage rl </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid --stage value 'rl' (known: sft, distill, align)"* ]]
	run os-distill -C x.db -o m.osm --stage align </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"--stage align needs --init MODEL"* ]]
	run os-distill -C x.db -o m.osm --stage align --init a.osm --position-weights 2,2,1 </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid --position-weights '2,2,1'"* ]]
	run os-distill -C x.db -o m.osm --dim 30 --heads 4 </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"--dim (30) must be a multiple of --heads (4)"* ]]
}

# q.jsonl with the brand of each item as its CoT keyword (odd lines), or
# none (even lines), in qc.jsonl.
cot_queries() {
	python3 - <<'PY'
import json
for i, line in enumerate(open("q.jsonl")):
    r = json.loads(line)
    kw = [r["query"].split()[0]] if i % 2 == 0 else []
    r["cot"] = {"intent": "", "category": [], "attributes": {}, "negative": [],
                "substitutes": [], "personal": [], "keywords": kw, "backend": "stats"}
    print(json.dumps(r))
PY
}

@test "--stage distill: from an sft model, every term logged, the student still finds every item" {
	tiny_shop
	os-distill -q -C t.db -o sft.osm $SMALL --epochs 100 </dev/null
	cot_queries >qc.jsonl
	run os-distill -C t.db -o d.osm $SMALL --stage distill --init sft.osm --steps 40 \
		--lr 0.001 --dropout 0.1 --log-every 10 --log log.jsonl qc.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *"20 of the query examples have CoT keywords for the teacher"* ]]
	python3 - <<'PY'
import json, math
rows = [json.loads(l) for l in open("log.jsonl")]
assert [r["step"] for r in rows] == [10, 20, 30, 40], rows
for r in rows:
    terms = ("ce_student", "ce_teacher", "kd", "rdrop", "fgm", "focal")
    assert all(math.isfinite(r[t]) and r[t] >= 0 for t in terms), r
    assert r["kd"] > 0 and r["rdrop"] > 0 and r["fgm"] > 0 and r["focal"] == 0, r
    total = r["ce_student"] + r["ce_teacher"] + r["kd"] + r["rdrop"] + r["fgm"]
    assert abs(total - r["loss"]) < 1e-3 * total, r
PY
	# the sft model finds all 40 at rank 1; dropout and FGM may cost one
	os-search -C t.db -m d.osm -k 1 q.jsonl >run.jsonl
	os-eval --qrels q.jsonl -k 1 run.jsonl | jq -e '.runs[0].metrics["recall@1"] >= 0.95'
	# the teacher's view at search time: every result still a catalog item
	os-search -C t.db -m d.osm -k 3 --with-cot qc.jsonl >cot.jsonl
	[ "$(jq -s 'map(.results | length) | min' cot.jsonl)" -eq 3 ]
	# the same seed, the same distilled model
	os-distill -q -C t.db -o d2.osm $SMALL --stage distill --init sft.osm --steps 40 \
		--lr 0.001 --dropout 0.1 qc.jsonl
	cmp d.osm d2.osm
}

@test "--stage distill: terms off and on, the focal loss, and a bad cot" {
	tiny_shop
	os-distill -q -C t.db -o sft.osm $SMALL --steps 10 </dev/null
	cot_queries >qc.jsonl
	os-distill -q -C t.db -o d.osm $SMALL --stage distill --init sft.osm --steps 4 \
		--dropout 0.1 --kd-weight 0 --rdrop-weight 0 --fgm-eps 0 --focal \
		--log-every 1 --log log.jsonl qc.jsonl
	jq -e -s 'all(.[]; .kd == 0 and .rdrop == 0 and .fgm == 0 and .focal > 0 and
		(.loss - .focal - .ce_teacher | fabs) < 1e-4 * .loss)' log.jsonl
	# records without keywords: no teacher, no KD
	os-distill -q -C t.db -o d.osm $SMALL --stage distill --init sft.osm --steps 2 \
		--dropout 0.1 --log-every 1 --log plain.jsonl q.jsonl
	jq -e -s 'all(.[]; .kd == 0 and .ce_teacher == 0 and .rdrop > 0)' plain.jsonl
	printf '%s\n' '{"query":"x","relevant":["t01"],"cot":{"keywords":"drill"}}' >bad.jsonl
	run os-distill -C t.db -o m.osm $SMALL --stage distill --steps 2 bad.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == *'bad.jsonl:1: "cot": "intent" must be a string'* ]]
	[ ! -e m.osm ]
	# an sft run reads no cot at all
	run os-distill -C t.db -o m.osm $SMALL --steps 2 bad.jsonl
	[ "$status" -eq 0 ]
}

@test "--init refuses a model of other codebooks; --resume refuses other distillation weights" {
	tiny_shop
	os-distill -q -C t.db -o sft.osm $SMALL --steps 4 </dev/null
	os-tokenize -q -C o.db "$FIXTURES/tiny-shop.jsonl" | os-quantize -q -C o.db --levels 2,2 >/dev/null
	run os-distill -C o.db -o m.osm --stage distill --init sft.osm --steps 2 </dev/null
	[ "$status" -eq 1 ]
	[[ "$output" == *"sft.osm: the model was trained against other codebooks"* ]]
	cot_queries >qc.jsonl
	interrupt_after_checkpoint d.osm -C t.db $SMALL --stage distill --init sft.osm --steps 400 \
		--checkpoint-every 2 qc.jsonl
	[ -e d.osm.ckpt ]
	run os-distill -C t.db $SMALL --stage distill --steps 400 --kd-weight 0.5 -o d.osm --resume qc.jsonl
	[ "$status" -eq 2 ]
	[[ "$output" == *"the checkpoint was made with kd_weight 0.10000000000000001, not 0.5"* ]]
}

# The log-probability that the model gives item $2 for the query $1.
score_of() {
	os-search -C t.db -m "$3" -k 40 --beam 40 --query "$1" |
		python3 -c 'import json, sys; r = json.load(sys.stdin)["results"]; print([x["score"] for x in r if x["id"] == sys.argv[1]][0])' "$2"
}

@test "--stage align: the item the feedback rewards rises, every term is logged" {
	tiny_shop
	os-distill -q -C t.db -o sft.osm $SMALL --epochs 60 </dev/null
	# "rake": bolt green rake (t10) clicked and bought, bolt white rake
	# (t01) shown and passed over
	printf '%s\n' '{"qid":"r","query":"rake","item":"t10","click":1,"order":1,"relevance":3}' \
		'{"qid":"r","query":"rake","item":"t01","click":0,"order":0,"relevance":0}' >fb.jsonl
	# the policy term alone (no cross-entropy on the clicked item)
	run os-distill -C t.db -o al.osm --stage align --init sft.osm --batch 1 --group 8 \
		--sft-weight 0 --steps 25 --lr 0.002 --warmup 0 --dropout 0 --threads 1 \
		--log al.log fb.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 queries with feedback (2 lines; 0 of items without a SID, ignored), a group of 8 SIDs each"* ]]
	before=$(score_of rake t10 sft.osm)
	after=$(score_of rake t10 al.osm)
	echo "log p(t10 | rake): $before -> $after"
	python3 -c 'import sys; b, a = map(float, sys.argv[1:]); assert a > b + 0.5, (b, a)' "$before" "$after"
	python3 - <<'PY'
import json
lines = [json.loads(l) for l in open("al.log")]
for k in ("reward", "reward_relevance", "reward_behaviour", "reward_overlap",
          "positive_groups", "policy", "kl", "sft"):
    assert all(k in l for l in lines), k
assert lines[-1]["reward"] > lines[0]["reward"], (lines[0]["reward"], lines[-1]["reward"])
assert all(l["kl"] >= 0 for l in lines)
PY
	# the same seed, the same aligned model
	os-distill -q -C t.db -o again.osm --stage align --init sft.osm --batch 1 --group 8 \
		--sft-weight 0 --steps 25 --lr 0.002 --warmup 0 --dropout 0 --threads 1 fb.jsonl
	cmp al.osm again.osm
}

@test "--stage distill and --stage align train a model's prefix vectors on" {
	tiny_shop
	want=$(prefix_vector_count t.db)
	os-distill -q -C t.db -o sft.osm $SMALL --epochs 60 --prefix-vectors </dev/null
	cot_queries >qc.jsonl
	run os-distill -C t.db -o d.osm $SMALL --stage distill --init sft.osm --steps 10 qc.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *", $want prefix vectors,"* ]]
	printf '%s\n' '{"qid":"r","query":"rake","item":"t10","click":1,"order":1,"relevance":3}' \
		'{"qid":"r","query":"rake","item":"t01","click":0,"order":0,"relevance":0}' >fb.jsonl
	os-distill -q -C t.db -o al.osm --stage align --init sft.osm --batch 1 --group 8 \
		--sft-weight 0 --steps 25 --lr 0.002 --warmup 0 --dropout 0 --threads 1 fb.jsonl
	before=$(score_of rake t10 sft.osm)
	after=$(score_of rake t10 al.osm)
	echo "log p(t10 | rake): $before -> $after"
	python3 -c 'import sys; b, a = map(float, sys.argv[1:]); assert a > b + 0.5, (b, a)' "$before" "$after"
}

@test "--stage align --unseen mean: items the shopper did not see earn the mean of those seen" {
	tiny_shop
	os-distill -q -C t.db -o sft.osm $SMALL --epochs 60 </dev/null
	# seen: t10 (relevance 3, ordered: 4) and t13, the sft model's first
	# for "rake" (0, passed over); an unseen sample earns their mean,
	# relevance 1.5 and behaviour 2, instead of 0
	printf '%s\n' '{"qid":"r","query":"rake","item":"t10","click":1,"order":1,"relevance":3}' \
		'{"qid":"r","query":"rake","item":"t13","click":0,"order":0,"relevance":0}' >fb.jsonl
	for how in zero mean; do
		os-distill -q -C t.db -o $how.osm --stage align --init sft.osm --batch 1 --group 8 \
			--sft-weight 0 --steps 1 --lr 0.002 --warmup 0 --dropout 0 --threads 1 \
			--log-every 1 --unseen $how --log $how.log fb.jsonl
	done
	# the first step draws the same group: the gap is the unseen share's
	python3 - <<'PY'
import json
zero, mean = (json.loads(open(f"{h}.log").readline()) for h in ("zero", "mean"))
unseen = (mean["reward_behaviour"] - zero["reward_behaviour"]) / 2
assert 0 < unseen < 1, unseen
assert abs(mean["reward_relevance"] - zero["reward_relevance"] - 1.5 * unseen) < 1e-5
print("unseen share of the first group:", unseen)
PY
	run os-distill -C t.db -o x.osm --stage align --init sft.osm --unseen some fb.jsonl
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid --unseen value 'some' (known: zero, mean)"* ]]
}

@test "--stage align --shown: the feedback's items take the group's last places" {
	tiny_shop
	os-distill -q -C t.db -o sft.osm $SMALL --epochs 60 </dev/null
	# t01, ordered, is no rake: the model does not draw it for "rake"
	printf '%s\n' '{"qid":"r","query":"rake","item":"t01","click":1,"order":1,"relevance":3}' \
		'{"qid":"r","query":"rake","item":"t13","click":0,"order":0,"relevance":1}' >fb.jsonl
	head -1 fb.jsonl >fb1.jsonl
	align() { # NAME FEEDBACK [os-distill options]
		os-distill -q -C t.db -o $1.osm --stage align --init sft.osm --batch 1 --group 2 \
			--steps 3 --lr 0.002 --warmup 0 --threads 1 --log-every 1 --log $1.log \
			"${@:3}" $2
	}
	align s0 fb.jsonl
	align s2 fb.jsonl --shown 2
	align s5 fb.jsonl --shown 5
	align s1 fb.jsonl --shown 1
	align one fb1.jsonl --shown 2
	python3 - <<'PY'
import json
log = {n: [json.loads(line) for line in open(f"{n}.log") if '"step"' in line]
       for n in ("s0", "s2", "s5", "s1", "one")}
assert all(len(steps) == 3 for steps in log.values()), log
# drawn from the model alone, the group never holds t01
assert all(r["reward_behaviour"] == 0 for r in log["s0"]), log["s0"]
# both places taken, whatever the model draws: relevance (3 + 1) / 2,
# behaviour (4 + 0) / 2; five places asked are the group's two
for r in log["s2"] + log["s5"]:
    assert abs(r["reward_relevance"] - 2) < 1e-6 and r["reward_behaviour"] == 2, r
# one place: the first line's t01; one place of two when the query has one
# item; the other drawn (behaviour 0, as s0 shows)
for r in log["s1"] + log["one"]:
    assert r["reward_behaviour"] == 2, r
PY
}

@test "--stage align: bad feedback exits 3 naming its line; no feedback at all is an error" {
	tiny_shop
	os-distill -q -C t.db -o sft.osm $SMALL --epochs 2 </dev/null
	for bad in '{"query":"rake","item":"t10","click":2}|field '"'"'click'"'"' must be 0 or 1' \
		'{"query":"rake","item":"t10","relevance":7}|field '"'"'relevance'"'"' must be a number from 0 to 3' \
		'{"query":"rake","click":1}|missing field '"'"'item'"'"'' \
		'{"item":"t10","click":1}|missing field '"'"'query'"'"''; do
		printf '%s\n' '{"query":"rake","item":"t01","click":1}' "${bad%%|*}" >fb.jsonl
		run os-distill -C t.db -o al.osm --stage align --init sft.osm fb.jsonl
		echo "$output"
		[ "$status" -eq 3 ]
		[[ "$output" == *"os-distill: fb.jsonl:2: ${bad#*|}"* ]]
		[ ! -e al.osm ]
	done
	echo '{"query":"rake","item":"nope","click":1}' >fb.jsonl
	run os-distill -C t.db -o al.osm --stage align --init sft.osm fb.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == *"no feedback (records with \"query\" and an \"item\" of the catalog with a SID)"* ]]
}

@test "--user-history: user tokens tell apart two shoppers with the same query" {
	tiny_shop
	# the same query; who bought an ember drill wants the ember saw (t09),
	# who bought a crest drill the crest saw (t36)
	python3 - <<'PY'
import json
with open("u.jsonl", "w") as out:
    for i in range(8):
        out.write(json.dumps({"qid": f"x{i}", "query": "saw", "relevant": ["t09"],
                              "user": {"id": "x", "history": ["t02"], "profile": {"home": "condo"}}}) + "\n")
        out.write(json.dumps({"qid": f"y{i}", "query": "saw", "relevant": ["t36"],
                              "user": {"id": "y", "history": ["t05"]}}) + "\n")
with open("who.jsonl", "w") as out:
    out.write(json.dumps({"qid": "x", "query": "saw", "user": {"id": "x", "history": ["t02"], "profile": {"home": "condo"}}}) + "\n")
    out.write(json.dumps({"qid": "y", "query": "saw", "user": {"id": "y", "history": ["t05"]}}) + "\n")
    out.write(json.dumps({"qid": "none", "query": "saw"}) + "\n")
PY
	run os-distill -C t.db -o user.osm $SMALL --epochs 60 --user-history 2 u.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *"user history 2,"* ]]
	[[ "$output" == *"16 of the query-item pairs have a user: each is also an example without it"* ]]
	os-distill -q -C t.db -o plain.osm $SMALL --epochs 60 u.jsonl
	os-search -C t.db -m user.osm -k 1 who.jsonl >user.run
	os-search -C t.db -m plain.osm -k 1 who.jsonl >plain.run
	python3 - <<'PY'
import json
top = lambda f: {r["qid"]: r["results"][0]["id"] for r in map(json.loads, open(f))}
user, plain = top("user.run"), top("plain.run")
print("with user tokens", user, "without", plain)
assert user["x"] == "t09" and user["y"] == "t36", user
assert plain["x"] == plain["y"], plain
PY
	# a bad user is a bad record
	echo '{"qid":"b","query":"saw","user":{"history":"t02"}}' >bad.jsonl
	run os-search -C t.db -m user.osm bad.jsonl
	[ "$status" -eq 3 ]
	[[ "$output" == *"bad.jsonl:1: field 'user' must have an array 'history' and an object 'profile'"* ]]
	# a model whose user tokens had no brands (no user_layout setting; the
	# checksum made again) is refused, not misread
	python3 - <<'PY'
data = bytearray(open("user.osm", "rb").read())
at = data.index(b"user_layout")
data[at:at + 11] = b"user_lxyout"
h = 0xcbf29ce484222325
for b in data[:-8]:
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
data[-8:] = h.to_bytes(8, "little")
open("old.osm", "wb").write(data)
PY
	run os-search -C t.db -m old.osm who.jsonl
	[ "$status" -eq 1 ]
	[[ "$output" == *"old.osm: its user tokens are those of an older os-distill (without brands); train it again"* ]]
	run os-distill -C t.db -o again.osm --init old.osm u.jsonl
	[ "$status" -eq 1 ]
	[[ "$output" == *"its user tokens are those of an older os-distill"* ]]
}

@test "--user-history: the history's brands lead to the brand's item, also from items never seen in a history" {
	tiny_shop
	# "paint" is acme's (t11), crest's (t15), bolt's (t26) or ember's (t27):
	# each shopper's is the brand of their history. Trained on histories of
	# some items of each brand, asked with histories of others.
	python3 - <<'PY'
import json
paint = {"acme": "t11", "crest": "t15", "bolt": "t26", "ember": "t27"}
seen = {"acme": ["t12", "t24", "t29"], "crest": ["t05", "t22", "t31"],
        "bolt": ["t07", "t19", "t30"], "ember": ["t02", "t04", "t23"]}
unseen = {"acme": "t14", "crest": "t13", "bolt": "t10", "ember": "t03"}
with open("u.jsonl", "w") as out:
    for brand, items in seen.items():
        for i, item in enumerate(items):
            for rep in range(3):
                out.write(json.dumps({"qid": f"{brand}{i}{rep}", "query": "paint",
                                      "relevant": [paint[brand]],
                                      "user": {"history": [item]}}) + "\n")
with open("who.jsonl", "w") as out:
    for brand, item in unseen.items():
        out.write(json.dumps({"qid": brand, "query": "paint", "user": {"history": [item]}}) + "\n")
PY
	os-distill -q -C t.db -o user.osm $SMALL --epochs 60 --user-history 1 u.jsonl
	os-search -C t.db -m user.osm -k 1 who.jsonl >user.run
	python3 - <<'PY'
import json
top = {r["qid"]: r["results"][0]["id"] for r in map(json.loads, open("user.run"))}
print(top)
assert top == {"acme": "t11", "crest": "t15", "bolt": "t26", "ember": "t27"}, top
PY
}

@test "--stage align: --resume after SIGINT ends with the model of an uninterrupted run" {
	tiny_shop
	os-distill -q -C t.db -o sft.osm $SMALL --epochs 20 </dev/null
	python3 - <<'PY'
import json
with open("fb.jsonl", "w") as out:
    for n, line in enumerate(open("q.jsonl")):
        q = json.loads(line)
        out.write(json.dumps({"qid": q["qid"], "query": q["query"], "item": q["relevant"][0],
                              "click": 1, "order": n % 2, "relevance": 3}) + "\n")
PY
	args="-C t.db --stage align --init sft.osm --batch 4 --group 4 --steps 300 --lr 0.001 --threads 1 --checkpoint-every 5"
	os-distill -q $args -o whole.osm fb.jsonl
	interrupt_after_checkpoint part.osm $args fb.jsonl
	[ "$stopped" -eq 130 ]
	[ ! -e part.osm ]
	run os-distill $args -o part.osm --resume fb.jsonl
	[ "$status" -eq 0 ]
	cmp whole.osm part.osm
	# another reward weight is another plan
	interrupt_after_checkpoint part2.osm $args fb.jsonl
	run os-distill $args --reward-overlap 2 -o part2.osm --resume fb.jsonl
	[ "$status" -eq 2 ]
	[[ "$output" == *"the checkpoint was made with reward_overlap 1, not 2"* ]]
}

@test "kill -9 at random moments leaves no partial model or checkpoint; --resume then finishes" {
	tiny_shop
	args="-C t.db $SMALL --dim 64 --ff 256 --steps 300 --checkpoint-every 2"
	os-distill -q $args -o whole.osm q.jsonl
	for delay in 0.05 0.15 0.3 0.5 0.8; do
		rm -f part.osm part.osm.ckpt
		os-distill -q $args -o part.osm q.jsonl &
		pid=$!
		sleep "$delay"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" || true
		# whatever is under a final name is whole: it loads
		if [ -e part.osm ]; then
			cmp whole.osm part.osm
			continue
		fi
		# nothing else but, when killed while writing, a temporary file
		# (NAME.tmp.XXXXXX) that no one reads
		[ -z "$(ls | grep -v -E '^(t\.db.*|q\.jsonl|whole\.osm|part\.osm\.ckpt|part\.osm(\.ckpt)?\.tmp\.......)$')" ]
		if [ -e part.osm.ckpt ]; then
			os-distill -q $args -o part.osm --resume q.jsonl
		else
			os-distill -q $args -o part.osm q.jsonl
		fi
		cmp whole.osm part.osm
	done
}
