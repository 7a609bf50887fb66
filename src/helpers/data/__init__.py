"""The data sets every lesson reads: one registry, one way to find, verify and parse each.

- :mod:`helpers.data.registry` — what each data set is (upstream repository, pinned commit,
  paths, license, checksum, parser, quirks) and where a copy is found: an explicit path,
  ``$CHATBOT_DATA`` (the chatbot file only) or ``$KO_BERT_DATA`` (a folder laid out like the
  project's ``shared/data``), the user cache, a verified download from the pinned upstream commit;
- :mod:`helpers.data.fetch` — sha256 and git tree hashes, verified downloads (nothing is kept
  unless it verifies);
- :mod:`helpers.data.chatbot` — songys/Chatbot_data (lessons 01–06);
- :mod:`helpers.data.corpora` — NSMC raw crawl, KorSTS, Question_pair, ParaKQC, KLUE-NER dev
  (the tiny-ko-bert pretraining corpus and the application lessons);
- :mod:`helpers.data.korquad` — KorQuAD 1.0 dev (lesson 08, machine reading comprehension);
- :mod:`helpers.data.paraphrases` — the chatbot's evaluation files: the query / expected-answer TSV
  and the two paraphrase sets shipped in this folder (lesson 04, tiny-ko-sbert's held-out texts).
"""
from __future__ import annotations

from .chatbot import (
    DATA_FILENAME,
    DATA_SHA256,
    DATA_URL,
    LABEL_NAMES,
    describe_quirks,
    download_chatbot_data,
    load_chatbot_data,
    parse_chatbot_csv,
    resolve_data_path,
)
from .corpora import load_klue_ner, load_korsts, load_nsmc_raw, load_parakqc, load_question_pair
from .fetch import DataError, git_tree_hash, sha256_file
from .korquad import load_korquad
from .paraphrases import PARAPHRASE_SETS, load_eval_tsv, load_paraphrases, paraphrase_path
from .registry import DATASETS, DatasetSpec, Located, dataset_path, load_dataset, locate, verify_dataset

__all__ = [
    "DATASETS", "DATA_FILENAME", "DATA_SHA256", "DATA_URL", "LABEL_NAMES", "DataError", "DatasetSpec", "Located",
    "dataset_path", "describe_quirks", "download_chatbot_data", "git_tree_hash", "load_chatbot_data",
    "load_dataset", "load_klue_ner", "load_korquad", "load_korsts", "load_nsmc_raw", "load_parakqc", "load_question_pair",
    "locate", "parse_chatbot_csv", "resolve_data_path", "sha256_file", "verify_dataset",
    "PARAPHRASE_SETS", "load_eval_tsv", "load_paraphrases", "paraphrase_path",
]
