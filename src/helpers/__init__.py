"""helpers: the small library behind the Korean BERT teaching notebooks.

One module per concern; each docstring says which lessons use it.

- :mod:`helpers.lesson`     :func:`setup`, the call that opens every notebook (``helpers.setup("01")``)
- :mod:`helpers.data`       the data sets (Chatbot_data, NSMC, KorSTS, ...): registry, download, checksum, cache, parsing
- :mod:`helpers.models`     one name -> (tokenizer, model): hub id, local dir, or tiny-ko-bert
- :mod:`helpers.splits`     every held-out and split rule (by seeded hash): which texts, movies and answers no training sees
- :mod:`helpers.reference`  the shipped tiny-ko-bert (models/tiny-ko-bert): checksums, loading check
- :mod:`helpers.mlm_accuracy` held-out masked-token accuracy (tiny-ko-bert's model card, lesson 01)
- :mod:`helpers.pretrain`   how tiny-ko-bert is built: corpus, WordPiece, MLM + pair pretraining (resumable)
- :mod:`helpers.wordpiece`  training a Korean WordPiece and wrapping it as a BERT tokenizer
- :mod:`helpers.mlm`        lesson 01: masking, fill-mask, a live mini pretraining run
- :mod:`helpers.similarity` lesson 02: sentence vectors (pooler / [CLS] / mean), centering, whitening
- :mod:`helpers.tokens`     lesson 03: added tokens, special tokens, embedding resizing
- :mod:`helpers.plots`      lessons 01-02: Hangul-labelled plots (heatmap, top-k bars, loss curve)
- :mod:`helpers.chatbot`    lesson 04: the retrieval chatbot (index, cache, evaluation, CLI)
- :mod:`helpers.classify`   lesson 05: fine-tuning a [CLS] classifier and baselines
- :mod:`helpers.qa`         lesson 08: machine reading comprehension on KorQuAD (ask, eval, train)
- :mod:`helpers.tokenization` lesson 09: Korean tokenization strategies compared
- :mod:`helpers.inside`     lesson 10: inside BERT (embeddings by hand, attention shares, per-layer [MASK] readings)
"""
from __future__ import annotations

from .data import DataError, describe_quirks, load_chatbot_data
from .lesson import __version__, setup
from .models import ModelNotAvailableError, display_name, load_model, load_tokenizer, resolve_model_name

__all__ = [
    "DataError",
    "ModelNotAvailableError",
    "__version__",
    "describe_quirks",
    "display_name",
    "load_chatbot_data",
    "load_model",
    "load_tokenizer",
    "resolve_model_name",
    "setup",
]
