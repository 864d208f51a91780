#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""torch_peer.py: the PyTorch peer of os-distill and os-search, for
bench/gr/speed. The same model as src/lib/model.h, written the way PyTorch
code is usually written (nanoGPT style): a decoder-only transformer, pre-LN
(eps 1e-5), GELU (tanh), learned positions, causal multi-head attention,
dropout 0.1 on the embeddings and on both residual branches; a word's input
is its vocabulary row plus the mean of its hashed character n-gram rows
(the hash of src/lib/ngram.c, first 48 n-grams), SID codes have rows of
their own; one output head (Linear with bias) per SID level after the final
norm. Sequences are [BOS] text [SEP] s1 .. s(L-1); code l is predicted at
the token before it. Sequences of a batch are padded to the longest (the
PyTorch way); os-distill packs them without padding.

  train   AdamW (betas 0.9, 0.95, eps 1e-8, weight decay 0.01 on the weight
          matrices, wte and wng), linear warmup and cosine decay from 1e-3,
          global gradient-norm clip 1.0; fp32 or bf16 autocast. Times
          --steps steps, skips the first --skip (warm-up), and prints one
          JSON line: examples_per_s, and the useful FLOPs an example costs
          (forward + backward matmuls, counted from the shapes, no padding).
  search  The constrained beam search of os-search: the prompt runs once
          and its keys and values are cached, each level feeds one token per
          beam (incremental decoding), a beam may only take codes that the
          trie of the catalog's SIDs allows after its prefix, log-softmax
          renormalized over the allowed codes, beams are distinct SIDs, and
          at the last level only the beams with a choice (more than one
          code allowed) run through the model. Weights from an os-distill model file (--model; the format
          of src/lib/tensorfile.h), or random (--random). Prints one JSON
          line: p50/p99/max latency of a query, queries a second with
          --workers processes of --threads threads each.

Inputs: the catalog (SQLite, with SIDs and vocabulary) and query records
annotated by `os-tokenize --queries --emit tokens,words` (titles as records
{"qid": item id, "query": title}).
"""
import argparse
import json
import math
import multiprocessing as mp
import os
import sqlite3
import struct
import sys
import time


def _threads_from_argv(argv):
    """--threads before numpy and torch are imported: Debian's torch
    multiplies on OpenBLAS, whose own thread pool (all cores, spinning on
    sched_yield) torch.set_num_threads() does not limit."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--threads", type=int, default=2)
    return pre.parse_known_args(argv)[0].threads


os.environ.setdefault("OPENBLAS_NUM_THREADS", str(_threads_from_argv(sys.argv[1:])))
os.environ.setdefault("OMP_NUM_THREADS", os.environ["OPENBLAS_NUM_THREADS"])

# numpy and torch after the thread settings: both load OpenBLAS
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

SPECIALS = 4  # BOS, SEP, THINK, USER
BOS, SEP = 0, 1
MAX_NGRAMS = 48
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1


# ---------------------------------------------------------------- n-grams

def _fnv(h, data):
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK64
    return h


def _mix(x):
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & MASK64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & MASK64
    x ^= x >> 31
    return x


def ngrams(word, buckets):
    """The bucket rows of src/lib/ngram.c's n-grams of "<word>", 3..5 code
    points, the first MAX_NGRAMS of them."""
    cps = [c.encode("utf-8") for c in word][:128]
    ncp = len(cps)
    out = []
    for n in range(3, 6):
        for a in range(-1, ncp + 2 - n):
            b = a + n
            data = b"<" if a < 0 else b""
            data += b"".join(cps[max(a, 0):min(b, ncp)])
            if b > ncp:
                data += b">"
            out.append(_mix(_fnv(FNV_OFFSET, data)) % buckets)
    return out[:MAX_NGRAMS]


# ---------------------------------------------------------------- data

class Catalog:
    """Vocabulary size, SIDs and the trie of the catalog."""

    def __init__(self, path):
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.words = (db.execute("SELECT max(id) FROM vocab").fetchone()[0] or 0) + 1
        rows = db.execute(
            "SELECT i.id, s.sid FROM sids s JOIN items i ON i.seq = s.item "
            "ORDER BY s.sid").fetchall()
        db.close()
        self.ids = [r[0] for r in rows]
        self.sids = [tuple(int(c) for c in r[1].split(",")) for r in rows]
        self.sid_of = dict(zip(self.ids, self.sids))
        self.levels = len(self.sids[0])
        self.codes = [max(s[l] for s in self.sids) + 1 for l in range(self.levels)]

    def build_trie(self, codes):
        """Per level l: allowed (nodes, K_l) bool, child (nodes, K_l) node
        of level l + 1 (or item index at the last level), nchild (nodes)."""
        self.allowed, self.child, self.nchild = [], [], []
        prefix_node = {(): 0}
        for l in range(self.levels):
            n = len(prefix_node)
            K = codes[l]
            allowed = np.zeros((n, K), dtype=bool)
            child = np.full((n, K), -1, dtype=np.int64)
            nxt = {}
            for i, s in enumerate(self.sids):
                p = prefix_node[s[:l]]
                if s[l] >= K:  # a code the model never saw
                    continue
                allowed[p, s[l]] = True
                if l + 1 < self.levels:
                    child[p, s[l]] = nxt.setdefault(s[:l + 1], len(nxt))
                else:
                    child[p, s[l]] = i
            self.allowed.append(torch.from_numpy(allowed))
            self.child.append(torch.from_numpy(child))
            self.nchild.append(torch.from_numpy(allowed.sum(1)))
            prefix_node = nxt


class Encoder:
    """Token rows and n-gram rows of annotated records, cached per word."""

    def __init__(self, words, buckets, max_text):
        self.words, self.buckets, self.max_text = words, buckets, max_text
        self.cache = {}

    def encode(self, rec):
        toks, words = rec["tokens"][:self.max_text], rec["words"][:self.max_text]
        rows = [SPECIALS + (t if 0 <= t < self.words else 0) for t in toks]
        grams = []
        for w in words:
            g = self.cache.get(w)
            if g is None:
                g = self.cache[w] = ngrams(w, self.buckets)
            grams.append(g)
        return rows, grams


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


# ---------------------------------------------------------------- model

class Block(nn.Module):
    def __init__(self, C, H, FF, dropout):
        super().__init__()
        self.H = H
        self.ln1 = nn.LayerNorm(C, eps=1e-5)
        self.qkv = nn.Linear(C, 3 * C)
        self.attproj = nn.Linear(C, C)
        self.ln2 = nn.LayerNorm(C, eps=1e-5)
        self.fc = nn.Linear(C, FF)
        self.fcproj = nn.Linear(FF, C)
        self.drop = nn.Dropout(dropout)

    def split(self, t):  # (B,T,C) -> (B,H,T,hs)
        B, T, C = t.shape
        return t.view(B, T, self.H, C // self.H).transpose(1, 2)

    def mlp(self, x):
        return self.fcproj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))

    def forward(self, x, mask):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = self.split(q), self.split(k), self.split(v)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // self.H))
        att = att.masked_fill(mask[:T, :T], float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.drop(self.attproj(y))
        return x + self.drop(self.mlp(x))

    # incremental decoding
    def prompt(self, x, mask):
        """x (1,P,C); returns x and the prompt's keys and values (1,H,P,hs)."""
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = self.split(q), self.split(k), self.split(v)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // self.H))
        att = att.masked_fill(mask[:T, :T], float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.attproj(y)
        return x + self.mlp(x), (k, v)

    def step(self, x, kv_prompt, kv_beam):
        """x (nb,1,C), one token per beam, attending to the prompt's cache
        and its beam's earlier tokens; kv_beam is (k, v) (nb,H,s,hs) or
        None. Returns x and the beam cache with this token appended."""
        nb, _, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = self.split(q), self.split(k), self.split(v)
        if kv_beam is not None:
            k = torch.cat((kv_beam[0], k), dim=2)
            v = torch.cat((kv_beam[1], v), dim=2)
        kp, vp = kv_prompt
        P = kp.shape[2]
        scale = 1.0 / math.sqrt(C // self.H)
        att = torch.cat((q @ kp.transpose(-2, -1), q @ k.transpose(-2, -1)), dim=-1)
        att = (att * scale).softmax(dim=-1)
        y = att[..., :P] @ vp + att[..., P:] @ v
        y = y.transpose(1, 2).reshape(nb, 1, C)
        x = x + self.attproj(y)
        return x + self.mlp(x), (k, v)


class Model(nn.Module):
    def __init__(self, words, buckets, codes, C, L, H, FF, context, dropout):
        super().__init__()
        self.words, self.codes, self.context = words, list(codes), context
        self.levels = len(codes)
        self.wte = nn.Embedding(SPECIALS + words + sum(codes), C)
        self.wpe = nn.Embedding(context, C)
        self.wng = nn.EmbeddingBag(buckets, C, mode="mean")
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(C, H, FF, dropout) for _ in range(L))
        self.lnf = nn.LayerNorm(C, eps=1e-5)
        self.heads = nn.ModuleList(nn.Linear(C, k) for k in codes)
        self.register_buffer(
            "mask", torch.triu(torch.ones(context, context, dtype=torch.bool), 1),
            persistent=False)
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif ".ln" in name or name.startswith("lnf"):
                nn.init.ones_(p)
            else:
                std = 0.02 / math.sqrt(2 * L) if "proj.weight" in name else 0.02
                nn.init.normal_(p, 0.0, std)

    def sid_row(self, level):
        return SPECIALS + self.words + sum(self.codes[:level])

    def embed(self, ids, ngram, offsets):
        B, T = ids.shape
        pos = torch.arange(T, dtype=torch.long)
        x = self.wte(ids) + self.wpe(pos)
        return x + self.wng(ngram, offsets).view(B, T, -1)

    def forward(self, ids, ngram, offsets, tpos, tcode):
        """ids (B,T) padded; ngram/offsets the bags of the B*T tokens;
        tpos/tcode (B,levels). Returns the mean over examples of the sum
        over levels of the cross-entropy."""
        x = self.drop(self.embed(ids, ngram, offsets))
        for b in self.blocks:
            x = b(x, self.mask)
        h = self.lnf(x[torch.arange(ids.shape[0])[:, None], tpos])
        return sum(F.cross_entropy(head(h[:, l]), tcode[:, l])
                   for l, head in enumerate(self.heads))

    def decay_groups(self, weight_decay):
        decay, plain = [], []
        for name, p in self.named_parameters():
            is_matrix = name.endswith("weight") and p.dim() == 2 and not name.startswith("wpe")
            (decay if is_matrix else plain).append(p)
        return [{"params": decay, "weight_decay": weight_decay},
                {"params": plain, "weight_decay": 0.0}]


# ---------------------------------------------------------------- model file

def read_osm(path):
    """Settings and tensors of a model file (src/lib/tensorfile.h)."""
    buf = open(path, "rb").read()
    magic, version, nkv, nt, align = struct.unpack_from("<8sIIII", buf, 0)
    if magic != b"OSMODEL\0" or version != 1:
        raise SystemExit(f"torch_peer: {path}: not a model file")
    off, kv, desc = 24, {}, []

    def u32():
        nonlocal off
        (v,) = struct.unpack_from("<I", buf, off)
        off += 4
        return v

    def text():
        nonlocal off
        n = u32()
        s = buf[off:off + n].decode()
        off += n
        return s

    for _ in range(nkv):
        k = text()
        kv[k] = text()
    for _ in range(nt):
        name = text()
        dtype, ndims = u32(), u32()
        dims = struct.unpack_from(f"<{ndims}Q", buf, off)
        off += 8 * ndims
        (data_off,) = struct.unpack_from("<Q", buf, off)
        off += 8
        desc.append((name, dtype, dims, data_off))
    start = (off + align - 1) // align * align
    tensors = {}
    for name, dtype, dims, data_off in desc:
        count = int(np.prod(dims))
        a = np.frombuffer(buf, dtype="<f4", count=count, offset=start + data_off)
        tensors[name] = torch.from_numpy(a.reshape(dims).copy())
    return kv, tensors


def load_osm(path):
    kv, t = read_osm(path)
    codes = [int(c) for c in kv["codes"].split(",")]
    C, L, FF = int(kv["dim"]), int(kv["layers"]), int(kv["ff"])
    m = Model(int(kv["words"]), int(kv["buckets"]), codes, C, L,
              int(kv["heads"]), FF, int(kv["context"]), 0.0)
    with torch.no_grad():
        m.wte.weight.copy_(t["wte"])
        m.wpe.weight.copy_(t["wpe"])
        m.wng.weight.copy_(t["wng"])
        for l, b in enumerate(m.blocks):
            b.ln1.weight.copy_(t["ln1w"][l])
            b.ln1.bias.copy_(t["ln1b"][l])
            b.qkv.weight.copy_(t["qkvw"][l].view(3 * C, C))
            b.qkv.bias.copy_(t["qkvb"][l])
            b.attproj.weight.copy_(t["attprojw"][l].view(C, C))
            b.attproj.bias.copy_(t["attprojb"][l])
            b.ln2.weight.copy_(t["ln2w"][l])
            b.ln2.bias.copy_(t["ln2b"][l])
            b.fc.weight.copy_(t["fcw"][l].view(FF, C))
            b.fc.bias.copy_(t["fcb"][l])
            b.fcproj.weight.copy_(t["fcprojw"][l].view(C, FF))
            b.fcproj.bias.copy_(t["fcprojb"][l])
        m.lnf.weight.copy_(t["lnfw"][0])
        m.lnf.bias.copy_(t["lnfb"][0])
        k0 = 0
        for l, head in enumerate(m.heads):
            head.weight.copy_(t["headw"][k0:k0 + codes[l]])
            head.bias.copy_(t["headb"][k0:k0 + codes[l], 0])
            k0 += codes[l]
    return m


# ---------------------------------------------------------------- training

def examples(cat, enc, titles_path, queries_path):
    """(rows, grams, sid) of every title and every (query, relevant item)."""
    out = []
    for rec in read_jsonl(titles_path):
        sid = cat.sid_of.get(str(rec["qid"]))
        if sid is not None:
            out.append((*enc.encode(rec), sid))
    for rec in read_jsonl(queries_path):
        rows, grams = enc.encode(rec)
        for item in dict.fromkeys(rec.get("relevant") or []):
            sid = cat.sid_of.get(str(item))
            if sid is not None:
                out.append((rows, grams, sid))
    return out


def flops_per_example(exs, C, L, FF, codes):
    """Useful matmul FLOPs of forward + backward, averaged over `exs`:
    per token per layer 2(3CC + CC + 2CF), attention 2*2*keys*C, heads
    2*C*K_l per target, all times 3; no padding."""
    levels = len(codes)
    tokens = keys = 0
    for rows, _, _ in exs:
        n = len(rows) + levels + 1
        tokens += n
        keys += n * (n + 1) // 2
    per_token = L * 2 * (3 * C * C + C * C + 2 * C * FF)
    attn = L * 4 * C * keys
    head = sum(2 * C * k for k in codes)
    total = 3 * (tokens * per_token + attn) + 3 * len(exs) * head
    return total / len(exs), tokens / len(exs), keys / tokens


def collate(batch, levels, sid_base):
    T = max(len(r) for r, _, _ in batch) + levels + 1
    B = len(batch)
    ids = np.zeros((B, T), dtype=np.int64)
    counts = np.zeros((B, T), dtype=np.int64)
    tpos = np.zeros((B, levels), dtype=np.int64)
    tcode = np.zeros((B, levels), dtype=np.int64)
    flat = []
    for i, (rows, grams, sid) in enumerate(batch):
        n = len(rows)
        ids[i, 0] = BOS
        ids[i, 1:n + 1] = rows
        ids[i, n + 1] = SEP
        for l in range(levels - 1):
            ids[i, n + 2 + l] = sid_base[l] + sid[l]
        for j, g in enumerate(grams):
            counts[i, j + 1] = len(g)
            flat.extend(g)
        tpos[i] = np.arange(n + 1, n + 1 + levels)
        tcode[i] = sid
    offsets = np.zeros(B * T, dtype=np.int64)
    np.cumsum(counts.reshape(-1)[:-1], out=offsets[1:])
    return (torch.from_numpy(ids), torch.tensor(flat, dtype=torch.long),
            torch.from_numpy(offsets), torch.from_numpy(tpos), torch.from_numpy(tcode))


def lr_at(step, peak, warmup, total, min_ratio=0.1):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def train(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    cat = Catalog(a.catalog)
    max_text = a.context - cat.levels - 1
    enc = Encoder(cat.words, a.buckets, max_text)
    exs = examples(cat, enc, a.titles, a.queries)
    model = Model(cat.words, a.buckets, cat.codes, a.dim, a.layers, a.heads,
                  a.ff, a.context, a.dropout)
    opt = torch.optim.AdamW(model.decay_groups(a.weight_decay), lr=a.lr,
                            betas=(0.9, 0.95), eps=1e-8)
    sid_base = [model.sid_row(l) for l in range(cat.levels)]
    order = np.random.default_rng(a.seed).permutation(len(exs))
    total_steps = math.ceil(len(exs) / a.batch) * a.epochs_plan
    model.train()
    times, losses, collate_s, slots, used = [], [], 0.0, 0, 0
    for step in range(a.steps):
        t0 = time.perf_counter()
        idx = order[(step * a.batch) % len(exs):][:a.batch]
        batch = collate([exs[i] for i in idx], cat.levels, sid_base)
        t1 = time.perf_counter()
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a.lr, a.warmup, total_steps)
        if a.dtype == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = model(*batch)
        else:
            loss = model(*batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        t2 = time.perf_counter()
        times.append(t2 - t0)
        if step >= a.skip:
            collate_s += t1 - t0
            slots += batch[0].numel()
            used += sum(len(exs[i][0]) + cat.levels + 1 for i in idx)
        losses.append(float(loss))
    measured = times[a.skip:]
    flops, tokens, keys = flops_per_example(exs, a.dim, a.layers, a.ff, cat.codes)
    eps = a.batch * len(measured) / sum(measured)
    print(json.dumps({
        "torch": torch.__version__, "dtype": a.dtype, "threads": a.threads,
        "examples": len(exs),
        "steps": a.steps, "skipped": a.skip, "batch": a.batch,
        "examples_per_s": round(eps, 2),
        "collate_share": round(collate_s / sum(measured), 4),
        "padding_share": round(1 - used / slots, 4),
        "first_loss": round(losses[0], 4), "last_loss": round(losses[-1], 4),
        "flops_per_example": flops, "tokens_per_example": round(tokens, 3),
        "keys_per_token": round(keys, 3),
        "params": sum(p.numel() for p in model.parameters())}))


# ---------------------------------------------------------------- search

class Searcher:
    def __init__(self, model, cat):
        self.m, self.cat = model, cat
        self.sid_base = [model.sid_row(l) for l in range(cat.levels)]

    @torch.inference_mode()
    def search(self, rows, grams, beam, k):
        m, cat, V = self.m, self.cat, self.cat.levels
        ids = torch.tensor([[BOS, *rows, SEP]], dtype=torch.long)
        P = ids.shape[1]
        flat = [g for gs in grams for g in gs]
        counts = [0] + [len(g) for g in grams] + [0]
        offsets = torch.tensor(np.concatenate(([0], np.cumsum(counts[:-1]))),
                               dtype=torch.long)
        x = m.embed(ids, torch.tensor(flat, dtype=torch.long), offsets)
        kv_prompt = []
        for b in m.blocks:
            x, kv = b.prompt(x, m.mask)
            kv_prompt.append(kv)
        logits = m.heads[0](m.lnf(x[:, -1]))  # (1, K0)
        nodes = torch.zeros(1, dtype=torch.long)
        score = torch.zeros(1)
        kv_beam = [None] * len(m.blocks)
        for level in range(V):
            allowed = cat.allowed[level][nodes]  # (nb, K)
            if logits is None:  # every beam has one way to go
                lp = torch.where(allowed, 0.0, float("-inf"))
            else:
                lp = logits.float().masked_fill(~allowed, float("-inf")).log_softmax(-1)
            cand = (score[:, None] + lp).reshape(-1)
            K = allowed.shape[1]
            n = min(beam, int(allowed.sum()))
            score, top = cand.topk(n)
            parent, code = top // K, top % K
            nodes = cat.child[level][nodes[parent], code]
            if level + 1 == V:
                return [(cat.ids[i], float(s)) for i, s in
                        zip(nodes[:k].tolist(), score[:k].tolist())]
            kv_beam = [None if kv is None else (kv[0][parent], kv[1][parent])
                       for kv in kv_beam]
            ids = self.sid_base[level] + code
            if level + 2 == V:
                # before the last level only the beams with a choice run:
                # no later level needs the keys, and a beam with one way
                # to go gets log-probability 0 whatever its logits
                sel = (cat.nchild[level + 1][nodes] > 1).nonzero().squeeze(1)
                if len(sel) == 0:
                    logits = None
                    continue
                x = (m.wte(ids[sel]) + m.wpe.weight[P + level])[:, None, :]
                for i, b in enumerate(m.blocks):
                    kv = kv_beam[i] and (kv_beam[i][0][sel], kv_beam[i][1][sel])
                    x, _ = b.step(x, kv_prompt[i], kv)
                logits = torch.zeros(len(nodes), m.codes[level + 1])
                logits[sel] = m.heads[level + 1](m.lnf(x[:, 0]))
                continue
            x = (m.wte(ids) + m.wpe.weight[P + level])[:, None, :]
            for i, b in enumerate(m.blocks):
                x, kv_beam[i] = b.step(x, kv_prompt[i], kv_beam[i])
            logits = m.heads[level + 1](m.lnf(x[:, 0]))


def _search_worker(searcher, queries, beam, k, barrier, out, run_path):
    torch.set_num_threads(1)
    barrier.wait()
    start = time.perf_counter()
    lat, results = [], []
    for qid, rows, grams in queries:
        t0 = time.perf_counter()
        hits = searcher.search(rows, grams, beam, k)
        lat.append(time.perf_counter() - t0)
        results.append((qid, hits))
    end = time.perf_counter()
    if run_path:
        with open(run_path, "w") as f:
            for qid, hits in results:
                f.write(json.dumps({"qid": qid, "results": [h[0] for h in hits]}) + "\n")
    out.put((start, end, lat))


def search(a):
    torch.set_num_threads(a.threads)
    cat = Catalog(a.catalog)
    if a.random:
        torch.manual_seed(a.seed)
        model = Model(cat.words, a.buckets, cat.codes, a.dim, a.layers, a.heads,
                      a.ff, a.context, 0.0)
    else:
        model = load_osm(a.model)
    model.eval()
    cat.build_trie(model.codes)
    enc = Encoder(model.words, model.wng.weight.shape[0],
                  model.context - cat.levels - 1)
    queries = [(rec["qid"], *enc.encode(rec)) for rec in read_jsonl(a.queries)]
    queries = queries * a.repeat
    searcher = Searcher(model, cat)
    for q in queries[:a.warmup]:  # warm-up, not timed
        searcher.search(q[1], q[2], a.beam, a.k)
    if a.workers == 1:
        out = [_single(searcher, queries, a)]
    else:
        ctx = mp.get_context("fork")
        barrier, q = ctx.Barrier(a.workers), ctx.Queue()
        procs = [ctx.Process(target=_search_worker,
                             args=(searcher, queries[w::a.workers], a.beam, a.k,
                                   barrier, q, None))
                 for w in range(a.workers)]
        for p in procs:
            p.start()
        out = [q.get() for _ in procs]
        for p in procs:
            p.join()
    lat = sorted(x for _, _, l in out for x in l)
    wall = max(e for _, e, _ in out) - min(s for s, _, _ in out)
    n = len(lat)
    print(json.dumps({
        "torch": torch.__version__, "queries": n, "beam": a.beam, "workers": a.workers, "threads": a.threads,
        "weights": "random" if a.random else "model file",
        "seconds": round(wall, 3), "qps": round(n / wall, 1),
        "p50_ms": round(1e3 * lat[(n - 1) // 2], 3),
        "p99_ms": round(1e3 * lat[(n * 99 - 1) // 100], 3),
        "max_ms": round(1e3 * lat[-1], 3)}))


def _single(searcher, queries, a):
    start = time.perf_counter()
    lat, results = [], []
    for qid, rows, grams in queries:
        t0 = time.perf_counter()
        hits = searcher.search(rows, grams, a.beam, a.k)
        lat.append(time.perf_counter() - t0)
        results.append((qid, hits))
    end = time.perf_counter()
    if a.run:
        with open(a.run, "w") as f:
            for qid, hits in results[:len(results) // a.repeat]:
                f.write(json.dumps({"qid": qid, "results": [h[0] for h in hits]}) + "\n")
    return start, end, lat


# ---------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    for name in ("train", "search"):
        s = sub.add_parser(name)
        s.add_argument("--catalog", required=True, help="the catalog (SQLite, with SIDs)")
        s.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
        s.add_argument("--seed", type=int, default=1)
        s.add_argument("--layers", type=int, default=4)
        s.add_argument("--dim", type=int, default=256)
        s.add_argument("--heads", type=int, default=4)
        s.add_argument("--ff", type=int, default=1024)
        s.add_argument("--context", type=int, default=32)
        s.add_argument("--buckets", type=int, default=65536)
    t = sub.choices["train"]
    t.add_argument("--titles", required=True, help="titles as annotated query records")
    t.add_argument("--queries", required=True, help="annotated training query records")
    t.add_argument("--steps", type=int, default=40)
    t.add_argument("--skip", type=int, default=10, help="warm-up steps not timed")
    t.add_argument("--batch", type=int, default=256)
    t.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32")
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--warmup", type=int, default=100)
    t.add_argument("--epochs-plan", type=int, default=10,
                   help="epochs of the learning-rate schedule (default 10)")
    t.add_argument("--weight-decay", type=float, default=0.01)
    t.add_argument("--dropout", type=float, default=0.1)
    t.add_argument("--clip", type=float, default=1.0)
    s = sub.choices["search"]
    s.add_argument("--queries", required=True, help="annotated query records")
    s.add_argument("--model", help="an os-distill model file")
    s.add_argument("--random", action="store_true", help="random weights instead")
    s.add_argument("--beam", type=int, default=20)
    s.add_argument("-k", type=int, help="results a query (default: --beam, as os-search)")
    s.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    s.add_argument("--repeat", type=int, default=1, help="passes over the queries")
    s.add_argument("--warmup", type=int, default=20, help="untimed queries first")
    s.add_argument("--run", help="write each query's result ids here (workers 1)")
    a = p.parse_args()
    if a.mode == "search" and a.k is None:
        a.k = a.beam
    if a.mode == "train":
        train(a)
    else:
        if not a.random and not a.model:
            p.error("search needs --model or --random")
        search(a)


if __name__ == "__main__":
    main()
