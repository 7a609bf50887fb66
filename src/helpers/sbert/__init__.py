"""``tiny-ko-sbert``: a Korean Sentence-BERT built with sentence-transformers (lessons 02 and 04).

tiny-ko-bert with mean pooling, fine-tuned so that the cosine of two sentence vectors means
"same meaning": MultipleNegativesRankingLoss on paraphrase pairs (ParaKQC, Question_pair,
Chatbot_data questions that share an answer) and CoSENTLoss on KorSTS scores. The result ships
in ``models/tiny-ko-sbert`` (a saved SentenceTransformer folder, checksums, model card).

- :func:`load_sentence_model` — the public entry point: ``tiny-ko-sbert``, a saved folder or a hub id;
- :mod:`helpers.sbert.data` — the training sets and what is held out of them;
- :mod:`helpers.sbert.train` — the recipe (:class:`~helpers.sbert.train.SbertConfig`) and the build;
- :mod:`helpers.sbert.selection` — KorSTS dev during the build: the dev curve, keep-best, patience;
- ``python -m helpers.sbert build --out models/tiny-ko-sbert [--base DIR]`` — rebuild it.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..lesson import quiet_libraries
from ..models import REFERENCE_NAME, SENTENCE_MODEL, ModelNotAvailableError, model_source, sentence_model_source

__all__ = ["SENTENCE_MODEL", "load_sentence_model"]


def load_sentence_model(name: str = SENTENCE_MODEL):
    """Return a ``SentenceTransformer`` on :mod:`helpers.runtime`'s device, in eval mode.

    ``name``: ``"tiny-ko-sbert"`` (the shipped model, checked against its checksums first), the
    path of a folder saved by ``SentenceTransformer.save`` (e.g. by ``python -m helpers.sbert build``),
    or a hub id (needs the hub or its local cache). A plain BERT checkpoint (``tiny-ko-bert``, or a
    folder with ``config.json`` but no ``modules.json``) is wrapped with mean pooling, untrained for
    similarity: the baseline the Sentence-BERT is compared with. Remote code is never trusted.
    """
    from sentence_transformers import SentenceTransformer

    from ..runtime import choose_device

    quiet_libraries()
    folder = Path(name).expanduser()
    if name == REFERENCE_NAME or ((folder / "config.json").is_file() and not (folder / "modules.json").is_file()):
        from .train import new_sentence_model

        model = new_sentence_model(model_source(name))
        model.eval()
        return model
    source = sentence_model_source(name)
    try:
        model = SentenceTransformer(source, device=str(choose_device()), trust_remote_code=False,
                                    local_files_only=os.path.isdir(source) or os.environ.get("HF_HUB_OFFLINE") == "1")
    except (OSError, ValueError) as exc:
        raise ModelNotAvailableError(
            f"Could not load the Sentence-BERT {name!r}: {exc}. Fix: use the shipped 'tiny-ko-sbert' (restore "
            "models/tiny-ko-sbert from git) or a folder written by `python -m helpers.sbert build --out DIR`.") from exc
    model.eval()
    return model
