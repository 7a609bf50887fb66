"""The on-disk index cache (lesson 04): key, save, load, verify, rebuild.

``<cache>/chatbot/index-<method>-<key>/`` holds ``meta.json``, ``dense.npy`` (+ ``idf.npy``),
``tfidf.npz`` + ``tfidf_vocab.json`` + ``tfidf_idf.npy``, ``kiwi_*.npy`` (no pickle) and the
``manifest.json`` that :mod:`helpers.cache` writes and checks. The key hashes the model's
identity, the method, its weights, the data checksum and the code version; a stale or corrupt
folder is rebuilt, never used.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .. import cache
from ..models import model_identity, resolve_model_name, sentence_model_source
from . import encoders, methods
from . import kiwi as kiwi_module
from .encoders import POOLINGS, TFIDF_NGRAMS, EmbeddingBag, TfidfEncoder, bert_encoder
from .index import ChatbotIndex
from .inputs import ChatbotError, corpus_checksum
from .kiwi import KiwiMatcher
from .methods import (METHOD_WEIGHTS, SENTENCE_METHODS, _default_corpus, _model, build_index, check_method,
                      default_method, index_model, sentence_encoder)

INDEX_FORMAT = 2  # 2: the Sentence-BERT methods replaced the contrastive fine-tune


def index_key(model_name: str, method: str, data_checksum: str) -> str:
    """Cache key: identity of the model the method uses (:func:`~helpers.chatbot.methods.index_model`:
    name + checksum of a local folder), method, weights, data checksum, the format version and a
    digest of the source of the modules that build the index (encoders, kiwi, methods).

    ``tfidf`` and the ``kiwi`` methods use no model (the kiwipiepy version is in instead); ``sbert``
    and ``ensemble`` use the Sentence-BERT whatever ``model_name`` is.
    """
    used = index_model(method, model_name)
    if used is None:
        identity = None
    elif method in SENTENCE_METHODS:
        identity = model_identity(used, sentence_model_source(used))
    else:
        identity = model_identity(used)
    kiwi_version = None
    if method.startswith("kiwi"):
        import kiwipiepy

        kiwi_version = kiwipiepy.__version__
    payload = {"format": INDEX_FORMAT, "code": cache.code_digest(encoders, kiwi_module, methods), "model": identity, "method": method, "data": data_checksum,
               "weights": METHOD_WEIGHTS.get(method), "ngrams": list(TFIDF_NGRAMS),
               "kiwi": kiwi_version, "kiwi_tags": list(KiwiMatcher.CONTENT_TAGS) if kiwi_version else None}
    return cache.key_of(payload)


def save_index(index: ChatbotIndex, directory: Path, key: str) -> None:
    """Write the index files into ``directory`` (:func:`helpers.cache.publish` adds the manifest)."""
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
        if meta["method"] in SENTENCE_METHODS:
            encoder = sentence_encoder(meta["model"])
        elif meta["method"] in POOLINGS:
            encoder = bert_encoder(*_model(meta["model"]), meta["method"])
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
    start = time.perf_counter()
    method = check_method(method or default_method(model_name))
    model_name = index_model(method, model_name) or resolve_model_name(model_name)
    questions, answers = _default_corpus()
    key = index_key(model_name, method, corpus_checksum(questions, answers))
    base = Path(root) if root is not None else cache.cache_root("chatbot")
    base.mkdir(parents=True, exist_ok=True)
    target = base / f"index-{method}-{key}"
    if target.exists():
        if cache.is_verified(target, key):
            try:
                index = load_index(target, questions, answers)
                index.build_seconds = time.perf_counter() - start
                return index
            except (ChatbotError, OSError, ValueError, KeyError):
                pass
        if log:
            log("[chatbot] cached index failed verification; rebuilding")
        cache.discard(target)
    index = build_index(method, model_name, questions, answers, log=log)
    cache.publish(target, key, lambda out: save_index(index, out, key))
    index.build_seconds = time.perf_counter() - start
    return index

