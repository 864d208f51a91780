#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# share/sample/generate: the committed sample shop is exactly what the
# generator makes, the generator depends on its arguments alone, and the
# shop has the shape the demo and the benchmarks rely on: a category tree,
# every query type, splits by time, histories made of earlier clicks, and
# behaviour that follows the shoppers' preferences.

load helper

GENERATE="$OS_SRCDIR/share/sample/generate"
SAMPLE="$OS_SRCDIR/share/sample"

@test "the committed sample shop is the generator's output for its documented arguments" {
	"$GENERATE" --seed 1 --items 3000 --users 300 --out shop
	for f in items users train valid test feedback; do
		cmp "$SAMPLE/$f.jsonl" "shop/$f.jsonl"
	done
	[ -z "$(find shop -name '*.tmp')" ]
}

@test "the same seed gives the same shop, another seed another" {
	"$GENERATE" --seed 5 --items 250 --users 20 --out a
	"$GENERATE" --seed 5 --items 250 --users 20 --out b
	"$GENERATE" --seed 6 --items 250 --users 20 --out c
	for f in items users train valid test feedback; do
		cmp "a/$f.jsonl" "b/$f.jsonl"
	done
	! cmp -s a/items.jsonl c/items.jsonl
	! cmp -s a/train.jsonl c/train.jsonl
	[ "$(wc -l <a/items.jsonl)" -eq 250 ]
	[ "$(wc -l <a/users.jsonl)" -eq 20 ]
}

@test "bad arguments are usage errors" {
	run "$GENERATE" --items 10 --out x
	[ "$status" -eq 2 ]
	[[ "$output" == *"--items must be at least 192"* ]]
	run "$GENERATE" --users 0 --out x
	[ "$status" -eq 2 ]
	run "$GENERATE" --seed one
	[ "$status" -eq 2 ]
	[ ! -e x ]
}

@test "the sample shop: categories, query types, splits by time, histories, preferences" {
	python3 - "$SAMPLE" <<'PY'
import collections, json, sys
d = sys.argv[1]
load = lambda name: [json.loads(l) for l in open(f"{d}/{name}.jsonl")]
items, users = load("items"), load("users")
splits = {s: load(s) for s in ("train", "valid", "test")}
feedback = load("feedback")
by_id = {i["id"]: i for i in items}

# a category tree of departments and at least 30 product types
leaves = {i["category"] for i in items}
assert len(leaves) >= 30 and len({c.split(" > ")[0] for c in leaves}) >= 5, len(leaves)
assert all(i["title"].startswith(i["brand"] + " ") for i in items)
assert all(isinstance(i["attrs"]["price"], float) and i["attrs"]["price"] > 0 for i in items)
assert all(i["category"].split(" > ")[1] in i["title"] for i in items)
for key in ("color", "material", "style", "spec", "audience", "function", "option", "free"):
    assert sum(key in i["attrs"] for i in items) >= 100, key

# every query type in every split; splits follow each other in time
kinds = {"type", "attribute", "brand", "negation", "substitute", "ambiguous", "longtail"}
for name, queries in splits.items():
    assert {q["segment"] for q in queries} == kinds, name
    assert {q["frequency"] for q in queries} == {"head", "torso", "tail"}, name
    assert [q["ts"] for q in queries] == sorted(q["ts"] for q in queries)
assert splits["train"][-1]["ts"] < splits["valid"][0]["ts"] <= splits["valid"][-1]["ts"] < splits["test"][0]["ts"]
queries = [q for s in ("train", "valid", "test") for q in splits[s]]
assert len({q["qid"] for q in queries}) == len(queries)

# judgments, clicks and orders name catalog items; an order was clicked
for q in queries:
    assert q["graded"] and all(g in (1, 2, 3) and i in by_id for i, g in q["graded"].items())
    assert all(i in by_id for i in q["relevant"]) and set(q["ordered"]) <= set(q["relevant"])
    if q["segment"] == "negation" and " without " in q["query"]:
        option = q["query"].split(" without ")[1]
        assert all(by_id[i]["attrs"].get("option", "").lower() != option for i in q["graded"]), q

# a history is the user's earlier clicks, most recent first
clicked = collections.defaultdict(list)
for q in queries:
    uid = q["user"]["id"]
    assert q["user"]["history"] == clicked[uid][:10], q["qid"]
    clicked[uid] = q["relevant"][::-1] + clicked[uid]

# the feedback is the train period's impressions, agreeing with its clicks
train = {q["qid"]: q for q in splits["train"]}
assert {f["qid"] for f in feedback} <= set(train)
for f in feedback:
    q = train[f["qid"]]
    assert f["click"] == (f["item"] in q["relevant"]) and f["order"] == (f["item"] in q["ordered"])
    assert f["relevance"] == q["graded"].get(f["item"], 0)

# clicks follow the preferences: a preferred brand is clicked far more often
# than its share of what was shown
prefers = {u["id"]: u["prefers"] for u in users}
shown = clicks = shown_pref = clicks_pref = 0
for f in feedback:
    pref = by_id[f["item"]]["brand"] in prefers[f["user"]["id"]]["brands"]
    shown += 1; shown_pref += pref; clicks += f["click"]; clicks_pref += pref and f["click"]
print("preferred brands: shown", shown_pref / shown, "clicked", clicks_pref / clicks)
assert clicks_pref / clicks > 1.5 * shown_pref / shown
PY
}
