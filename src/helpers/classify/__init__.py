"""Sentence classification: the fine-tuning loop and baselines, NSMC sentiment, and a command line.

One module per job, every public name importable from ``helpers.classify`` directly:

- :mod:`helpers.classify.train`     the plain fine-tuning loop and logits (lessons 05, 06);
- :mod:`helpers.classify.baselines` the majority label and TF-IDF + logistic regression (lessons 05, 06, 09);
- :mod:`helpers.classify.metrics`   accuracy / macro-F1, misclassified examples, loss and confusion plots (lessons 05, 09);
- :mod:`helpers.classify.budget`    parameter counts and how much a model trains on this hardware (lessons 05-07);
- :mod:`helpers.classify.sentiment` NSMC sentiment from the raw crawl, split by movie; learning curve;
  where TF-IDF and BERT disagree (lesson 05);
- :mod:`helpers.classify.selection` each model's learning rate chosen on validation, under one budget (lesson 05);
- :mod:`helpers.classify.model`     train / save / load the fine-tuned sentiment model (default location in the cache);
- :mod:`helpers.classify.cli`       ``python -m helpers.classify train|eval``.

The chatbot-label split (:func:`split_questions`, :func:`question_table`; lesson 09) is one of
the rules of :mod:`helpers.splits`, handed on here (``helpers.tokenization`` and lesson 09 use
``classify.split_questions`` and ``classify.tfidf_logreg``).
"""
from __future__ import annotations

from ..splits import question_table, split_questions
from . import selection, sentiment
from .baselines import majority_baseline, tfidf_logreg
from .budget import (LARGE_MODEL_MAX_LR, LARGE_MODEL_PARAMETERS, REFERENCE_COMPUTE, TrainingPlan, compute_per_token,
                     head_summary, lesson_plan, scale_sizes, stratified_subset, training_plan)
from .metrics import SHORT_LABELS, errors_table, plot_confusion, plot_history, scores
from .train import SEED, TrainResult, encode, fine_tune, predict_logits

__all__ = [
    "LARGE_MODEL_MAX_LR", "LARGE_MODEL_PARAMETERS", "REFERENCE_COMPUTE", "SEED", "SHORT_LABELS", "TrainResult",
    "TrainingPlan", "compute_per_token", "encode", "errors_table", "fine_tune", "head_summary", "lesson_plan",
    "majority_baseline", "plot_confusion", "plot_history", "predict_logits", "question_table", "scale_sizes", "scores", "selection", "sentiment", "split_questions",
    "stratified_subset", "tfidf_logreg", "training_plan",
]
