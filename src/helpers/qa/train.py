"""Fine-tuning ``AutoModelForQuestionAnswering`` with transformers' ``Trainer``, and answering questions (lesson 08).

- :class:`QAConfig`: the recipe (model, how many training questions, windows, epochs, learning rate ...);
  :func:`training_arguments` turns it into ``TrainingArguments`` (no checkpoints, no progress bars, no
  reports; the device, threads and precision come from :mod:`helpers.runtime`);
- :func:`training_windows`: the windows a model trains on. A long paragraph gives several windows and
  only one or two hold the answer; the others are labelled "[CLS]" (not in this window). Keeping every such
  window spends most of the budget on them, so ``negatives`` of them are kept per question (chosen by a
  seeded hash), enough for the model to learn that [CLS] means "elsewhere", which decoding relies on;
- :func:`train_qa`: the ``Trainer`` run (the loss is the mean of the start and end cross-entropies);
- :func:`predict_logits` / :func:`answer`: start/end logits for every window, then the best span per
  question (:func:`helpers.qa.decode`).

Used by lesson 08, ``python -m helpers.qa train`` and ``benchmarks/qa_bench.py``.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..splits import text_key
from .decode import MAX_ANSWER_LEN, decode
from .features import answer_in_window, make_features, model_inputs

SEED = 42


@dataclass(frozen=True)
class QAConfig:
    """The fine-tuning recipe (saved in a trained model's ``meta.json``)."""

    base_model: str | None = None  # None: $BERT_MODEL, else tiny-ko-bert
    train_questions: int | None = 1500  # questions of the training articles (None: all)
    negatives: int | None = 1  # windows without the answer kept per question (None: all of them)
    epochs: int = 2
    lr: float = 3e-4  # tiny-ko-bert; base-size models usually take 3e-5 ~ 5e-5
    batch_size: int = 32
    max_length: int = 128  # word pieces per window
    stride: int = 32  # overlap of consecutive windows (word pieces)
    max_answer_len: int = MAX_ANSWER_LEN
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    seed: int = SEED
    test_percent: int = 20  # share of the articles held out (helpers.splits.korquad_test_article)
    threads: int | None = 1  # torch threads while training (1 is fastest for this model size on 2 shared cores)

    @classmethod
    def quick(cls, **overrides) -> "QAConfig":
        """A minute-long run on the same code path (``train --quick``, tests)."""
        return replace(cls(train_questions=300, epochs=1), **overrides)


WINDOWS_PER_TEST_QUESTION = 5  # KorQuAD paragraphs in 128-piece windows with a 32-piece overlap (measured: ~4.8)


def plan_run(model, config: QAConfig, test_questions: int, device=None):
    """``(plan, config, test_questions)`` for this model on this machine (:func:`helpers.runtime.plan_for`):
    the lesson's budget counts *windows* (what the model reads): about ``1 + negatives`` per training
    question and :data:`WINDOWS_PER_TEST_QUESTION` per test question. A model that costs more per token than
    tiny-ko-bert gets fewer questions (or epochs) so the run stays near the lesson's time."""
    from ..runtime import Plan, plan_for

    per_train = 1.0 + (config.negatives if config.negatives is not None else 4)
    n_train = config.train_questions or 0
    base = Plan(train_size=int(n_train * per_train), epochs=config.epochs, batch_size=config.batch_size,
                max_length=config.max_length, eval_size=test_questions * WINDOWS_PER_TEST_QUESTION)
    plan = plan_for("korquad", model, device, base)
    questions = max(1, round(plan.train_size / per_train)) if n_train else None
    tests = max(1, round(plan.eval_size / WINDOWS_PER_TEST_QUESTION))
    return plan, replace(config, train_questions=questions, epochs=plan.epochs), min(test_questions, tests)


def warmup_steps(config: QAConfig, n_windows: int) -> int:
    """``warmup_ratio`` of all optimisation steps (at least 1)."""
    steps = -(-n_windows // config.batch_size) * config.epochs
    return max(1, int(config.warmup_ratio * steps))


def training_arguments(config: QAConfig, output_dir: str, n_windows: int, precision: str = "fp32"):
    """``TrainingArguments`` for :func:`train_qa`: AdamW with linear warm-up and decay, seeded shuffling,
    no checkpoints, no progress bars, no reports, a loss entry twice per epoch. ``precision`` (from
    :func:`helpers.runtime.choose_precision`) adds ``bf16``/``fp16`` when it is not fp32. The device is the
    runtime's (:func:`helpers.runtime.trainer_device_kwargs`: the CPU when it chose the CPU, so that
    ``KO_BERT_DEVICE=cpu`` leaves a GPU idle; a ``cuda:N`` the Trainer cannot honour is an error with the
    fix); memory is pinned only when there is a GPU to copy to."""
    from transformers import TrainingArguments

    import torch

    from ..runtime import trainer_device_kwargs, trainer_precision_kwargs

    per_epoch = -(-n_windows // config.batch_size)
    device = trainer_device_kwargs()  # (the Trainer also refuses bf16 on a CPU unless told it is one)
    return TrainingArguments(
        output_dir=output_dir, num_train_epochs=config.epochs, per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size, learning_rate=config.lr, weight_decay=config.weight_decay,
        warmup_steps=warmup_steps(config, n_windows), lr_scheduler_type="linear", max_grad_norm=1.0,
        logging_steps=max(1, per_epoch // 2), save_strategy="no", eval_strategy="no", report_to=[],
        disable_tqdm=True, seed=config.seed, data_seed=config.seed, dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(), **trainer_precision_kwargs(precision), **device)


def training_windows(tokenizer, df: pd.DataFrame, config: QAConfig) -> tuple[dict, list[int]]:
    """Windows of the questions in ``df`` with their labels, and the indices of those kept for training:
    every window that holds its answer, plus ``config.negatives`` of the others per question (the ones
    with the smallest seeded hash of ``"<id>:<window>"``; all of them when ``negatives`` is None)."""
    feats = make_features(tokenizer, df["question"], df["context"], df["answer_start"], df["answer"],
                          max_length=config.max_length, stride=config.stride)
    ids = list(df["id"])
    negatives: dict[int, list[tuple[str, int]]] = {}
    keep, seen = [], {}
    for i, ex in enumerate(feats["example"]):
        k = seen[ex] = seen.get(ex, -1) + 1
        if answer_in_window(feats, i):
            keep.append(i)
        else:
            negatives.setdefault(ex, []).append((text_key(config.seed, f"{ids[ex]}:{k}"), i))
    for ex, items in negatives.items():
        chosen = sorted(items) if config.negatives is None else sorted(items)[: config.negatives]
        keep.extend(i for _, i in chosen)
    return feats, sorted(keep)


def train_qa(model, tokenizer, train_df: pd.DataFrame, config: QAConfig = QAConfig(), *, precision: str | None = None
             ) -> tuple[pd.DataFrame, dict]:
    """Fine-tune ``model`` (an ``AutoModelForQuestionAnswering``, in place) on the questions of ``train_df``
    with ``transformers.Trainer``; return the loss log (``epoch``, ``step``, ``loss``) and counts
    (``questions``, ``windows``, ``answer_windows``, ``steps``). The model is left in eval mode."""
    from transformers import PrinterCallback, Trainer, default_data_collator

    from ..runtime import choose_precision, execution

    df = train_df if config.train_questions is None else train_df.iloc[: config.train_questions]
    if df.empty:
        raise ValueError("train_qa needs at least one training question.")
    feats, keep = training_windows(tokenizer, df, config)
    data = model_inputs(feats, keep)
    precision = precision or choose_precision()
    with tempfile.TemporaryDirectory() as tmp, execution(threads=config.threads, seed=config.seed):
        args = training_arguments(config, tmp, len(data), precision)
        trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=default_data_collator)
        trainer.remove_callback(PrinterCallback)  # with disable_tqdm it prints every log dict: the table is returned
        trainer.train()
        log = pd.DataFrame([r for r in trainer.state.log_history if "loss" in r])
        steps = trainer.state.global_step
    model.eval()
    counts = {"questions": len(df), "windows": len(data),
              "answer_windows": int(sum(answer_in_window(feats, i) for i in keep)), "steps": int(steps)}
    return (log[["epoch", "step", "loss"]].reset_index(drop=True) if len(log) else log), counts


def predict_logits(model, feats: dict, batch_size: int = 64, threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Start and end logits ``[windows, max_length]`` for every window of ``feats`` (eval mode, no gradient,
    on the model's device)."""
    import torch

    from ..runtime import model_device, threads as use_threads, to_device

    model.eval()
    rows = model_inputs(feats)
    starts, ends = [], []
    device = model_device(model)
    with use_threads(threads), torch.inference_mode():
        for b in range(0, len(rows), batch_size):
            chunk = rows[b:b + batch_size]
            batch = {k: torch.tensor([r[k] for r in chunk]) for k in chunk[0] if not k.endswith("_positions")}
            out = model(**to_device(batch, device))
            starts.append(out.start_logits.float().cpu().numpy())
            ends.append(out.end_logits.float().cpu().numpy())
    return np.concatenate(starts), np.concatenate(ends)


def answer(model, tokenizer, questions, contexts, *, max_length: int = 128, stride: int = 32,
           max_answer_len: int = MAX_ANSWER_LEN, batch_size: int = 64, threads: int | None = None) -> list[dict]:
    """The model's answer to each (question, context): ``{"answer", "start", "end", "score", "window"}``."""
    questions, contexts = list(questions), list(contexts)
    feats = make_features(tokenizer, questions, contexts, max_length=max_length, stride=stride)
    start, end = predict_logits(model, feats, batch_size, threads)
    return decode(feats, start, end, contexts, len(contexts), max_answer_len)


def predict_frame(model, tokenizer, df: pd.DataFrame, config: QAConfig = QAConfig(), **kwargs) -> dict:
    """``{id: answer text}`` for every question of a question table, with the config's window settings."""
    found = answer(model, tokenizer, df["question"], df["context"], max_length=config.max_length,
                   stride=config.stride, max_answer_len=config.max_answer_len, **kwargs)
    return {qid: f["answer"] for qid, f in zip(df["id"], found)}


def random_init_like(model, seed: int = SEED):
    """The same architecture and head with fresh random weights (the lesson's control: what pretraining adds)."""
    from ..classify.sentiment import random_init_like as fresh

    return fresh(model, seed)
