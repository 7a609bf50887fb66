"""Which methods exist, their weights and defaults, and building an index for one (lesson 04)."""
from __future__ import annotations

import time

from ..data import load_chatbot_data
from ..models import SENTENCE_MODEL, load_model, resolve_model_name
from ..sbert import load_sentence_model
from .encoders import POOLINGS, EmbeddingBag, SentenceEncoder, TfidfEncoder, bert_encoder, bert_vectors
from .index import ChatbotIndex
from .inputs import ChatbotError, corpus_checksum
from .kiwi import KiwiMatcher

METHODS = ("cls", "pooler", "mean", "tfidf", "embed", "hybrid", "kiwi", "kiwi-hybrid", "sbert", "ensemble")
DEFAULT_METHOD = "ensemble"  # chosen on leave-one-out by benchmarks/tune_weights.py (see default_method)
# weights of the score components (``tfidf``, ``kiwi``, ``dense``) of the combined methods: the best
# leave-one-out MRR on a 0.05 grid, found by benchmarks/tune_weights.py (never tuned on the paraphrases)
METHOD_WEIGHTS = {
    "hybrid": {"tfidf": 0.85, "dense": 0.15},
    "kiwi-hybrid": {"tfidf": 0.55, "kiwi": 0.45},
    "ensemble": {"tfidf": 0.45, "kiwi": 0.25, "dense": 0.3},
}
MODEL_FREE = ("tfidf", "kiwi", "kiwi-hybrid")  # methods that use no neural model
SENTENCE_METHODS = ("sbert", "ensemble")       # methods that use the Sentence-BERT (tiny-ko-sbert), not BERT_MODEL


def _default_corpus():
    df = load_chatbot_data()
    return list(df["question"]), list(df["answer"])


_MODEL_MEMO: dict = {}  # model name -> (tokenizer, model): load once per process
_RAW_MEMO: dict = {}    # (model, corpus checksum) -> {pooling: vectors}
_SENTENCE_MEMO: dict = {}  # sentence model name -> SentenceEncoder


def _model(model_name: str):
    if model_name not in _MODEL_MEMO:
        _MODEL_MEMO.clear()
        _MODEL_MEMO[model_name] = load_model(model_name)
    return _MODEL_MEMO[model_name]


def sentence_encoder(name: str | None = None) -> SentenceEncoder:
    """The Sentence-BERT (default ``tiny-ko-sbert``) as an encoder, loaded once per process."""
    name = name or SENTENCE_MODEL
    if name not in _SENTENCE_MEMO:
        _SENTENCE_MEMO.clear()
        _SENTENCE_MEMO[name] = SentenceEncoder(load_sentence_model(name))
    return _SENTENCE_MEMO[name]


def index_model(method: str, model_name: str | None = None) -> str | None:
    """The model whose weights ``method`` uses: none (``tfidf``, ``kiwi`` ...), the Sentence-BERT
    (``sbert``, ``ensemble``) or ``model_name`` / ``$BERT_MODEL`` (the raw BERT methods)."""
    if method in MODEL_FREE:
        return None
    if method in SENTENCE_METHODS:
        return SENTENCE_MODEL
    return resolve_model_name(model_name)


def build_index(method: str | None = None, model_name: str | None = None, questions=None, answers=None,
                weights: dict | None = None, idf=None, log=None) -> ChatbotIndex:
    """Encode the corpus once (no cache involved) and return a :class:`ChatbotIndex`.

    ``method`` defaults to :func:`default_method`. ``model_name`` (default ``$BERT_MODEL``) is the
    BERT of the raw methods; ``sbert`` and ``ensemble`` use the shipped Sentence-BERT
    (:func:`index_model`). ``questions``/``answers`` default to all of Chatbot_data; ``weights``
    (combined methods) to :data:`METHOD_WEIGHTS`. ``idf`` (``embed``/``hybrid``) reuses saved
    word-piece IDF weights instead of counting them again.
    """
    method = check_method(method or default_method(model_name))
    model_name = index_model(method, model_name) or resolve_model_name(model_name)
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
        encoder, dense = bert_encoder(tokenizer, model, method), _RAW_MEMO[memo_key][method]
    elif method in ("embed", "hybrid"):
        encoder = EmbeddingBag.from_model(*_model(model_name), idf=idf)
        if idf is None:
            encoder.fit_idf(list(questions))
        dense = encoder(list(questions))
    elif method in SENTENCE_METHODS:
        encoder = sentence_encoder(model_name)
        dense = encoder(list(questions))
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
    """The method the chatbot answers with: :data:`DEFAULT_METHOD` for every model.

    It was chosen on the leave-one-out set (``benchmarks/tune_weights.py``); it uses the shipped
    Sentence-BERT, whatever ``$BERT_MODEL`` is (``model_name`` is accepted for compatibility).
    """
    return DEFAULT_METHOD


def parameter_count(model) -> int:
    """Number of parameters of a torch model (lesson 04 prints it with the model's size)."""
    return int(sum(p.numel() for p in model.parameters()))
