"""Building ``tiny-ko-sbert``: tiny-ko-bert + mean pooling, trained with sentence-transformers.

The recipe (:class:`SbertConfig`) in sentence-transformers' own terms:

- model: ``Transformer(<base folder>)`` + ``Pooling(mean)`` (never ``trust_remote_code``);
- losses: ``MultipleNegativesRankingLoss`` (the in-batch softmax over cosine x 20) on the three
  pair sets, ``CoSENTLoss`` on KorSTS train scores (see :mod:`helpers.sbert.data`);
- batches: one data set per batch, data sets drawn in proportion to their size
  (``MultiDatasetBatchSamplers.PROPORTIONAL``); within a pair set no two pairs of one paraphrase
  group share a batch (:class:`DistinctGroupBatchSampler`);
- evaluator: ``EmbeddingSimilarityEvaluator`` on KorSTS dev, before and after training; optionally
  every ``eval_steps`` steps, with the best step's weights kept (``keep_best``) and training stopped
  once dev stops improving (``patience``): KorSTS dev is the only set that selects anything
  (:mod:`helpers.sbert.selection`; the shipped recipe evaluates every 100 steps and keeps the best step);
- ``SentenceTransformerTrainer``, AdamW with linear warm-up/decay, fixed seed and thread count:
  the same command on the same base gives the same weights (on the same device and precision, which
  are :mod:`helpers.runtime`'s: the CPU in fp32 here).

Used by ``python -m helpers.sbert build`` (lessons 02 and 04 load the result).
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sentence_transformers import DefaultBatchSampler

from ..cache import write_checksums
from ..lesson import quiet_libraries, running_in_ci, seed_everything
from ..models import display_name, model_source, resolve_model_name
from .data import training_sets
from .selection import (check_recipe, korsts_dev_evaluator, selection_arguments, selection_callbacks,
                        selection_record, spearman100)

MNRL_SOURCES = ("parakqc", "question_pair", "chatbot")
SOURCES = MNRL_SOURCES + ("korsts",)  # CoSENTLoss on KorSTS train scores


@dataclass(frozen=True)
class SbertConfig:
    """The build recipe: the defaults are the shipped tiny-ko-sbert v2, chosen on KorSTS dev among the
    candidates of ``benchmarks/sbert_curve.py`` (``rounds16-lr4e-4``: 16 rounds at lr 4e-4, KorSTS dev
    every 100 steps, the best dev step's weights kept). ``max_steps`` (``None``: all ``rounds``) shortens
    it for tests; ``sources``, ``eval_steps``, ``keep_best`` and ``patience`` are the selection settings
    (:mod:`helpers.sbert.selection`)."""

    rounds: int = 16                # passes over every data set, new pairs drawn from each group each pass
    batch_size: int = 64            # 63 in-batch negatives per anchor
    learning_rate: float = 4e-4     # a 2-layer model takes a larger step than BERT-base's usual 2e-5
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_seq_length: int = 64
    scale: float = 20.0             # MultipleNegativesRankingLoss: cosine x 20 = temperature 0.05
    seed: int = 42
    threads: int = 1                # 1: the same bytes on any machine (and the rule on shared CPUs)
    max_steps: int | None = None
    sources: tuple[str, ...] = SOURCES  # which training sets (helpers.sbert.data.training_sets) are used
    eval_steps: int | None = 100    # KorSTS dev every n steps (the curve in training.json); None: before/after only
    keep_best: bool = True          # restore the step with the best KorSTS dev Spearman (needs eval_steps)
    patience: int | None = None     # stop after this many evaluations without a better dev Spearman

    def __post_init__(self):
        object.__setattr__(self, "sources", tuple(self.sources))  # a list (JSON, CLI) would not hash
        unknown = set(self.sources) - set(SOURCES)
        if not self.sources or unknown:
            raise ValueError(f"sources must be a non-empty subset of {SOURCES}; got {self.sources}.")
        check_recipe(self)

    @classmethod
    def fast(cls) -> "SbertConfig":
        """A seconds-long variant for tests."""
        return cls(rounds=1, batch_size=16, max_steps=8, eval_steps=None, keep_best=False)


# Where each recipe field goes: to the trainer arguments (TRAINING_ARGUMENTS: field -> argument) or
# elsewhere in the build (RECIPE_ELSEWHERE). tests/test_config_reach.py checks that every field is in
# exactly one of them and reaches its target in a real build, so a dropped argument fails.
TRAINING_ARGUMENTS = {"batch_size": "per_device_train_batch_size", "learning_rate": "learning_rate",
                      "warmup_ratio": "warmup_steps", "weight_decay": "weight_decay", "seed": "seed",
                      "max_steps": "max_steps", "eval_steps": "eval_steps", "keep_best": "load_best_model_at_end"}
RECIPE_ELSEWHERE = {"rounds": "training_sets", "sources": "training_sets", "max_seq_length": "new_sentence_model",
                    "scale": "MultipleNegativesRankingLoss", "threads": "seed_everything",
                    "patience": "EarlyStoppingCallback"}


def training_arguments(config: "SbertConfig", output_dir: str, device=None, precision: str | None = None):
    """``SentenceTransformerTrainingArguments`` for ``config`` (one epoch over the round-robin sets,
    linear warm-up and decay, no reports; evaluation and checkpoints only for the selection settings,
    :func:`helpers.sbert.selection.selection_arguments`). ``device`` and ``precision`` default to
    :mod:`helpers.runtime`'s choice (the Trainer's ``use_cpu`` / ``bf16`` / ``fp16``)."""
    from sentence_transformers import SentenceTransformerTrainingArguments

    from ..runtime import choose_device, choose_precision, trainer_device_kwargs, trainer_precision_kwargs

    device = choose_device(device)
    precision = choose_precision(device, precision)

    return SentenceTransformerTrainingArguments(
        output_dir=output_dir, num_train_epochs=1, max_steps=config.max_steps or -1,
        per_device_train_batch_size=config.batch_size, learning_rate=config.learning_rate,
        warmup_steps=config.warmup_ratio,  # a float below 1: a fraction of the steps (transformers v5)
        weight_decay=config.weight_decay, lr_scheduler_type="linear",
        seed=config.seed, data_seed=config.seed, batch_sampler=DistinctGroupBatchSampler,
        multi_dataset_batch_sampler="proportional", **selection_arguments(config),
        logging_steps=25, report_to="none", disable_tqdm=running_in_ci(), dataloader_num_workers=0,
        **trainer_device_kwargs(device), **trainer_precision_kwargs(precision))


def distinct_groups(labels, order, batch_size: int, drop_last: bool):
    """Cut ``order`` (shuffled indices) into batches in which no two rows share a label.

    Greedy: a row whose label is already in the batch waits for the next batch. Rows still
    waiting at the end form the last batches (a label repeats only if nothing else is left).
    """
    batches, current, seen, waiting = [], [], set(), []
    for idx in order:
        queue, waiting = waiting + [idx], []
        for i in queue:
            if labels[i] in seen:
                waiting.append(i)
                continue
            current.append(i)
            seen.add(labels[i])
            if len(current) == batch_size:
                batches.append(current)
                current, seen = [], set()
    rest = current + waiting
    for start in range(0, len(rest), batch_size):
        chunk = rest[start:start + batch_size]
        if len(chunk) == batch_size or not drop_last:
            batches.append(chunk)
    return batches


class DistinctGroupBatchSampler(DefaultBatchSampler):
    """Shuffled batches (seed + epoch) in which no two rows share a ``label`` (paraphrase group id).

    For ``MultipleNegativesRankingLoss``: two pairs of the same group in one batch would count a
    paraphrase as a negative. A data set without a ``label`` column (KorSTS: ``score``) is shuffled
    and cut as usual.
    """

    def __init__(self, dataset, *args, **kwargs):
        super().__init__(dataset, *args, **kwargs)
        self.dataset = dataset
        self.labels = dataset["label"] if "label" in dataset.column_names else None

    def __iter__(self):
        import torch

        generator = torch.Generator()
        generator.manual_seed(int(self.seed or 0) + int(self.epoch))
        order = torch.randperm(len(self.dataset), generator=generator).tolist()
        if self.labels is not None:
            batches = distinct_groups(self.labels, order, self.batch_size, self.drop_last)
        else:
            batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
            if self.drop_last and batches and len(batches[-1]) < self.batch_size:
                batches.pop()
        yield from batches[:len(self)]


def new_sentence_model(base: str, max_seq_length: int = 64):
    """``SentenceTransformer`` = ``Transformer(base)`` + mean ``Pooling``, on :mod:`helpers.runtime`'s device
    (lesson 02 shows it)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    from ..runtime import choose_device

    transformer = Transformer(base, max_seq_length=max_seq_length)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    return SentenceTransformer(modules=[transformer, pooling], device=str(choose_device()))


def build_sentence_model(out: str | os.PathLike, base: str | None = None, config: SbertConfig | None = None,
                         log=print) -> Path:
    """Train ``tiny-ko-sbert`` from ``base`` (default: the shipped tiny-ko-bert) and save it to ``out``.

    ``out`` receives the saved SentenceTransformer folder, ``training.json`` (data counts, recipe,
    losses, KorSTS-dev Spearman before/after, wall time; with ``eval_steps`` the dev curve, and with
    ``keep_best`` the step kept) and ``checksums.sha256``; a model card
    (``README.md``) already in ``out`` is kept (``benchmarks/sbert_bench.py --card`` writes it).
    The folder is replaced only when the build succeeded.
    """
    import torch
    from datasets import DatasetDict
    from sentence_transformers import SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.losses import CoSENTLoss, MultipleNegativesRankingLoss
    from transformers import PrinterCallback, TrainerCallback

    config = config or SbertConfig()
    out = Path(out)
    quiet_libraries()
    seed_everything(seed=config.seed, threads=config.threads)
    base_name = resolve_model_name(base)
    source = model_source(base_name)  # a bad base fails here, before any data is read
    start, cpu_start = time.perf_counter(), time.process_time()
    log(f"[sbert] base model {display_name(base_name)}; reading the training sets")
    sets, summary = training_sets(rounds=config.rounds, seed=config.seed, sources=config.sources)
    for name, ds in sets.items():
        log(f"[sbert]   {name}: {len(ds):,} rows")
    model = new_sentence_model(source, config.max_seq_length)
    losses = {name: MultipleNegativesRankingLoss(model, scale=config.scale) if name in MNRL_SOURCES
              else CoSENTLoss(model) for name in sets}
    evaluator = korsts_dev_evaluator()
    before = spearman100(evaluator(model))
    log(f"[sbert] KorSTS dev Spearman before training: {before}")

    history: list[dict] = []

    class Record(TrainerCallback):
        """Keep the logged training loss (for training.json and the model card) instead of printing it."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                history.append({"step": state.global_step, "loss": round(float(logs["loss"]), 4)})
                if state.global_step % 250 == 0:
                    log(f"[sbert] step {state.global_step}/{state.max_steps}: loss {history[-1]['loss']}")

    class Trainer(SentenceTransformerTrainer):
        def add_model_card_callback(self, default_args_dict):
            """No auto-generated card: ``benchmarks/sbert_bench.py --card`` writes it from measurements."""

    with tempfile.TemporaryDirectory(prefix="sbert-trainer-") as scratch:
        args = training_arguments(config, scratch)
        curve, selecting = selection_callbacks(config, log)
        trainer = Trainer(model=model, args=args, train_dataset=DatasetDict(sets), loss=losses,
                          callbacks=[Record(), *selecting], **({"evaluator": evaluator} if curve else {}))
        trainer.remove_callback(PrinterCallback)  # the loss goes to training.json and the log, not stdout
        trainer.train()  # with keep_best, ends by loading the best checkpoint (weights only) from scratch
        steps = trainer.state.global_step
    train_seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    model.eval()
    after = spearman100(evaluator(model))
    log(f"[sbert] {steps} steps in {train_seconds:.0f} s ({cpu_seconds:.0f} s CPU); KorSTS dev Spearman after training: {after}")

    info = {"base_model": display_name(base_name), "recipe": dataclasses.asdict(config), "steps": steps,
            "losses": {n: type(loss).__name__ for n, loss in losses.items()}, "data": summary,
            "korsts_dev_spearman_before": before, "korsts_dev_spearman_after": after,
            "train_seconds": round(train_seconds, 1), "train_cpu_seconds": round(cpu_seconds, 1),
            "seconds_per_step_cpu": round(cpu_seconds / max(steps, 1), 3), "torch_threads": torch.get_num_threads(),
            "loss_history": history, **selection_record(config, trainer, curve, before, after)}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        model.save(str(tmp), create_model_card=False)
        (tmp / "training.json").write_text(json.dumps(info, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        card = out / "README.md"
        if card.is_file():
            shutil.copy2(card, tmp / "README.md")
        write_checksums(tmp)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"[sbert] saved {out}")
    return out
