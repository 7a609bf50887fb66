"""Stage 3 of the build: texts encoded once into (A, B) pairs, and the batch of any step."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .config import PretrainConfig
from .corpus import _read_jsonl, _write_json, corpus_texts


def build_units(config: PretrainConfig, work: Path, tokenizer, log=print) -> None:
    """Encode every group into (A, B) pairs of token ids and save them as flat ``.npy`` arrays."""
    groups = _read_jsonl(work / "corpus.jsonl")
    texts = corpus_texts(work)
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    enc = dict(zip(texts, ids))
    seg = (config.max_len - 3) // 2
    a_list, b_list = [], []
    for g in groups:
        if g["kind"] == "pair":
            a, b = enc[g["texts"][0]][:seg], enc[g["texts"][1]][:seg]
            if a and b:
                a_list.append(a)
                b_list.append(b)
            continue
        chunks, cur = [], []  # pack whole reviews of one movie into chunks of <= seg pieces
        for t in g["texts"]:
            piece = enc[t][:seg]
            if cur and len(cur) + len(piece) > seg:
                chunks.append(cur)
                cur = []
            cur = cur + piece
        if cur:
            chunks.append(cur)
        for i in range(0, len(chunks) - 1, 2):
            a_list.append(chunks[i])
            b_list.append(chunks[i + 1])
    for name, seqs in (("a", a_list), ("b", b_list)):
        lengths = np.array([len(s) for s in seqs], dtype=np.int64)
        np.save(work / f"units_{name}_offsets.npy", np.concatenate([[0], np.cumsum(lengths)]))
        np.save(work / f"units_{name}_ids.npy", np.fromiter((t for s in seqs for t in s), dtype=np.int32,
                                                             count=int(lengths.sum())))
    counts = np.bincount(np.concatenate([np.load(work / "units_a_ids.npy"), np.load(work / "units_b_ids.npy")]),
                         minlength=len(tokenizer))
    np.save(work / "token_counts.npy", counts)
    _write_json(work / "units.json", {"units": len(a_list), "tokens": int(counts.sum())})
    log(f"[pretrain] units: {len(a_list):,} pairs, {int(counts.sum()):,} tokens")


class Units:
    """The encoded (A, B) pairs, with the deterministic batch of any step."""

    def __init__(self, work: Path, config: PretrainConfig, tokenizer):
        self.config = config
        self.tok = tokenizer
        self.a_ids, self.a_off = np.load(work / "units_a_ids.npy"), np.load(work / "units_a_offsets.npy")
        self.b_ids, self.b_off = np.load(work / "units_b_ids.npy"), np.load(work / "units_b_offsets.npy")
        self.n = len(self.a_off) - 1
        self._perm_epoch, self._perm = -1, None

    def _seq(self, which: str, i: int) -> list[int]:
        ids, off = (self.a_ids, self.a_off) if which == "a" else (self.b_ids, self.b_off)
        return ids[off[i]:off[i + 1]].tolist()

    def batch_features(self, step: int) -> list[dict]:
        """The features of training step ``step`` (a pure function of seed and step)."""
        bs = self.config.batch_size
        per_epoch = self.n // bs
        epoch, pos = divmod(step, per_epoch)
        if epoch != self._perm_epoch:
            self._perm = np.random.default_rng([self.config.seed, epoch]).permutation(self.n)
            self._perm_epoch = epoch
        idx = self._perm[pos * bs:(pos + 1) * bs]
        rng = np.random.default_rng([self.config.seed, 1_000_003, step])
        swap = rng.random(bs) < 0.5
        partner = rng.integers(0, self.n, bs)
        cls_id, sep_id = self.tok.cls_token_id, self.tok.sep_token_id
        feats = []
        for k, i in enumerate(idx):
            j = int(partner[k]) if swap[k] and partner[k] != i else int(i)
            a, b = self._seq("a", int(i)), self._seq("b", j)
            ids = [cls_id] + a + [sep_id] + b + [sep_id]
            feats.append({"input_ids": ids, "token_type_ids": [0] * (len(a) + 2) + [1] * (len(b) + 1),
                          "special_tokens_mask": [1] + [0] * len(a) + [1] + [0] * len(b) + [1],
                          "next_sentence_label": 0 if j == i else 1})
        return feats
