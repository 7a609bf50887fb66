"""A retrieval chatbot over all of Chatbot_data: a cached index, evaluation and a CLI.

The lecture's chatbot embeds the user's question with BERT, embeds every stored question,
and answers with the answer of the most similar one. Here the corpus is encoded **once**
(in batches, vectors L2-normalised and cached on disk), and a query costs one encode plus
one matrix product and a top-k.

Methods (``method=``):

- ``cls``, ``pooler``, ``mean``: raw BERT sentence vectors ([CLS] hidden state, the pooler
  output, masked mean of the last hidden states);
- ``tfidf``: lexical baseline, TF-IDF over character 1-2-grams within words (strong for Korean);
- ``embed``: IDF-weighted mean of the model's *input* word-piece embeddings (no transformer
  layers): what pretraining put into the embedding table alone;
- ``hybrid``: a weighted sum of the ``tfidf`` and ``embed`` cosine scores;
- ``kiwi``: soft morpheme matching with kiwipiepy's CoNg morpheme embeddings
  (:class:`KiwiMatcher`, a BERTScore-style F1 over content morphemes);
- ``kiwi-hybrid`` (the default for every other model, :data:`HUB_DEFAULT_METHOD`):
  a weighted sum of ``tfidf`` and ``kiwi``; it does not use the BERT model at all;
- ``contrastive``: mean-pooled vectors of the encoder after a contrastive fine-tune on questions
  that share an answer (:func:`ensure_contrastive_encoder`; the answers of the leave-one-out
  test are held out, so nothing leaks);
- ``ensemble`` (the default for tiny-ko-bert, :data:`DEFAULT_METHOD`): a weighted sum of
  ``tfidf``, ``kiwi`` and ``contrastive``.

The weights of the combined methods are in :data:`METHOD_WEIGHTS`, chosen for tiny-ko-bert on the
leave-one-out set by ``benchmarks/tune_weights.py``. The fine-tune behind ``contrastive`` and
``ensemble`` is only worth its CPU time for small models: :func:`finetune_affordable` and
:func:`methods_for` say which methods lesson 04 runs for a given model.

Cache: ``<cache>/chatbot/index-<key>/`` with ``manifest.json`` (key, sha256 of each file),
``meta.json``, ``dense.npy`` (+ ``idf.npy``), ``tfidf.npz`` + ``tfidf_vocab.json``, ``kiwi_*.npy`` (no pickle). The key
hashes the model, the method, the data checksum and the code version; a stale or corrupt
cache is rebuilt.

Command line: ``python -m helpers.chatbot ask "질문"``, ``... chat``, ``... eval FILE.tsv``.
Used by lesson 04 (``notebooks/04_bert_chatbot.ipynb``).
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .paths import cache_dir

INDEX_FORMAT = 1
METHODS = ("cls", "pooler", "mean", "tfidf", "embed", "hybrid", "kiwi", "kiwi-hybrid", "contrastive", "ensemble")
DEFAULT_METHOD = "ensemble"          # the default for tiny-ko-bert (see default_method)
HUB_DEFAULT_METHOD = "kiwi-hybrid"   # the default for any other model: no CPU fine-tune of a base-size model
# weights of the score components (``tfidf``, ``kiwi``, ``dense``) of the combined methods: the best
# leave-one-out MRR on a 0.05 grid, found by benchmarks/tune_weights.py (never tuned on the paraphrases)
METHOD_WEIGHTS = {
    "hybrid": {"tfidf": 0.95, "dense": 0.05},
    "kiwi-hybrid": {"tfidf": 0.55, "kiwi": 0.45},
    "ensemble": {"tfidf": 0.3, "kiwi": 0.4, "dense": 0.3},
}
MODEL_FREE = ("tfidf", "kiwi", "kiwi-hybrid")  # methods whose index does not depend on the BERT model
FINETUNED = ("contrastive", "ensemble")        # methods that use the contrastively fine-tuned encoder
# above this many parameters the contrastive fine-tune is a long CPU job (a base-size BERT has ~110 M):
# lesson 04 then leaves out the FINETUNED methods (see finetune_affordable)
MAX_FINETUNE_PARAMETERS = 20_000_000
MAX_QUERY_CHARS = 200  # longer queries are truncated (and the caller is told)
MAX_TOKENS = 64
SINGLE_THREAD_QUERIES = 4  # encode up to this many queries with one torch thread (measured faster on 2 cores)
TFIDF_NGRAMS = (1, 2)


class ChatbotError(ValueError):
    """Bad input for the chatbot; the message says how to fix it."""


# --------------------------------------------------------------------------- inputs
def clean_query(query, max_chars: int = MAX_QUERY_CHARS) -> tuple[str, bool]:
    """Validate a user query: returns ``(text, truncated)``.

    Raises :class:`ChatbotError` for a non-string or an empty / whitespace-only query.
    A query longer than ``max_chars`` characters is cut to ``max_chars`` (``truncated=True``).
    """
    if not isinstance(query, str):
        raise ChatbotError(f"The query must be a string, got {type(query).__name__}. Fix: pass text, e.g. '오늘 너무 피곤해'.")
    text = " ".join(query.split())
    if not text:
        raise ChatbotError("The query is empty. Fix: type a question, e.g. '오늘 너무 피곤해'.")
    if len(text) > max_chars:
        return text[:max_chars], True
    return text, False


def corpus_checksum(questions: list[str], answers: list[str]) -> str:
    """sha256 of the (question, answer) rows the index is built from."""
    digest = hashlib.sha256()
    for q, a in zip(questions, answers):
        digest.update(q.encode("utf-8") + b"\t" + a.encode("utf-8") + b"\n")
    return digest.hexdigest()


# --------------------------------------------------------------------------- encoders
POOLINGS = ("cls", "pooler", "mean")


def bert_vectors(model, tokenizer, texts: list[str], pooling="mean", batch_size: int = 128,
                 max_length: int = MAX_TOKENS):
    """Encode ``texts`` in batches and return L2-normalised float32 vectors.

    ``pooling``: ``"cls"`` (``last_hidden_state[:, 0]``), ``"pooler"`` (``pooler_output``) or
    ``"mean"`` (mean of the last hidden states over real tokens); a tuple of them returns a
    dict ``{pooling: vectors}`` from the same forward passes. Texts are sorted by length so
    that batches carry little padding. Up to :data:`SINGLE_THREAD_QUERIES` texts (a query) are
    encoded with one torch thread: on 2 cores the thread hand-offs cost more than they save.
    """
    import torch

    from .similarity import pool

    poolings = (pooling,) if isinstance(pooling, str) else tuple(pooling)
    for p in poolings:
        if p not in POOLINGS:
            raise ValueError(f"Unknown pooling {p!r}; choose cls, pooler or mean.")
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = {p: np.zeros((len(texts), model.config.hidden_size), dtype=np.float32) for p in poolings}
    threads = 1 if len(texts) <= SINGLE_THREAD_QUERIES else torch.get_num_threads()
    with torch.inference_mode(), _torch_threads(threads):
        for start in range(0, len(texts), batch_size):
            idx = order[start:start + batch_size]
            batch = tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                              max_length=max_length, return_tensors="pt")
            result = model(**batch)
            for p in poolings:
                out[p][idx] = pool(result, batch["attention_mask"], p).float().numpy()
    out = {p: normalise(v) for p, v in out.items()}
    return out[pooling] if isinstance(pooling, str) else out


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class TfidfEncoder:
    """TF-IDF over character n-grams (within word boundaries), rows L2-normalised.

    A thin wrapper around scikit-learn's ``TfidfVectorizer`` whose state (vocabulary + idf)
    is saved as JSON / ``.npy`` instead of pickle.
    """

    def __init__(self, ngram_range=TFIDF_NGRAMS):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.ngram_range = tuple(ngram_range)
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=self.ngram_range,
                                          sublinear_tf=True, dtype=np.float32)

    def fit_transform(self, texts: list[str]):
        return self.vectorizer.fit_transform(texts).tocsr()

    def transform(self, texts: list[str]):
        return self.vectorizer.transform(texts).tocsr()

    def state(self) -> tuple[dict, np.ndarray]:
        vocab = {k: int(v) for k, v in self.vectorizer.vocabulary_.items()}
        return vocab, np.asarray(self.vectorizer.idf_, dtype=np.float64)

    @classmethod
    def from_state(cls, vocab: dict, idf: np.ndarray, ngram_range=TFIDF_NGRAMS) -> "TfidfEncoder":
        enc = cls(ngram_range)
        enc.vectorizer.vocabulary_ = dict(vocab)
        enc.vectorizer.idf_ = idf
        return enc


class EmbeddingBag:
    """Sentence vector = IDF-weighted mean of the model's input word-piece embeddings.

    No transformer layer runs: encoding is a table lookup, so the whole corpus takes well
    under a second. ``idf`` comes from the stored questions (:meth:`fit_idf`).
    """

    def __init__(self, tokenizer, weight: np.ndarray, idf: np.ndarray | None = None):
        self.tokenizer = tokenizer
        self.weight = np.asarray(weight, dtype=np.float32)
        self.idf = idf

    @classmethod
    def from_model(cls, tokenizer, model, idf=None) -> "EmbeddingBag":
        return cls(tokenizer, model.get_input_embeddings().weight.detach().float().numpy(), idf)

    def fit_idf(self, texts: list[str]) -> np.ndarray:
        counts = np.zeros(len(self.weight))
        for ids in self._ids(texts):
            counts[list(set(ids))] += 1
        self.idf = (np.log((1 + len(texts)) / (1 + counts)) + 1).astype(np.float32)
        return self.idf

    def _ids(self, texts):
        return self.tokenizer(list(texts), add_special_tokens=False, truncation=True,
                              max_length=MAX_TOKENS)["input_ids"]

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.weight.shape[1]), dtype=np.float32)
        for i, ids in enumerate(self._ids(texts)):
            if ids:
                w = self.idf[ids]
                out[i] = w @ self.weight[ids] / w.sum()
        return normalise(out)


_KIWI_MEMO: dict = {}  # one kiwipiepy analyser per process (loading it takes about a second)


def kiwi_analyser():
    """The shared ``Kiwi(model_type="cong")`` analyser (loaded once per process)."""
    if "kiwi" not in _KIWI_MEMO:
        from kiwipiepy import Kiwi

        _KIWI_MEMO["kiwi"] = Kiwi(model_type="cong")
    return _KIWI_MEMO["kiwi"]


class KiwiMatcher:
    """Soft morpheme matching with kiwipiepy's CoNg morpheme embeddings (``kiwi`` methods).

    Each question becomes its content morphemes (nouns, verb / adjective stems, adverbs, ...):
    ``헤어졌어`` -> ``헤어지/VV``. Two questions are compared like BERTScore, but with
    kiwi's morpheme vectors, which were trained on a large Korean corpus (이별 ≈ 작별 ≈ 헤어지):
    every query morpheme finds its most similar morpheme in the stored question (precision),
    every stored morpheme its most similar in the query (recall), both IDF-weighted; the
    score is their harmonic mean (F1). Similarities below 0 count as 0.

    State (all ``.npy``): morpheme ids, their IDF, the morpheme-morpheme cosine matrix, and the
    stored questions as a flat array of morpheme positions with offsets (weights are derived). Used by lesson 04.
    """

    CONTENT_TAGS = ("NN", "NP", "NR", "VV", "VA", "VX", "MA", "MM", "XR", "XSA", "XSV", "SL", "SN", "IC")
    UNSEEN_CACHE = 4096  # similarity rows kept for query morphemes that no stored question has

    def __init__(self, morpheme_ids, idf, sim, flat, offsets):
        self.morpheme_ids = np.asarray(morpheme_ids, dtype=np.int64)
        self.position = {int(m): i for i, m in enumerate(self.morpheme_ids)}
        self.idf = np.asarray(idf, dtype=np.float32)
        vocab = len(self.morpheme_ids)
        # one extra all-zero row/column: the padding "morpheme" of a question without content words
        self.sim = np.zeros((vocab + 1, vocab + 1), dtype=np.float32)
        self.sim[:vocab, :vocab] = np.maximum(sim, 0)  # only positive similarity counts as a match (float32 math)
        self.flat = np.asarray(flat, dtype=np.int64)
        self.weights = np.append(self.idf, np.float32(0))[self.flat]  # IDF per stored morpheme, 0 for padding
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.doc_weight = np.maximum(np.add.reduceat(self.weights, self.offsets), 1e-6)
        self._unseen: dict[int, np.ndarray] = {}

    @classmethod
    def content_morphemes(cls, texts: list[str]) -> list[list[int]]:
        """Kiwi morpheme ids of the content morphemes of each text."""
        return [[t.id for t in tokens if str(t.tag).startswith(cls.CONTENT_TAGS)]
                for tokens in kiwi_analyser().tokenize(list(texts))]

    @classmethod
    def fit(cls, texts: list[str]) -> "KiwiMatcher":
        """Analyse the stored questions and compute the similarities between their morphemes."""
        docs = cls.content_morphemes(texts)
        vocab: dict[int, int] = {}
        for morphs in docs:
            for m in morphs:
                vocab.setdefault(m, len(vocab))
        ids = list(vocab)
        counts = np.zeros(len(ids))
        for morphs in docs:
            counts[[vocab[m] for m in set(morphs)]] += 1
        idf = np.log((1 + len(texts)) / (1 + counts)) + 1
        sim = np.eye(len(ids), dtype=np.float32)
        similarity = kiwi_analyser().morpheme_similarity
        for i, a in enumerate(ids):
            row = [_kiwi_similarity(similarity, a, b) for b in ids[i + 1:]]
            sim[i, i + 1:] = row
            sim[i + 1:, i] = row
        flat, offsets = [], []
        for morphs in docs:
            offsets.append(len(flat))
            # no content morpheme: one padding entry (all-zero similarity, weight 0)
            flat.extend([vocab[m] for m in morphs] or [len(ids)])
        # at the precision the cache stores (float16), so a fresh build scores exactly like a loaded one
        return cls(ids, idf, sim.astype(np.float16), flat, offsets)

    def state(self) -> dict:
        vocab = len(self.morpheme_ids)
        return {"ids": self.morpheme_ids, "idf": self.idf, "sim": self.sim[:vocab, :vocab].astype(np.float16),
                "flat": self.flat, "offsets": self.offsets}

    @classmethod
    def from_state(cls, state: dict) -> "KiwiMatcher":
        return cls(state["ids"], state["idf"], state["sim"], state["flat"], state["offsets"])

    def _row(self, morpheme: int) -> tuple[np.ndarray, float]:
        """Similarities of one query morpheme to every stored morpheme, and its IDF weight."""
        if morpheme in self.position:
            i = self.position[morpheme]
            return self.sim[i], float(self.idf[i])
        if morpheme not in self._unseen:
            if len(self._unseen) >= self.UNSEEN_CACHE:
                self._unseen.clear()
            similarity = kiwi_analyser().morpheme_similarity
            row = np.zeros(len(self.sim), dtype=np.float32)
            row[:-1] = [_kiwi_similarity(similarity, morpheme, int(b)) for b in self.morpheme_ids]
            self._unseen[morpheme] = np.maximum(row, 0)
        return self._unseen[morpheme], float(self.idf.max())  # unseen: as rare as the rarest

    def scores(self, queries: list[str]) -> np.ndarray:
        """Soft-match F1 ``[len(queries), n_stored]`` in [0, 1]."""
        out = np.zeros((len(queries), len(self.offsets)), dtype=np.float32)
        for qi, morphs in enumerate(self.content_morphemes(queries)):
            if not morphs:
                continue
            rows, wq = zip(*(self._row(m) for m in morphs))
            gathered = np.stack(rows)[:, self.flat]                         # [query morphs, stored morphs]
            wq = np.asarray(wq, dtype=np.float32)
            precision = wq @ np.maximum.reduceat(gathered, self.offsets, axis=1) / wq.sum()
            best = gathered[0].copy()  # max over the query morphemes (a row loop beats .max(0) here)
            for row in gathered[1:]:
                np.maximum(best, row, out=best)
            recall = np.add.reduceat(best * self.weights, self.offsets) / self.doc_weight
            out[qi] = 2 * precision * recall / np.maximum(precision + recall, 1e-6)
        return out


def _kiwi_similarity(similarity, a: int, b: int) -> float:
    try:
        value = similarity(a, b)
    except Exception:  # a morpheme without an embedding (kiwi raises): no soft match
        return 0.0
    return value if value == value else 0.0  # kiwi gives NaN for a few zero vectors


# --------------------------------------------------------------------------- the index
@dataclass
class Hit:
    """One retrieved row: its answer, the stored question it matched, and the score."""

    answer: str
    question: str
    score: float
    row: int


class ChatbotIndex:
    """Stored questions/answers plus their vectors for one ``(model, method)``.

    Build with :func:`build_index` (or :func:`load_or_build_index` for the cached one);
    query with :meth:`search` / :meth:`answer`.
    """

    def __init__(self, questions, answers, method, model_name, dense=None, sparse=None,
                 tfidf=None, encoder=None, weights: dict | None = None, kiwi=None):
        self.questions = list(questions)
        self.answers = list(answers)
        self.method = method
        self.model_name = model_name
        self.dense = dense          # [n, d] float32, normalised (dense methods, hybrid)
        self.sparse = sparse        # [n, vocab] csr, normalised (tfidf, hybrid)
        self.tfidf = tfidf          # TfidfEncoder
        self.encoder = encoder      # callable: list of texts -> normalised vectors (dense part)
        self.weights = dict(weights or {})  # component -> weight (combined methods)
        self.kiwi = kiwi            # KiwiMatcher (kiwi methods)
        self.build_seconds = None
        self.from_cache = False

    def __len__(self) -> int:
        return len(self.questions)

    # -- encoding and scoring
    def encode_queries(self, queries: list[str]):
        """Return ``(dense [q, d] or None, sparse [q, vocab] or None)`` for the queries."""
        dense = sparse = None
        if self.dense is not None:
            dense = self.encoder(queries)
        if self.sparse is not None:
            sparse = self.tfidf.transform(queries)
        return dense, sparse

    def component_scores(self, queries: list[str]) -> dict[str, np.ndarray]:
        """Each score component (``dense``, ``kiwi``, ``tfidf``) as ``[len(queries), len(index)]``."""
        dense, sparse = self.encode_queries(queries)
        parts = {}
        if dense is not None:
            parts["dense"] = dense @ self.dense.T
        if self.kiwi is not None:
            parts["kiwi"] = self.kiwi.scores(queries)
        if sparse is not None:
            parts["tfidf"] = (sparse @ self.sparse.T).toarray().astype(np.float32)
        return parts

    def scores(self, queries: list[str]) -> np.ndarray:
        """Scores ``[len(queries), len(index)]``: a cosine, or the weighted sum of the components."""
        parts = self.component_scores(queries)
        if len(parts) == 1:
            return next(iter(parts.values()))
        return sum(np.float32(self.weights[name]) * part for name, part in parts.items())

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """Top-``k`` rows for ``query``, one per distinct answer, best first."""
        text, _ = clean_query(query)
        row_scores = self.scores([text])[0]
        return self._top(row_scores, k)

    def _top(self, row_scores: np.ndarray, k: int) -> list[Hit]:
        pool = min(len(row_scores), max(4 * k, 32))
        cand = np.argpartition(-row_scores, pool - 1)[:pool]
        cand = cand[np.lexsort((cand, -row_scores[cand]))]
        hits, seen = [], set()
        for i in cand:
            if self.answers[i] in seen:
                continue
            seen.add(self.answers[i])
            hits.append(Hit(self.answers[i], self.questions[i], float(row_scores[i]), int(i)))
            if len(hits) == k:
                break
        return hits

    def answer(self, query: str) -> Hit:
        """The best hit for ``query`` (see :meth:`search`)."""
        return self.search(query, k=1)[0]


# --------------------------------------------------------------------------- contrastive fine-tune
@dataclass(frozen=True)
class ContrastiveConfig:
    """Contrastive fine-tune of the encoder (methods ``contrastive`` and ``ensemble``, lesson 04).

    Each step samples ``batch_size`` answers shared by 2+ questions, two of their questions each,
    and trains mean-pooled sentence vectors with the in-batch InfoNCE loss: a question must be
    closer to its partner than to the other ``batch_size - 1`` questions (both directions).
    """

    steps: int = 600
    batch_size: int = 64
    learning_rate: float = 1e-4
    temperature: float = 0.05
    max_length: int = 32
    seed: int = 42
    held_out_fraction: float = 0.2  # answers kept out of training: the leave-one-out test's answers

    @classmethod
    def fast(cls) -> "ContrastiveConfig":
        """A seconds-long variant for tests."""
        return cls(steps=30, batch_size=4)


def training_groups(questions, answers, held_out: set[str]) -> list[list[str]]:
    """Distinct questions per answer, for answers shared by 2+ questions and not in ``held_out``.

    Sorted, so that the sampling in :func:`contrastive_finetune` is reproducible.
    """
    from collections import defaultdict

    groups = defaultdict(set)
    for q, a in zip(questions, answers):
        if a not in held_out:
            groups[a].add(q)
    return [sorted(groups[a]) for a in sorted(groups) if len(groups[a]) >= 2]


def mean_pooled(model, tokenizer, texts, max_length: int):
    """L2-normalised masked-mean sentence vectors as a torch tensor (keeps gradients; lesson 04)."""
    import torch

    from .similarity import pool

    batch = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    return torch.nn.functional.normalize(pool(model(**batch), batch["attention_mask"], "mean"), dim=-1)


def contrastive_finetune(model, tokenizer, groups: list[list[str]], config: ContrastiveConfig,
                         log=None) -> list[float]:
    """Fine-tune ``model`` in place on ``groups`` (see :class:`ContrastiveConfig`); returns the loss per step."""
    import random

    import torch

    if len(groups) < 2:
        raise ChatbotError("The contrastive fine-tune needs at least 2 answers shared by 2+ questions. "
                           "Fix: use a larger corpus or a method without fine-tuning (e.g. kiwi-hybrid).")
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    batch = min(config.batch_size, len(groups))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate)
    labels = torch.arange(batch)
    losses = []
    model.train()
    for step in range(config.steps):
        pairs = [rng.sample(groups[g], 2) for g in rng.sample(range(len(groups)), batch)]
        left = mean_pooled(model, tokenizer, [p[0] for p in pairs], config.max_length)
        right = mean_pooled(model, tokenizer, [p[1] for p in pairs], config.max_length)
        logits = left @ right.T / config.temperature
        loss = (torch.nn.functional.cross_entropy(logits, labels)
                + torch.nn.functional.cross_entropy(logits.T, labels)) / 2
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if log and (step % 100 == 0 or step == config.steps - 1):
            log(f"[chatbot] contrastive step {step + 1}/{config.steps}: loss {losses[-1]:.3f}")
    model.eval()
    return losses


def ensure_contrastive_encoder(model_name: str, questions, answers, config: ContrastiveConfig | None = None,
                               *, root=None, log=None) -> Path:
    """Directory of ``model_name`` fine-tuned contrastively on ``questions``/``answers`` (cached).

    Trains once (the held-out answers of :func:`split_answers` never enter training) and saves
    with ``save_pretrained`` (safetensors) plus a manifest of sha256 checksums under
    ``<cache>/chatbot/encoder-<key>``; the key hashes the base model, the data and the config.
    A directory that fails verification is rebuilt. The directory loads with ``load_model``.
    """
    from .models import load_model

    config = config or ContrastiveConfig()
    data = corpus_checksum(list(questions), list(answers))
    payload = {"format": INDEX_FORMAT, "model": _model_identity(model_name), "data": data,
               "config": dataclasses.asdict(config)}
    key = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
    base = Path(root) if root is not None else cache_dir() / "chatbot"
    target = base / f"encoder-{key}"
    if target.exists():
        if _verified(target, key, required="model.safetensors"):
            return target
        shutil.rmtree(target, ignore_errors=True)
    held_out = split_answers(questions, answers, config.held_out_fraction, config.seed)
    groups = training_groups(questions, answers, held_out)
    tokenizer, model = load_model(model_name)  # a fresh copy: training changes it in place
    start = time.perf_counter()
    losses = contrastive_finetune(model, tokenizer, groups, config, log=log)
    seconds = time.perf_counter() - start
    info = {"base_model": model_name, "groups": len(groups), "held_out_answers": len(held_out),
            "train_seconds": round(seconds, 1), "loss_first": round(losses[0], 4),
            "loss_last_50_mean": round(float(np.mean(losses[-50:])), 4), **dataclasses.asdict(config)}

    def write(out: Path) -> None:
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
        (out / "training.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")

    _publish(target, key, write, required="model.safetensors")
    return target


# --------------------------------------------------------------------------- build / cache
@contextlib.contextmanager
def _torch_threads(n: int):
    """Temporarily run torch with ``n`` threads (restored afterwards)."""
    import torch

    old = torch.get_num_threads()
    if old != n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if old != n:
            torch.set_num_threads(old)


def _bert_encoder(tokenizer, model, pooling: str):
    def encode(texts):
        return bert_vectors(model, tokenizer, list(texts), pooling=pooling)
    encode.pooling = pooling
    return encode


def _default_corpus():
    from .data import load_chatbot_data

    df = load_chatbot_data()
    return list(df["question"]), list(df["answer"])


_MODEL_MEMO: dict = {}  # model name -> (tokenizer, model): load once per process
_RAW_MEMO: dict = {}    # (model, corpus checksum) -> {pooling: vectors}


def _model(model_name: str):
    from .models import load_model

    if model_name not in _MODEL_MEMO:
        _MODEL_MEMO.clear()
        _MODEL_MEMO[model_name] = load_model(model_name)
    return _MODEL_MEMO[model_name]


def build_index(method: str | None = None, model_name: str | None = None, questions=None, answers=None,
                weights: dict | None = None, idf=None, contrastive: "ContrastiveConfig | None" = None,
                log=None) -> ChatbotIndex:
    """Encode the corpus once (no cache involved) and return a :class:`ChatbotIndex`.

    ``method`` defaults to :func:`default_method` of the model. ``questions``/``answers`` default
    to all of Chatbot_data; ``weights`` (combined methods) to :data:`METHOD_WEIGHTS`. ``idf``
    (``embed``/``hybrid``) reuses saved word-piece IDF weights instead of counting them again.
    ``contrastive`` configures the fine-tune behind ``contrastive``/``ensemble`` (trained once
    and cached, see :func:`ensure_contrastive_encoder`; its time is included here when it runs).
    """
    from .models import resolve_model_name

    model_name = resolve_model_name(model_name)
    method = check_method(method or default_method(model_name))
    if questions is None:
        questions, answers = _default_corpus()
    if len(questions) != len(answers) or not questions:
        raise ChatbotError("questions and answers must be non-empty lists of the same length.")
    start = time.perf_counter()
    dense = sparse = tfidf = encoder = None
    if method in POOLINGS:
        tokenizer, model = _model(model_name)
        # one forward pass gives all three raw poolings; keep them for the sibling methods
        memo_key = (model_name, corpus_checksum(questions, answers))
        if memo_key not in _RAW_MEMO:
            _RAW_MEMO.clear()
            _RAW_MEMO[memo_key] = bert_vectors(model, tokenizer, list(questions), POOLINGS)
        encoder, dense = _bert_encoder(tokenizer, model, method), _RAW_MEMO[memo_key][method]
    elif method in ("embed", "hybrid"):
        encoder = EmbeddingBag.from_model(*_model(model_name), idf=idf)
        if idf is None:
            encoder.fit_idf(list(questions))
        dense = encoder(list(questions))
    elif method in FINETUNED:
        directory = ensure_contrastive_encoder(model_name, questions, answers, contrastive, log=log)
        tokenizer, model = _model(str(directory))
        encoder, dense = _bert_encoder(tokenizer, model, "mean"), bert_vectors(model, tokenizer, list(questions))
    kiwi = KiwiMatcher.fit(list(questions)) if method in ("kiwi", "kiwi-hybrid", "ensemble") else None
    if method in ("tfidf", "hybrid", "kiwi-hybrid", "ensemble"):
        tfidf = TfidfEncoder()
        sparse = tfidf.fit_transform(list(questions))
    index = ChatbotIndex(questions, answers, method, model_name, dense=dense, sparse=sparse, tfidf=tfidf,
                         encoder=encoder, weights=weights or METHOD_WEIGHTS.get(method), kiwi=kiwi)
    index.build_seconds = time.perf_counter() - start
    return index


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ChatbotError(f"Unknown method {method!r}. Fix: choose one of {', '.join(METHODS)}.")
    return method


def default_method(model_name: str | None = None) -> str:
    """The best configuration shipped for a model: ``ensemble`` for tiny-ko-bert, else ``kiwi-hybrid``.

    ``ensemble`` needs a contrastive fine-tune of the encoder (minutes for tiny-ko-bert on a 2-core
    CPU, far longer for a base-size hub model) and its weights were tuned for tiny-ko-bert; ask for
    it explicitly with ``--method ensemble``.
    """
    from .models import REFERENCE_NAME, resolve_model_name

    return DEFAULT_METHOD if resolve_model_name(model_name) == REFERENCE_NAME else HUB_DEFAULT_METHOD


def parameter_count(model) -> int:
    """Number of parameters of a torch model (lesson 04 prints it next to the fine-tune decision)."""
    return int(sum(p.numel() for p in model.parameters()))


def finetune_affordable(model, max_parameters: int = MAX_FINETUNE_PARAMETERS) -> bool:
    """True when the contrastive fine-tune of ``model`` is a short CPU job (at most ``max_parameters``).

    tiny-ko-bert (a few million parameters) fine-tunes in minutes on 2 cores; a base-size hub BERT
    (~110 M) would take far longer, so lesson 04 skips it there and says so.
    """
    return parameter_count(model) <= max_parameters


def methods_for(model, max_parameters: int = MAX_FINETUNE_PARAMETERS) -> tuple[str, ...]:
    """The methods lesson 04 compares for ``model``: all of :data:`METHODS`, without the fine-tuned
    ones (:data:`FINETUNED`) when :func:`finetune_affordable` says the fine-tune is too costly."""
    if finetune_affordable(model, max_parameters):
        return METHODS
    return tuple(m for m in METHODS if m not in FINETUNED)


def index_key(model_name: str, method: str, data_checksum: str) -> str:
    """Cache key: model identity (name + weights checksum for local dirs), method, data checksum, format.

    ``tfidf`` and the ``kiwi`` methods do not use the BERT model, so its identity is left out
    (the kiwipiepy version is in instead).
    """
    identity = None if method in MODEL_FREE else _model_identity(model_name)
    kiwi_version = None
    if method.startswith("kiwi"):
        import kiwipiepy

        kiwi_version = kiwipiepy.__version__
    payload = {"format": INDEX_FORMAT, "model": identity, "method": method, "data": data_checksum,
               "weights": METHOD_WEIGHTS.get(method), "ngrams": list(TFIDF_NGRAMS),
               "contrastive": dataclasses.asdict(ContrastiveConfig()) if method in FINETUNED else None,
               "kiwi": kiwi_version, "kiwi_tags": list(KiwiMatcher.CONTENT_TAGS) if kiwi_version else None}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _model_identity(model_name: str) -> dict:
    from .models import model_source

    source = model_source(model_name)
    identity = {"name": model_name}
    if Path(source).is_dir():  # a local folder: its checksum listing (shipped tiny-ko-bert) or its weights
        for listing in ("checksums.sha256", "manifest.json"):
            if (Path(source) / listing).is_file():
                identity["files"] = _sha256(Path(source) / listing)
                break
        else:
            identity["files"] = _sha256(Path(source) / "model.safetensors")
    return identity


def _sha256(path: Path) -> str:
    from .data import sha256_file

    return sha256_file(path)


def save_index(index: ChatbotIndex, directory: Path, key: str) -> None:
    """Write the index files into ``directory`` (:func:`_publish` adds the manifest)."""
    directory.mkdir(parents=True, exist_ok=True)
    meta = {"key": key, "method": index.method, "model": index.model_name, "weights": index.weights,
            "rows": len(index), "checksum": corpus_checksum(index.questions, index.answers)}
    (directory / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    if index.dense is not None:
        np.save(directory / "dense.npy", index.dense)
    if isinstance(index.encoder, EmbeddingBag):
        np.save(directory / "idf.npy", index.encoder.idf)
    if index.sparse is not None:
        m = index.sparse
        np.savez(directory / "tfidf.npz", data=m.data, indices=m.indices, indptr=m.indptr,
                 shape=np.array(m.shape))
        vocab, idf = index.tfidf.state()
        (directory / "tfidf_vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        np.save(directory / "tfidf_idf.npy", idf)
    if index.kiwi is not None:
        for name, array in index.kiwi.state().items():
            np.save(directory / f"kiwi_{name}.npy", array)


def _write_manifest(directory: Path, key: str) -> None:
    files = {p.name: _sha256(p) for p in sorted(directory.iterdir()) if p.name != "manifest.json"}
    (directory / "manifest.json").write_text(json.dumps({"key": key, "files": files}), encoding="utf-8")


def _publish(target: Path, key: str, write, required: str = "meta.json") -> None:
    """Create cache directory ``target`` atomically: ``write(dir)`` fills a temporary directory
    next to it, a manifest is added, then one rename. A failure leaves no partial directory."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name.split('-')[0]}-", dir=target.parent))
    try:
        out = tmp / "new"
        out.mkdir()
        write(out)
        _write_manifest(out, key)
        try:
            os.replace(out, target)
        except OSError:  # another process published it first
            if not _verified(target, key, required=required):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _verified(directory: Path, key: str, required: str = "meta.json") -> bool:
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("key") != key or required not in manifest.get("files", {}):
        return False
    return all((directory / n).is_file() and _sha256(directory / n) == d for n, d in manifest["files"].items())


def load_index(directory: Path, questions, answers) -> ChatbotIndex:
    """Load a saved index (arrays with ``allow_pickle=False``)."""
    from scipy.sparse import csr_matrix

    meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    if meta["rows"] != len(questions) or meta["checksum"] != corpus_checksum(questions, answers):
        raise ChatbotError("cached index does not match the corpus")
    dense = sparse = tfidf = encoder = None
    if (directory / "dense.npy").is_file():
        dense = np.load(directory / "dense.npy", allow_pickle=False)
        if dense.shape[0] != len(questions):
            raise ChatbotError("cached vectors do not match the corpus")
        if meta["method"] in FINETUNED:
            encoder = _bert_encoder(*_model(str(ensure_contrastive_encoder(meta["model"], questions, answers))),
                                    "mean")
        elif meta["method"] in POOLINGS:
            encoder = _bert_encoder(*_model(meta["model"]), meta["method"])
        else:
            encoder = EmbeddingBag.from_model(*_model(meta["model"]),
                                              np.load(directory / "idf.npy", allow_pickle=False))
    if (directory / "tfidf.npz").is_file():
        z = np.load(directory / "tfidf.npz", allow_pickle=False)
        sparse = csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
        vocab = json.loads((directory / "tfidf_vocab.json").read_text(encoding="utf-8"))
        tfidf = TfidfEncoder.from_state(vocab, np.load(directory / "tfidf_idf.npy", allow_pickle=False))
    kiwi = None
    if (directory / "kiwi_sim.npy").is_file():
        kiwi = KiwiMatcher.from_state({name: np.load(directory / f"kiwi_{name}.npy", allow_pickle=False)
                                       for name in ("ids", "idf", "sim", "flat", "offsets")})
        if len(kiwi.offsets) != len(questions):
            raise ChatbotError("cached morpheme index does not match the corpus")
    index = ChatbotIndex(questions, answers, meta["method"], meta["model"], dense=dense, sparse=sparse,
                         tfidf=tfidf, encoder=encoder, weights=meta["weights"], kiwi=kiwi)
    index.from_cache = True
    return index


def load_or_build_index(method: str | None = None, model_name: str | None = None, *, root=None,
                        log=None) -> ChatbotIndex:
    """The cached index for ``(model, method, data)``: loaded if valid, else built and saved.

    ``root`` defaults to ``<cache>/chatbot``. A cache whose files fail their checksums, or
    whose key differs (other model, data or code version), is rebuilt, never used.
    ``index.build_seconds`` is the wall time of this call (load or build).
    """
    from .models import resolve_model_name

    start = time.perf_counter()
    model_name = resolve_model_name(model_name)
    method = check_method(method or default_method(model_name))
    questions, answers = _default_corpus()
    key = index_key(model_name, method, corpus_checksum(questions, answers))
    base = Path(root) if root is not None else cache_dir() / "chatbot"
    base.mkdir(parents=True, exist_ok=True)
    target = base / f"index-{method}-{key}"
    if target.exists():
        if _verified(target, key):
            try:
                index = load_index(target, questions, answers)
                index.build_seconds = time.perf_counter() - start
                return index
            except (ChatbotError, OSError, ValueError, KeyError):
                pass
        if log:
            log("[chatbot] cached index failed verification; rebuilding")
        shutil.rmtree(target, ignore_errors=True)
    index = build_index(method, model_name, questions, answers, log=log)
    _publish(target, key, lambda out: save_index(index, out, key))
    index.build_seconds = time.perf_counter() - start
    return index


# --------------------------------------------------------------------------- evaluation
def answer_ranks(index: ChatbotIndex, queries: list[str], expected: list[str], exclude=None,
                 batch_size: int = 256) -> np.ndarray:
    """1-based rank of the expected answer among the *distinct* answers retrieved per query.

    ``exclude`` (optional) gives, per query, row indices to hide (leave-one-out: the held-out
    question itself). A query whose expected answer never appears gets rank ``len(index) + 1``.
    """
    ranks = []
    for start in range(0, len(queries), batch_size):
        stop = start + batch_size
        ranks.append(ranks_from_scores(index.scores(list(queries[start:stop])), index.answers,
                                       expected[start:stop], None if exclude is None else exclude[start:stop]))
    return np.concatenate(ranks) if ranks else np.empty(0, dtype=np.int64)


def ranks_from_scores(scores: np.ndarray, answers: list[str], expected: list[str], exclude=None) -> np.ndarray:
    """:func:`answer_ranks` for a ready score matrix ``[queries, rows]`` (also used to tune weights).

    An answer scores as its best row; the rank is 1 + the number of distinct answers scoring
    strictly higher than the expected one (rows listed in ``exclude[i]`` are hidden for query ``i``).
    """
    scores = np.array(scores, dtype=np.float32)  # a copy: excluded rows are overwritten
    if exclude is not None:
        for i, rows in enumerate(exclude):
            scores[i, list(rows)] = -np.inf
    names, answer_of_row = np.unique(np.asarray(answers, dtype=object), return_inverse=True)
    order = np.argsort(answer_of_row, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(answer_of_row[order]) != 0])
    per_answer = np.maximum.reduceat(scores[:, order], starts, axis=1)  # [queries, distinct answers]
    position = {name: j for j, name in enumerate(names)}
    ranks = np.full(len(scores), len(answers) + 1, dtype=np.int64)
    for i, answer in enumerate(expected):
        j = position.get(answer)
        if j is not None and np.isfinite(per_answer[i, j]):
            ranks[i] = 1 + int((per_answer[i] > per_answer[i, j]).sum())
    return ranks


def metrics(ranks: np.ndarray) -> dict:
    """``n``, ``top1``, ``top5`` and ``mrr`` from 1-based ranks."""
    ranks = np.asarray(ranks)
    return {"n": int(len(ranks)), "top1": round(float(np.mean(ranks <= 1)), 4),
            "top5": round(float(np.mean(ranks <= 5)), 4), "mrr": round(float(np.mean(1.0 / ranks)), 4)}


def load_eval_tsv(path) -> tuple[list[str], list[str]]:
    """Read a TSV with a header containing ``query`` and ``expected_answer`` (other columns ignored)."""
    import csv

    path = Path(path)
    if not path.is_file():
        raise ChatbotError(f"{path.name}: no such file. Fix: give the path of a tab-separated file.")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        fields = reader.fieldnames or []
        missing = [c for c in ("query", "expected_answer") if c not in fields]
        if not fields:
            raise ChatbotError(f"{path.name} is empty. Fix: add a header line 'query<TAB>expected_answer' and rows.")
        if missing:
            raise ChatbotError(f"{path.name} has no column {', '.join(repr(m) for m in missing)} (header: "
                               f"{fields}). Fix: the header must contain 'query' and 'expected_answer', tab-separated.")
        queries, expected = [], []
        for line, row in enumerate(reader, start=2):
            q, a = (row.get("query") or "").strip(), (row.get("expected_answer") or "").strip()
            if not q or not a:
                raise ChatbotError(f"{path.name} line {line}: empty query or expected_answer. Fix: fill or remove the line.")
            queries.append(clean_query(q)[0])
            expected.append(a)
    if not queries:
        raise ChatbotError(f"{path.name} has a header but no rows. Fix: add at least one query.")
    return queries, expected


PARAPHRASE_SETS = {
    # 70 queries written to replace every content word of a stored question (컴퓨터가 켜지질 않아 for
    # 노트북 부팅 안돼): a test of meaning beyond shared words, deliberately hard for lexical methods
    "hard": "paraphrases.tsv",
    # 90 queries written the way another user would say the same thing (words kept or changed as
    # natural), for 90 rows drawn at random (seed 2026, questions of 2+ words, sources of "hard"
    # excluded), by a writer who never saw any method's results
    "natural": "paraphrases_natural.tsv",
}


def paraphrase_path(kind: str = "hard") -> Path:
    """A held-out paraphrase set shipped with the package (``helpers/data/``); see :data:`PARAPHRASE_SETS`."""
    if kind not in PARAPHRASE_SETS:
        raise ChatbotError(f"unknown paraphrase set {kind!r}. Fix: use one of {', '.join(PARAPHRASE_SETS)}.")
    return Path(__file__).resolve().parent / "data" / PARAPHRASE_SETS[kind]


def load_paraphrases(kind: str = "hard") -> tuple[list[str], list[str]]:
    """Queries and expected answers of a held-out paraphrase set, ``hard`` or ``natural`` (lesson 04)."""
    return load_eval_tsv(paraphrase_path(kind))


def split_answers(questions, answers, eval_fraction: float = 0.2, seed: int = 42) -> set[str]:
    """A stable, hash-chosen ``eval_fraction`` of the answers shared by 2+ distinct questions.

    The leave-one-out test uses only these answers, so that anything tuned or trained on
    the other answers (e.g. a contrastive fine-tune) never sees them: a split *by answer*.
    """
    from collections import defaultdict

    groups = defaultdict(set)
    for q, a in zip(questions, answers):
        groups[a].add(q)
    shared = sorted(a for a, qs in groups.items() if len(qs) >= 2)
    ranked = sorted(shared, key=lambda a: hashlib.sha256(f"{seed}:{a}".encode()).hexdigest())
    return set(ranked[:round(eval_fraction * len(ranked))])


def leave_one_out_set(questions, answers, eval_answers: set[str] | None = None):
    """Queries for the leave-one-out test: every question whose answer is shared by another question.

    Returns ``(queries, expected, exclude)`` where ``exclude[i]`` lists the rows holding the
    same question text (hidden during its search). ``eval_answers`` restricts it to those answers
    (the fine-tune's held-out side of the split by answer).
    """
    from collections import defaultdict

    by_answer, by_question = defaultdict(set), defaultdict(list)
    for i, (q, a) in enumerate(zip(questions, answers)):
        by_answer[a].add(q)
        by_question[q].append(i)
    queries, expected, exclude = [], [], []
    for q in sorted(by_question):
        for a in sorted({answers[i] for i in by_question[q]}):
            if len(by_answer[a]) < 2 or (eval_answers is not None and a not in eval_answers):
                continue
            queries.append(q)
            expected.append(a)
            exclude.append(by_question[q])
    return queries, expected, exclude


def evaluate(index: ChatbotIndex, eval_sets: dict) -> dict[str, float]:
    """Top-1 / top-5 / MRR of ``index`` on named evaluation sets, as flat ``<set>_<metric>`` columns.

    ``eval_sets`` maps a name to ``(queries, expected)`` or ``(queries, expected, exclude)``
    (see :func:`answer_ranks`). Lesson 04 builds its method table from one row per index.
    """
    row = {}
    for name, (queries, expected, *exclude) in eval_sets.items():
        found = metrics(answer_ranks(index, queries, expected, exclude=exclude[0] if exclude else None))
        row.update({f"{name}_{k}": v for k, v in found.items() if k != "n"})
    return row


def latency_ms(index: ChatbotIndex, queries: list[str], repeats: int = 1) -> dict:
    """Per-query wall time (encode + search over all rows), in ms: p50 / p90."""
    times = []
    for _ in range(repeats):
        for q in queries:
            t = time.perf_counter()
            index.search(q, k=5)
            times.append((time.perf_counter() - t) * 1000)
    return {"ms_per_query_p50": round(float(np.percentile(times, 50)), 3),
            "ms_per_query_p90": round(float(np.percentile(times, 90)), 3)}


# --------------------------------------------------------------------------- command line
def _print_hit(hit: Hit) -> None:
    print(hit.answer)
    print(f"  (matched: {hit.question} | score {hit.score:.3f})")


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m helpers.chatbot",
        description="Retrieval chatbot over Chatbot_data, with the model in $BERT_MODEL. Default method: "
                    "'ensemble' for tiny-ko-bert (char TF-IDF + soft morpheme matching with kiwipiepy's "
                    "embeddings + the contrastively fine-tuned encoder), 'kiwi-hybrid' for other models.")
    parser.add_argument("--method", default=None, choices=METHODS,
                        help=f"default: {DEFAULT_METHOD} for tiny-ko-bert, {HUB_DEFAULT_METHOD} for other models")
    parser.add_argument("--model", default=None, help="hub id, local dir or tiny-ko-bert (default: $BERT_MODEL)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_ask = sub.add_parser("ask", help="answer one question")
    p_ask.add_argument("query")
    p_ask.add_argument("-k", type=int, default=1, help="show the top k answers")
    sub.add_parser("chat", help="terminal chat loop (empty line or Ctrl-D to quit)")
    p_eval = sub.add_parser("eval", help="evaluate on a TSV with columns query, expected_answer")
    p_eval.add_argument("file")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except (ChatbotError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    from .models import display_name
    from .setup import quiet_libraries, seed_everything

    quiet_libraries(True)
    seed_everything()
    if args.command == "eval":
        queries, expected = load_eval_tsv(args.file)  # validate before any heavy work
    if args.command == "ask":
        text, truncated = clean_query(args.query)
        if truncated:
            print(f"note: the query was longer than {MAX_QUERY_CHARS} characters and was truncated.",
                  file=sys.stderr)
    index = load_or_build_index(args.method, args.model)
    if args.command == "ask":
        for hit in index.search(text, k=max(1, args.k)):
            _print_hit(hit)
        return 0
    if args.command == "chat":
        print(f"chatbot ({display_name(index.model_name)}, {index.method}) - empty line or Ctrl-D to quit")
        while True:
            try:
                line = input("> ")
            except (EOFError, KeyboardInterrupt):
                print()
                return 0
            if not line.strip():
                return 0
            text, truncated = clean_query(line)
            if truncated:
                print(f"(truncated to {MAX_QUERY_CHARS} characters)")
            _print_hit(index.answer(text))
    build_s = index.build_seconds
    result = metrics(answer_ranks(index, queries, expected))
    result.update({"model": display_name(index.model_name), "method": index.method,
                   "index_build_s": round(build_s, 3), "index_from_cache": index.from_cache})
    result.update(latency_ms(index, queries[:50]))
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
