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
- ``kiwi-hybrid``: a weighted sum of ``tfidf`` and ``kiwi`` (no neural model at all);
- ``sbert``: the Sentence-BERT ``tiny-ko-sbert`` (:mod:`helpers.sbert`: tiny-ko-bert + mean pooling
  trained with sentence-transformers' losses; the chatbot's evaluation answers were held out of its
  training), searched with ``util.semantic_search``;
- ``ensemble`` (:data:`DEFAULT_METHOD`): a weighted sum of ``tfidf``, ``kiwi`` and ``sbert``.

The weights of the combined methods are in :data:`METHOD_WEIGHTS`, chosen on the leave-one-out
set by ``benchmarks/tune_weights.py`` (which also says whether combining beats ``sbert`` alone).
``sbert`` and ``ensemble`` use the shipped Sentence-BERT whatever ``$BERT_MODEL`` is; the raw
methods (``cls``, ``pooler``, ``mean``, ``embed``, ``hybrid``) use ``$BERT_MODEL``.

Cache: ``<cache>/chatbot/index-<method>-<key>/`` (:mod:`helpers.chatbot.store`, verified by
:mod:`helpers.cache`); a stale or corrupt cache is rebuilt.

One module per job: :mod:`~helpers.chatbot.inputs` (query checks), :mod:`~helpers.chatbot.encoders`
(BERT poolings, TF-IDF, embedding average), :mod:`~helpers.chatbot.kiwi` (morpheme matching),
:mod:`~helpers.chatbot.index` (scoring and top-k), :mod:`~helpers.chatbot.methods` (methods,
weights, building), :mod:`~helpers.chatbot.store` (the cache),
:mod:`~helpers.chatbot.evaluation`, :mod:`~helpers.chatbot.cli`. Every public name is re-exported here, with
the evaluation files and paraphrase sets (:mod:`helpers.data.paraphrases`) and the leave-one-out split
(:func:`helpers.splits.split_answers`), which live below the chatbot because tiny-ko-sbert holds them out too.

Command line: ``python -m helpers.chatbot ask "질문"``, ``... chat``, ``... eval FILE.tsv``.
Used by lesson 04 (``notebooks/04_bert_chatbot.ipynb``).
"""
from __future__ import annotations

from .cli import main
from .encoders import (MAX_TOKENS, POOLINGS, SINGLE_THREAD_QUERIES, TFIDF_NGRAMS, EmbeddingBag, SentenceEncoder,
                       TfidfEncoder, bert_encoder, bert_vectors, normalise)
from ..data.paraphrases import PARAPHRASE_SETS, load_eval_tsv, load_paraphrases, paraphrase_path
from ..splits import split_answers
from .evaluation import answer_ranks, evaluate, latency_ms, leave_one_out_set, metrics, ranks_from_scores
from .index import ChatbotIndex, Hit
from .inputs import MAX_QUERY_CHARS, ChatbotError, clean_query, corpus_checksum
from .kiwi import KiwiMatcher, kiwi_analyser
from .methods import (DEFAULT_METHOD, METHOD_WEIGHTS, METHODS, MODEL_FREE, SENTENCE_METHODS, build_index, check_method,
                      default_method, index_model, parameter_count, sentence_encoder)
from .store import INDEX_FORMAT, index_key, load_index, load_or_build_index, save_index

# private names that the benchmarks and tests reach for (memo tables they clear, the corpus loader)
from .kiwi import _KIWI_MEMO, _kiwi_similarity  # noqa: F401,E402
from .methods import _MODEL_MEMO, _RAW_MEMO, _SENTENCE_MEMO, _default_corpus, _model  # noqa: F401,E402

__all__ = [
    "ChatbotError", "ChatbotIndex", "DEFAULT_METHOD", "EmbeddingBag", "Hit", "INDEX_FORMAT", "KiwiMatcher",
    "MAX_QUERY_CHARS", "MAX_TOKENS", "METHODS", "METHOD_WEIGHTS", "MODEL_FREE", "PARAPHRASE_SETS", "POOLINGS",
    "SENTENCE_METHODS", "SINGLE_THREAD_QUERIES", "SentenceEncoder", "TFIDF_NGRAMS", "TfidfEncoder", "answer_ranks",
    "bert_encoder", "bert_vectors", "build_index", "check_method", "clean_query", "corpus_checksum",
    "default_method", "evaluate", "index_key", "index_model", "kiwi_analyser", "latency_ms", "leave_one_out_set",
    "load_eval_tsv", "load_index", "load_or_build_index", "load_paraphrases", "main", "metrics", "normalise",
    "paraphrase_path", "parameter_count", "ranks_from_scores", "save_index", "sentence_encoder", "split_answers",
]
