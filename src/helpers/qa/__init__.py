"""Machine reading comprehension on KorQuAD 1.0 (lesson 08): a question and a paragraph in, an answer span out.

- :mod:`helpers.qa.data`     SQuAD/KorQuAD files: validation with clear errors (:class:`QAError`), one row per
  question, the split by article (in memory: the data's licence is ND);
- :mod:`helpers.qa.features` question + context -> windows with offsets, a document stride, answer labels;
- :mod:`helpers.qa.decode`   start/end logits -> the best span over every window;
- :mod:`helpers.qa.metric`   KorQuAD's exact match and character-level F1 (and SQuAD's word F1 to compare);
- :mod:`helpers.qa.baseline` a lexical baseline (the sentence sharing most character bigrams with the question);
- :mod:`helpers.qa.train`    ``AutoModelForQuestionAnswering`` + ``transformers.Trainer``, predictions;
- :mod:`helpers.qa.store`    train on the training articles, save, load (``python -m helpers.qa train``);
- :mod:`helpers.qa.report`   results beside published figures, verdict sentences printed from the numbers;
- :mod:`helpers.qa.cli`      ``python -m helpers.qa ask|eval|train``.
"""
from __future__ import annotations

from . import report
from .baseline import lexical_answer, predict_lexical
from .data import (
    QAError,
    check_question,
    load_korquad_examples,
    parse_squad,
    read_squad,
    seeded_order,
    split_by_article,
    split_summary,
)
from .decode import MAX_ANSWER_LEN, decode, pipeline_decode, window_best
from .features import labelled_answers, make_features, model_inputs, window_length, window_table
from .metric import char_f1, compare_metrics, exact_match, normalize_answer, score, score_frame, word_f1
from .train import (
    QAConfig,
    answer,
    plan_run,
    predict_frame,
    predict_logits,
    random_init_like,
    train_qa,
    training_arguments,
)

__all__ = [
    "MAX_ANSWER_LEN", "QAConfig", "QAError", "answer", "char_f1", "check_question", "compare_metrics", "decode",
    "exact_match", "labelled_answers", "lexical_answer", "load_korquad_examples", "make_features", "model_inputs",
    "normalize_answer", "parse_squad", "pipeline_decode", "plan_run", "predict_frame", "predict_lexical",
    "predict_logits", "random_init_like", "read_squad", "report", "score", "score_frame", "seeded_order",
    "split_by_article", "split_summary", "train_qa", "training_arguments", "window_best", "window_length",
    "window_table", "word_f1",
]
