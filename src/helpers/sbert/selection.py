"""Watching and choosing a ``tiny-ko-sbert`` build on KorSTS dev (issue 22; the build of lessons 02 and 04).

KorSTS dev is the only set that chooses anything here. KorSTS test, Question_pair test and the
chatbot's sets are measured afterwards (``benchmarks/sbert_bench.py``, ``benchmarks/sbert_curve.py``)
and never select a step, a recipe or a checkpoint.

With ``eval_steps=None`` nothing here changes the build: KorSTS dev is evaluated before and after
training only. With ``eval_steps`` set (the shipped recipe: every 100 steps, best step kept), sentence-transformers' trainer
runs the same ``EmbeddingSimilarityEvaluator`` every ``eval_steps`` steps (its ``evaluator=`` with
``eval_strategy="steps"``) and :class:`DevCurve` keeps the curve for ``training.json``. ``keep_best``
uses the library's own selection (``load_best_model_at_end`` on checkpoints written to the build's
scratch folder): the weights of the step with the best dev Spearman are restored at the end (a tie
keeps the earlier step: the trainer replaces the best only on a strictly greater score).
``patience`` adds transformers' ``EarlyStoppingCallback``: training stops once dev has not improved
for that many evaluations in a row. Watching does not move the run: the random states are restored
after each evaluation, so the weights at every step are those of the build without ``eval_steps``.
"""
from __future__ import annotations

from transformers import TrainerCallback

from .data import korsts_dev

EVALUATOR_NAME = "korsts-dev"
DEV_METRIC = f"eval_{EVALUATOR_NAME}_spearman_cosine"  # what the trainer logs and selects on


def korsts_dev_evaluator():
    """``EmbeddingSimilarityEvaluator`` on KorSTS dev (cosine; Spearman is its main score)."""
    from sentence_transformers.sentence_transformer.evaluation import EmbeddingSimilarityEvaluator

    s1, s2, scores = korsts_dev()
    return EmbeddingSimilarityEvaluator(s1, s2, scores, main_similarity="cosine", name=EVALUATOR_NAME,
                                        batch_size=128, show_progress_bar=False)


def spearman100(result: dict) -> float:
    """The evaluator's cosine Spearman, ×100, rounded to 2 decimals (``training.json``'s unit)."""
    key = next(k for k in result if k.endswith("spearman_cosine"))
    return round(100 * float(result[key]), 2)


def check_recipe(config) -> None:
    """Refuse selection settings that cannot work (called by ``SbertConfig`` itself)."""
    if config.eval_steps is not None and config.eval_steps < 1:
        raise ValueError(f"eval_steps must be a positive number of steps or None; got {config.eval_steps}.")
    if config.eval_steps is None and (config.keep_best or config.patience):
        raise ValueError("keep_best and patience choose on KorSTS dev during training: set eval_steps too "
                         "(e.g. eval_steps=100).")
    if config.patience is not None and config.patience < 1:
        raise ValueError(f"patience must be at least 1 evaluation or None; got {config.patience}.")


def selection_arguments(config) -> dict:
    """The trainer arguments for evaluation and checkpoints (the defaults: none of either)."""
    if config.eval_steps is None:
        return {"eval_strategy": "no", "save_strategy": "no"}
    args = {"eval_strategy": "steps", "eval_steps": config.eval_steps, "metric_for_best_model": DEV_METRIC,
            "greater_is_better": True, "save_strategy": "no", "load_best_model_at_end": False}
    if config.keep_best:  # checkpoints (weights only) at every evaluation, in the build's scratch folder
        args.update(save_strategy="steps", save_steps=config.eval_steps, load_best_model_at_end=True,
                    save_total_limit=1, save_only_model=True)
    return args


def selection_callbacks(config, log=print):
    """``(curve, callbacks)``: a :class:`DevCurve` (``None`` without ``eval_steps``) and every callback
    the trainer needs for the recipe's selection settings."""
    if config.eval_steps is None:
        return None, []
    from transformers import EarlyStoppingCallback

    curve = DevCurve(log)
    callbacks = [curve]
    if config.patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.patience))
    return curve, callbacks


def _random_states():
    import random

    import numpy as np
    import torch

    return random.getstate(), np.random.get_state(), torch.get_rng_state()


def _restore_random_states(states) -> None:
    import random

    import numpy as np
    import torch

    random.setstate(states[0])
    np.random.set_state(states[1])
    torch.set_rng_state(states[2])


class DevCurve(TrainerCallback):
    """Keep ``(step, KorSTS dev Spearman ×100)`` at every evaluation of the trainer, and the evaluation time.

    Evaluating must not change the run it watches: the trainer's evaluation opens a data loader, which
    draws a seed from torch's global generator and so would shift every later dropout mask. The random
    states are saved before each evaluation and restored after it, so a build with ``eval_steps`` (and
    no ``keep_best``) ends with the same weights as the build without it.
    """

    def __init__(self, log=print):
        self.points: list[dict] = []
        self.eval_seconds = 0.0
        self.log = log
        self._states = None

    def on_step_end(self, args, state, control, **kwargs):
        if control.should_evaluate:  # set by the trainer's DefaultFlowCallback, which runs before this one
            self._states = _random_states()

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if self._states is not None:
            _restore_random_states(self._states)
            self._states = None
        if not metrics or DEV_METRIC not in metrics:
            return
        value = round(100 * float(metrics[DEV_METRIC]), 2)
        self.points.append({"step": state.global_step, "spearman": value})
        self.eval_seconds += float(metrics.get("eval_runtime", 0.0))
        self.log(f"[sbert] step {state.global_step}/{state.max_steps}: KorSTS dev Spearman {value}")


def selection_record(config, trainer, curve, before: float, after: float) -> dict:
    """What ``training.json`` adds for the selection settings: the dev curve (step 0 = the base, before
    training), the step kept and whether training stopped early. Raises if ``keep_best`` was asked
    for and the weights after training do not score the best dev Spearman of the curve (the library
    logs, rather than raises, when it cannot load the best checkpoint)."""
    if curve is None:
        return {}
    record = {"dev_curve": [{"step": 0, "spearman": before}] + curve.points,
              "eval_seconds": round(curve.eval_seconds, 1),
              "stopped_early": trainer.state.global_step < trainer.state.max_steps}
    if config.keep_best:
        best_step = trainer.state.best_global_step
        best = next((p["spearman"] for p in curve.points if p["step"] == best_step), None)
        if best is None or abs(after - best) > 0.05:
            raise RuntimeError(f"keep_best: the restored weights score {after} on KorSTS dev, but the best "
                               f"evaluation was {best} at step {best_step}; the best checkpoint was not restored.")
        record["best_step"] = best_step
    return record
