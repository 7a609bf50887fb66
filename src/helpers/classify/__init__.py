"""Sentence classification: the fine-tuning loop and baselines, NSMC sentiment, and a command line.

- :mod:`helpers.classify.core`      the plain fine-tuning loop, logits, baselines (majority, TF-IDF + LR),
  metrics, plots, and the chatbot-label split (lessons 05, 06, 08);
- :mod:`helpers.classify.sentiment` NSMC sentiment from the raw crawl, split by movie; learning curve;
  where TF-IDF and BERT disagree (lesson 05);
- :mod:`helpers.classify.model`     train / save / load the fine-tuned sentiment model (default location in the cache);
- :mod:`helpers.classify.cli`       ``python -m helpers.classify train|eval``.

Everything in :mod:`~helpers.classify.core` is importable from ``helpers.classify`` directly (lesson 08 and
``helpers.tokenization`` use ``classify.split_questions`` and ``classify.tfidf_logreg``).
"""
from __future__ import annotations

from . import sentiment
from .core import (
    LARGE_MODEL_EXAMPLES,
    LARGE_MODEL_MAX_LR,
    MAX_FULL_FINETUNE_PARAMETERS,
    REFERENCE_COMPUTE,
    SEED,
    SHORT_LABELS,
    TrainingPlan,
    TrainResult,
    compute_per_token,
    encode,
    errors_table,
    fine_tune,
    head_summary,
    majority_baseline,
    plot_confusion,
    plot_history,
    predict_logits,
    question_table,
    scale_sizes,
    scores,
    split_questions,
    stratified_subset,
    tfidf_logreg,
    training_plan,
)

__all__ = [
    "LARGE_MODEL_EXAMPLES", "LARGE_MODEL_MAX_LR", "MAX_FULL_FINETUNE_PARAMETERS", "REFERENCE_COMPUTE", "SEED", "SHORT_LABELS",
    "TrainResult", "TrainingPlan", "compute_per_token", "encode", "errors_table", "fine_tune", "head_summary", "majority_baseline",
    "plot_confusion", "plot_history", "predict_logits", "question_table", "scale_sizes", "scores", "sentiment", "split_questions",
    "stratified_subset", "tfidf_logreg", "training_plan",
]
