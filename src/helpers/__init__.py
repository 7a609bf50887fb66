"""helpers: the small library behind the Korean BERT teaching notebooks.

One module per concern; each docstring says which lessons use it.

- :mod:`helpers.setup`      the call that opens every notebook
- :mod:`helpers.data`       Chatbot_data: download, checksum, cache, validation
- :mod:`helpers.models`     one name -> (tokenizer, model): hub id, local dir, or tiny-ko-bert
- :mod:`helpers.reference`  builds tiny-ko-bert, the offline reference model
"""
from __future__ import annotations

__version__ = "0.1.0"

from .data import DataError, describe_quirks, load_chatbot_data
from .models import ModelNotAvailableError, display_name, load_model, load_tokenizer, resolve_model_name
from .setup import setup

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
