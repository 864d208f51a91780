#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""peer.py: a pure-Python peer of `os-tokenize`, for bench/tokenize/run.

Usage: peer.py CATALOG ITEMS.jsonl KEYWORDS.tsv OUT.jsonl
       peer.py --queries QUERIES.jsonl KEYWORDS.tsv OUT.jsonl

The first form does the work of `os-tokenize -C CATALOG ITEMS.jsonl -o
OUT.jsonl` with the standard library only: normalizes and tokenizes every
title by the rules of src/lib/normalize.c and src/lib/tokenize.c, counts
document frequencies, stores items and vocabulary in an SQLite catalog of
the same schema (one transaction per 5000 items), and annotates every item
with leftmost-longest dictionary matches plus the number+unit spec pattern
(src/lib/dict.c). The dictionary is not mined: it is read from KEYWORDS.tsv,
the output of `os-tokenize --dump-keywords` (type, text, source, count;
"pattern" rows are left out as os-tokenize leaves them out, the pattern
finds them again). Otherwise it differs from os-tokenize only in ways its
outputs do not show: one thread, no items_fingerprint in meta, and only the
items read are annotated (all of them on a fresh catalog).

The second form is the text work alone, as `os-tokenize --queries` does it:
each record's "query" normalized, tokenized and matched against the
dictionary, the record written back with its "keywords"; no catalog.

Prints {"items", "seconds", "max_rss_kb"} as one JSON line; the seconds
include building the regular expressions at start.
"""
import json
import re
import resource
import sqlite3
import sys
import time
import unicodedata

START = time.perf_counter()
BATCH = 5000
NGRAM_BUCKETS = 1 << 20  # OS_NGRAM_BUCKETS_DEFAULT, recorded in meta

# The CREATE TABLEs of `migrations` in src/lib/catalog.c.
SCHEMA = """
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
CREATE TABLE items (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  category TEXT,
  brand TEXT,
  attrs TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE TABLE vocab (
  id INTEGER PRIMARY KEY,
  token TEXT NOT NULL UNIQUE,
  df INTEGER NOT NULL DEFAULT 0 CHECK (df >= 0)
) STRICT;
CREATE TABLE keywords (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  text TEXT NOT NULL,
  source TEXT NOT NULL,
  count INTEGER NOT NULL DEFAULT 0,
  UNIQUE (type, text)
) STRICT;
CREATE TABLE item_keywords (
  item INTEGER NOT NULL REFERENCES items(seq) ON DELETE CASCADE,
  keyword INTEGER NOT NULL REFERENCES keywords(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  PRIMARY KEY (item, keyword)
) STRICT, WITHOUT ROWID;
CREATE INDEX item_keywords_by_keyword ON item_keywords(keyword);
PRAGMA user_version = 1;
"""

# --- normalization (normalize.c) -------------------------------------------

# The character references normalize.c decodes: six names and numeric
# references of 1-7 digits, always with the ';'.
NAMED_REFS = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'",
              "nbsp": " "}
REF_RE = re.compile(r"&(?:(amp|lt|gt|quot|apos|nbsp);|#(?:[xX]([0-9a-fA-F]{1,7})|([0-9]{1,7}));)")


def decode_ref(m):
    if m.group(1):
        return NAMED_REFS[m.group(1)]
    cp = int(m.group(2), 16) if m.group(2) else int(m.group(3))
    if cp == 0 or cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
        return m.group(0)
    return chr(cp)


# Unicode Default_Ignorable_Code_Point, which utf8proc's IGNORE removes.
IGNORABLE_RE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")


def latin_base(cp):
    """The ASCII base of a precomposed Latin letter whose other parts are
    all nonspacing marks, else None (latin_base() in normalize.c)."""
    parts = unicodedata.normalize("NFD", chr(cp))
    if (len(parts) >= 2 and ord(parts[0]) < 0x80
            and all(unicodedata.category(p) == "Mn" for p in parts[1:])):
        return parts[0]
    return None


ACCENT_FOLD = {cp: base for cp in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]
               if (base := latin_base(cp))}


def normalize(text):
    """HTML references, NFKC + case fold, ignorables out, accents folded."""
    if "&" in text:
        text = REF_RE.sub(decode_ref, text)
    if text.isascii():
        return text.lower()
    text = IGNORABLE_RE.sub("", text)  # first, so that marks compose across
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return text.translate(ACCENT_FOLD)


# --- tokenization (tokenize.c) ---------------------------------------------

WORD, NUMBER, UNIT, CJK = 0, 1, 2, 3

UNITS = {
    "in": "in.", "in.": "in.", "inch": "in.", "inches": "in.",
    "ft": "ft.", "ft.": "ft.", "foot": "ft.", "feet": "ft.",
    "yd": "yd.", "yd.": "yd.", "gal": "gal.", "gal.": "gal.",
    "gallon": "gal.", "gallons": "gal.", "qt": "qt.", "qt.": "qt.",
    "oz": "oz.", "oz.": "oz.", "lb": "lb.", "lb.": "lb.", "lbs": "lb.",
    "lbs.": "lb.", "cu": "cu.", "cu.": "cu.", "sq": "sq.", "sq.": "sq.",
    "mm": "mm", "cm": "cm", "m": "m", "ml": "ml",
    "w": "w", "watt": "w", "watts": "w", "v": "v", "volt": "v", "volts": "v",
    "amp": "amp", "amps": "amp", "kw": "kw", "btu": "btu", "psi": "psi",
    "gpm": "gpm", "cfm": "cfm", "mph": "mph", "rpm": "rpm", "ah": "ah",
    "mah": "mah", "hp": "hp",
}
DOTTED_WORDS = {"no", "dia", "pk", "ct", "pc"}  # non-units that keep their dot

CJK_CLASS = ("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
             "\U00020000-\U0002fa1f]")
CJK_RE = re.compile(CJK_CLASS)


def word_class():
    """A regex class of tokenize.c's word characters: letters, marks and
    numbers of any script, CJK left out."""
    cats = {"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Nd", "Nl", "No"}
    ranges, start, prev = [], None, None
    for cp in range(0x110000):
        ch = chr(cp)
        if unicodedata.category(ch) in cats and not CJK_RE.match(ch):
            if start is None:
                start = cp
            prev = cp
        elif start is not None:
            ranges.append((start, prev))
            start = None
    return "[" + "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "")
                         for a, b in ranges) + "]"


W = word_class()
# A CJK character, or a raw word: an optional '#' or leading '.' of a
# decimal (not inside a word), then word characters joined by - / & ' and
# by . or , between digits. The dot of an abbreviation and a quote unit
# after a number are decided after the match (tokens()).
TOKEN_RE = re.compile(
    rf"({CJK_CLASS})"
    rf"|(?:(?<!{W})(?:#|\.(?=[0-9])))?{W}(?:{W}|[-/&'\u2019](?={W})|(?<=[0-9])[.,](?=[0-9]))*")
WORD_CHAR_RE = re.compile(W)
NUMBER_PREFIX_RE = re.compile(r"\.?[0-9](?:[0-9./,-]*[0-9])?")
NUMBER_WORD_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?-[a-z]+")  # 12-gauge, 3-prong


def number_prefix(w):
    m = NUMBER_PREFIX_RE.match(w)
    return m.end() if m else 0


def keeps_dot(w):
    unit = UNITS.get(w)
    return unit.endswith(".") if unit else w in DOTTED_WORDS


def tokens(text):
    """The tokens of normalized text: (texts, kinds)."""
    texts, kinds = [], []

    def flush(w):
        num = number_prefix(w)
        if num == len(w):
            texts.append(w)
            kinds.append(NUMBER)
        elif num and w[num:] in UNITS:
            texts.extend((w[:num], UNITS[w[num:]]))
            kinds.extend((NUMBER, UNIT))
        elif kinds and w in UNITS and (kinds[-1] == NUMBER or (
                kinds[-1] == UNIT and texts[-1] in ("cu.", "sq."))):  # 1.9 cu. ft.
            texts.append(UNITS[w])
            kinds.append(UNIT)
        else:
            texts.append(w)
            kinds.append(WORD)

    n = len(text)
    for m in TOKEN_RE.finditer(text):
        if m.group(1):
            texts.append(m.group(1))
            kinds.append(CJK)
            continue
        w = m.group().replace(",", "").replace("\u2019", "'")
        end = m.end()
        after = text[end] if end < n else ""
        if (after == "." and (end + 1 == n or not WORD_CHAR_RE.match(text, end + 1))
                and keeps_dot(w)):
            flush(w + ".")
        elif after in ('"', "\u201d", "'", "\u2019") and number_prefix(w) == len(w):
            flush(w)
            texts.append("in." if after in ('"', "\u201d") else "ft.")
            kinds.append(UNIT)
        else:
            flush(w)
    return texts, kinds


# --- dictionary and annotation (dict.c) ------------------------------------

def load_dictionary(path):
    """Keywords [(type, text, source, count)] in file order, and phrases:
    token tuple -> indices of its keywords, with the longest phrase length
    per first token."""
    keywords, phrases, longest = [], {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            type_, text, source, count = line.rstrip("\n").split("\t")
            if source == "pattern":
                continue
            phrase = tuple(text.split(" "))
            phrases.setdefault(phrase, []).append(len(keywords))
            longest[phrase[0]] = max(longest.get(phrase[0], 0), len(phrase))
            keywords.append((type_, text, source, int(count)))
    return keywords, phrases, longest


def find_keywords(texts, kinds, keywords, phrases, longest):
    """Hits [(type, text, position)]: leftmost-longest dictionary phrases
    (each with all of its keywords) and the spec pattern, in token order,
    one per (type, text)."""
    hits, seen, free = [], set(), 0
    n = len(texts)
    for i in range(n):
        if i >= free and texts[i] in longest:
            for length in range(min(longest[texts[i]], n - i), 0, -1):
                kws = phrases.get(tuple(texts[i:i + length]))
                if kws:
                    for k in kws:
                        key = keywords[k][:2]  # (type, text)
                        if key not in seen:
                            seen.add(key)
                            hits.append((*key, i))
                    free = i + length
                    break
        if kinds[i] == NUMBER and i + 1 < n and kinds[i + 1] == UNIT:
            span = 3 if i + 2 < n and kinds[i + 2] == UNIT else 2
            text = " ".join(texts[i:i + span])
        elif kinds[i] == WORD and NUMBER_WORD_RE.fullmatch(texts[i]):
            text = texts[i]
        else:
            continue
        if ("spec", text) not in seen:
            seen.add(("spec", text))
            hits.append(("spec", text, i))
    return hits


# --- the catalog -----------------------------------------------------------

class Catalog:
    """The SQLite catalog, written the way src/lib/catalog.c writes it."""

    def __init__(self, path):
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA cache_size = -65536")
        if self.db.execute("PRAGMA user_version").fetchone()[0] == 0:
            self.db.executescript("BEGIN IMMEDIATE;" + SCHEMA)
            self.set_meta("created_by", "bench/tokenize/peer.py")
            self.set_meta("normalization", "nfkc-casefold-fold-accents")
            self.set_meta("ngram_buckets", str(NGRAM_BUCKETS))
            self.db.execute("COMMIT")
        self.keyword_ids = {}  # (type, text) -> keywords.id

    def set_meta(self, key, value):
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                        "DO UPDATE SET value = excluded.value", (key, value))

    def store_dictionary(self, keywords):
        """Replaces the catalog's keywords with the dictionary's."""
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("DELETE FROM item_keywords")
        self.db.execute("DELETE FROM keywords")
        for type_, text, source, count in keywords:
            self.keyword_id(type_, text, source, count)
        self.db.execute("COMMIT")

    def keyword_id(self, type_, text, source="pattern", count=0):
        """The id of a keyword, inserted when new."""
        key = (type_, text)
        kid = self.keyword_ids.get(key)
        if kid is None:
            cur = self.db.execute(
                "INSERT INTO keywords (type, text, source, count) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (type, text) DO NOTHING", (type_, text, source, count))
            kid = cur.lastrowid if cur.rowcount == 1 else self.db.execute(
                "SELECT id FROM keywords WHERE type = ? AND text = ?", key).fetchone()[0]
            self.keyword_ids[key] = kid
        return kid

    def store_batch(self, batch):
        """One transaction: items upserted (an item read again loses its old
        title's tokens and keywords), document frequencies, item keywords."""
        df, annotations = {}, {}
        self.db.execute("BEGIN IMMEDIATE")
        for item, texts, hits in batch:
            row = self.db.execute("SELECT title FROM items WHERE id = ?", (item[0],)).fetchone()
            seq = self.db.execute(
                "INSERT INTO items (id, title, category, brand, attrs) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET title = excluded.title, "
                "category = excluded.category, brand = excluded.brand, attrs = excluded.attrs "
                "RETURNING seq", item).fetchone()[0]
            if row:
                for tok in set(tokens(normalize(row[0]))[0]):
                    df[tok] = df.get(tok, 0) - 1
                self.db.execute("DELETE FROM item_keywords WHERE item = ?", (seq,))
            for tok in set(texts):
                df[tok] = df.get(tok, 0) + 1
            annotations[seq] = [(seq, self.keyword_id(t, x), pos) for t, x, pos in hits]
        self.db.executemany(
            "INSERT INTO vocab (token, df) VALUES (?1, max(?2, 0)) "
            "ON CONFLICT (token) DO UPDATE SET df = df + ?2", df.items())
        self.db.executemany(
            "INSERT OR IGNORE INTO item_keywords (item, keyword, position) VALUES (?, ?, ?)",
            (r for rows in annotations.values() for r in rows))
        self.db.execute("COMMIT")


def item_row(obj):
    """(id, title, category, brand, attrs) as os-tokenize stores them."""
    id_ = obj["id"]
    attrs = obj.get("attrs")
    return (id_ if isinstance(id_, str) else str(int(id_)), obj["title"],
            obj.get("category"), obj.get("brand"),
            json.dumps(attrs, ensure_ascii=False, separators=(",", ":"))
            if isinstance(attrs, dict) else "{}")


def annotate_queries(queries_path, keywords_path, out_path):
    """The --queries form: returns the number of records annotated."""
    keywords, phrases, longest = load_dictionary(keywords_path)
    count = 0
    with open(queries_path, encoding="utf-8") as src, \
            open(out_path, "w", encoding="utf-8") as out:
        for line in src:
            if not line.strip():
                continue
            obj = json.loads(line)
            texts, kinds = tokens(normalize(obj["query"]))
            hits = find_keywords(texts, kinds, keywords, phrases, longest)
            obj["keywords"] = [{"type": t, "text": x} for t, x, _ in hits]
            out.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
    return count


def ingest(catalog_path, items_path, keywords_path, out_path):
    """The first form: returns the number of items ingested."""
    keywords, phrases, longest = load_dictionary(keywords_path)
    catalog = Catalog(catalog_path)
    catalog.store_dictionary(keywords)
    count, batch = 0, []
    with open(items_path, encoding="utf-8") as src, \
            open(out_path, "w", encoding="utf-8") as out:
        for line in src:
            if not line.strip():
                continue
            obj = json.loads(line)
            item = item_row(obj)
            obj["id"] = item[0]  # ids travel as strings, as in os-tokenize
            texts, kinds = tokens(normalize(item[1]))
            hits = find_keywords(texts, kinds, keywords, phrases, longest)
            obj["keywords"] = [{"type": t, "text": x} for t, x, _ in hits]
            out.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
            batch.append((item, texts, hits))
            count += 1
            if len(batch) == BATCH:
                catalog.store_batch(batch)
                batch = []
        if batch:
            catalog.store_batch(batch)
    catalog.db.close()
    return count


def main(argv):
    if len(argv) == 5 and argv[1] == "--queries":
        count = annotate_queries(*argv[2:])
    elif len(argv) == 5:
        count = ingest(*argv[1:])
    else:
        sys.exit("usage: peer.py CATALOG ITEMS.jsonl KEYWORDS.tsv OUT.jsonl\n"
                 "       peer.py --queries QUERIES.jsonl KEYWORDS.tsv OUT.jsonl")
    print(json.dumps({"items": count,
                      "seconds": round(time.perf_counter() - START, 3),
                      "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


if __name__ == "__main__":
    main(sys.argv)
