"""Every training-config field reaches what it configures (sbert, NER, fine-tuning, pretraining).

Each test builds the real trainer arguments / optimiser from a config whose fields all differ from
the defaults and compares them field by field, so an argument dropped on the way (a comment that
swallowed ``weight_decay=...`` once did) fails here.
"""
from __future__ import annotations

import dataclasses
import importlib
import json

import pandas as pd
import pytest
import torch

from helpers import ner
from helpers.classify import train as classify_train
from helpers.pretrain import config as pretrain_config
from helpers.sbert import train as sbert_train

pretrain_train = importlib.import_module("helpers.pretrain.train")  # the package exports a function train


def spy_on(monkeypatch, module, name: str) -> dict:
    """Wrap ``module.name`` so that the keywords of its calls are recorded in the returned dict."""
    seen: dict = {}
    real = getattr(module, name)

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return seen


# every sbert field set away from its default (threads stays 1: the build sets it for the whole session)
SBERT_CHANGED = sbert_train.SbertConfig(rounds=3, batch_size=24, learning_rate=3e-4, warmup_ratio=0.2,
                                        weight_decay=0.05, max_seq_length=48, scale=10.0, seed=7, threads=1,
                                        max_steps=11, sources=("chatbot", "korsts"), eval_steps=5, keep_best=False,
                                        patience=3)


def test_every_sbert_recipe_field_reaches_the_trainer_or_is_used_elsewhere(tmp_path):
    fields = {f.name for f in dataclasses.fields(sbert_train.SbertConfig)}
    mapped, elsewhere = set(sbert_train.TRAINING_ARGUMENTS), set(sbert_train.RECIPE_ELSEWHERE)
    assert mapped | elsewhere == fields and not mapped & elsewhere, "map each new recipe field"
    config = SBERT_CHANGED
    changed = {f for f in fields if getattr(config, f) != getattr(sbert_train.SbertConfig(), f)}
    assert changed == fields - {"threads"}, "set the new field away from its default here"
    args = sbert_train.training_arguments(config, str(tmp_path))
    for field, argument in sbert_train.TRAINING_ARGUMENTS.items():
        assert getattr(args, argument) == getattr(config, field), (field, argument)
    assert args.data_seed == config.seed and args.lr_scheduler_type.value == "linear"
    assert (args.eval_strategy.value, args.save_strategy.value, args.load_best_model_at_end) == ("steps", "no", False)
    shipped = sbert_train.training_arguments(sbert_train.SbertConfig(), str(tmp_path))  # keeps its best dev step
    assert (shipped.eval_strategy.value, shipped.save_strategy.value, shipped.save_steps) == ("steps", "steps", 100)
    assert shipped.load_best_model_at_end
    quiet = sbert_train.training_arguments(SBERT_CHANGED.__class__(eval_steps=None, keep_best=False), str(tmp_path))
    assert (quiet.eval_strategy.value, quiet.save_strategy.value, quiet.load_best_model_at_end) == ("no", "no", False)


def test_every_sbert_recipe_field_reaches_the_build(tmp_path, monkeypatch, reference_dir):
    """Run the real build up to ``trainer.train()`` (tiny stand-in data) and find every field where it acts."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer
    from transformers import EarlyStoppingCallback

    from helpers.sbert import selection

    class Stop(Exception):
        pass

    pairs = {"anchor": ["가", "나", "다", "라"], "positive": ["가가", "나나", "다다", "라라"], "label": [0, 1, 2, 3]}
    scored = {"sentence1": ["가", "나", "다", "라"], "sentence2": ["가나", "나다", "다라", "라가"], "score": [1.0, 0.5, 0.2, 0.0]}

    seen_sets: dict = {}

    def fake_sets(**kwargs):  # stand-ins: the real sets need the data files; these only have to reach the trainer
        seen_sets.update(kwargs)
        return {name: Dataset.from_dict(scored if name == "korsts" else pairs) for name in kwargs["sources"]}, {}

    monkeypatch.setattr(sbert_train, "training_sets", fake_sets)
    monkeypatch.setattr(selection, "korsts_dev", lambda: (scored["sentence1"], scored["sentence2"], [0.2, 0.1, 0.04, 0.0]))
    seen_seed = spy_on(monkeypatch, sbert_train, "seed_everything")
    trainers = []

    def stop(self, *args, **kwargs):
        trainers.append(self)
        raise Stop

    monkeypatch.setattr(SentenceTransformerTrainer, "train", stop)
    config = SBERT_CHANGED
    with pytest.raises(Stop):
        sbert_train.build_sentence_model(tmp_path / "out", "tiny-ko-bert", config, log=lambda m: None)
    trainer = trainers[0]
    for field, argument in sbert_train.TRAINING_ARGUMENTS.items():
        assert getattr(trainer.args, argument) == getattr(config, field), (field, argument)
    assert trainer.evaluator is not None  # eval_steps evaluates KorSTS dev through the trainer
    stoppers = [c for c in trainer.callback_handler.callbacks if isinstance(c, EarlyStoppingCallback)]
    reached = {
        "rounds": seen_sets["rounds"] == config.rounds,
        "sources": seen_sets["sources"] == config.sources and set(trainer.train_dataset) == set(config.sources),
        "max_seq_length": trainer.model.max_seq_length == config.max_seq_length,
        "scale": trainer.loss["chatbot"].scale == config.scale,
        "threads": seen_seed == {"seed": config.seed, "threads": config.threads},
        "patience": [c.early_stopping_patience for c in stoppers] == [config.patience],
    }
    assert set(reached) == set(sbert_train.RECIPE_ELSEWHERE), "check where the new field acts"
    assert all(reached.values()), {field: ok for field, ok in reached.items() if not ok}
    assert not (tmp_path / "out").exists()


def test_ner_arguments_carry_every_keyword(tmp_path):
    args = ner.training_arguments(str(tmp_path), epochs=4, batch_size=12, lr=3e-4, steps_per_epoch=50, seed=9,
                                  weight_decay=0.02, warmup_ratio=0.2)
    assert (args.num_train_epochs, args.per_device_train_batch_size, args.learning_rate) == (4, 12, 3e-4)
    assert (args.weight_decay, args.warmup_steps, args.seed, args.data_seed) == (0.02, 40, 9, 9)
    assert args.logging_steps == 25 and args.report_to == [] and args.save_strategy.value == "no"


@pytest.mark.parametrize("precision", [None, "bf16"])
def test_trainer_arguments_take_device_and_precision_from_the_runtime(tmp_path, monkeypatch, precision):
    from helpers import runtime

    monkeypatch.delenv(runtime.DEVICE_ENV, raising=False)
    if precision:
        monkeypatch.setenv(runtime.PRECISION_ENV, precision)
    else:
        monkeypatch.delenv(runtime.PRECISION_ENV, raising=False)
    chosen = runtime.choose_precision()
    expected = {"use_cpu": runtime.choose_device().type == "cpu", "bf16": chosen == "bf16", "fp16": chosen == "fp16"}
    built = {"ner": ner.training_arguments(str(tmp_path), epochs=1, batch_size=2, lr=1e-4, steps_per_epoch=4),
             "sbert": sbert_train.training_arguments(sbert_train.SbertConfig.fast(), str(tmp_path))}
    for name, args in built.items():
        assert {k: getattr(args, k) for k in expected} == expected, name
    explicit = ner.training_arguments(str(tmp_path), epochs=1, batch_size=2, lr=1e-4, steps_per_epoch=4,
                                      device="cpu", precision="fp32")
    assert (explicit.use_cpu, explicit.bf16, explicit.fp16) == (True, False, False)


def test_train_ner_passes_its_keywords_on(monkeypatch, reference_dir):
    from transformers import AutoModelForTokenClassification, AutoTokenizer, BertConfig

    seen = spy_on(monkeypatch, ner, "training_arguments")
    tokenizer = AutoTokenizer.from_pretrained(reference_dir)
    cfg = BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=64, num_labels=len(ner.LABELS))
    model = AutoModelForTokenClassification.from_config(cfg)
    df = pd.DataFrame({"chars": [list("서울 에 갔다")] * 4, "tags": [["B-LC", "I-LC"] + ["O"] * 5] * 4})
    ner.train_ner(model, tokenizer, df, epochs=1, batch_size=3, lr=2e-4, max_len=16, seed=5)
    assert seen == {"epochs": 1, "batch_size": 3, "lr": 2e-4, "steps_per_epoch": 2, "seed": 5}


def test_fine_tune_optimiser_carries_lr_weight_decay_and_warmup():
    model = torch.nn.Linear(4, 2)
    opt, sched = classify_train.optimizer_and_schedule(model, lr=3e-4, weight_decay=0.05, warmup_ratio=0.25,
                                                       total_steps=40)
    group = opt.param_groups[0]
    assert (group["initial_lr"], group["weight_decay"]) == (3e-4, 0.05)
    factors = [sched.lr_lambdas[0](s) for s in (0, 5, 10, 25, 40)]
    assert factors == [0.0, 0.5, 1.0, pytest.approx(0.5), 0.0]  # 10 warm-up steps, then linear to 0


def test_fine_tune_passes_its_keywords_to_the_optimiser(monkeypatch):
    from transformers import BertConfig, BertForSequenceClassification

    seen = spy_on(monkeypatch, classify_train, "optimizer_and_schedule")

    class Tok:  # a character tokenizer is enough for the loop
        def __call__(self, texts, **kw):
            ids = [[2] + [3 + ord(c) % 50 for c in t][:6] for t in texts]
            width = max(map(len, ids))
            return {"input_ids": torch.tensor([i + [0] * (width - len(i)) for i in ids]),
                    "attention_mask": torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i in ids])}

    model = BertForSequenceClassification(BertConfig(vocab_size=60, hidden_size=16, num_hidden_layers=1,
                                                     num_attention_heads=2, intermediate_size=32, num_labels=2))
    classify_train.fine_tune(model, Tok(), ["가", "나", "다", "라"], [0, 1, 0, 1], ["가"], [0], epochs=2, batch_size=2,
                             lr=7e-4, weight_decay=0.03, warmup_ratio=0.3, max_len=8, seed=3)
    assert seen == {"lr": 7e-4, "weight_decay": 0.03, "warmup_ratio": 0.3, "total_steps": 4}


def test_pretraining_optimiser_and_model_follow_the_recipe(tmp_path):
    from transformers import BertTokenizerFast

    config = dataclasses.replace(pretrain_config.PretrainConfig.tiny(), hidden_size=48, num_hidden_layers=3,
                                 num_attention_heads=3, intermediate_size=96, max_len=200, dropout=0.2,
                                 learning_rate=4e-4, weight_decay=0.03, warmup_steps=6, steps=30, seed=5)
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "가", "나"]), encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab))
    model = pretrain_train.new_model(config, tokenizer, tmp_path, log=lambda *_: None)
    c = model.config
    assert (c.hidden_size, c.num_hidden_layers, c.num_attention_heads, c.intermediate_size) == (48, 3, 3, 96)
    assert c.max_position_embeddings == 200 and c.hidden_dropout_prob == c.attention_probs_dropout_prob == 0.2
    opt = pretrain_train.new_optimizer(model, config)
    assert [g["lr"] for g in opt.param_groups] == [4e-4, 4e-4]
    assert [g["weight_decay"] for g in opt.param_groups] == [0.03, 0.0]
    f = pretrain_train._lr_lambda(config)
    assert f(5) == 1.0 and f(30) == 0.0 and f(0) == pytest.approx(1 / 6)


@pytest.mark.parametrize("precision, expected", [("fp32", "no"), ("bf16", "bf16")])
def test_pretraining_precision_reaches_accelerate(tiny_work, tmp_path, monkeypatch, precision, expected):
    """config.precision is what the Accelerator of the pretraining loop is told (and "auto" is the runtime's)."""
    import shutil

    import accelerate

    work = tmp_path / "work"
    shutil.copytree(tiny_work, work, ignore=shutil.ignore_patterns("checkpoint*", "final"))
    config = dataclasses.replace(pretrain_config.PretrainConfig.tiny(), precision=precision)
    (work / "config.json").write_text(json.dumps(dataclasses.asdict(config)))
    seen = spy_on(monkeypatch, accelerate, "Accelerator")
    from helpers import pretrain

    pretrain.build(work, config, log=lambda *_: None, stop_after=2)
    assert seen["mixed_precision"] == expected and seen["cpu"] is True


def test_auto_precision_is_the_runtimes_choice(monkeypatch):
    import torch

    from helpers import runtime

    config = dataclasses.replace(pretrain_config.PretrainConfig.tiny(), precision="auto")
    monkeypatch.setattr(runtime, "choose_precision", lambda device=None, requested=None: "fp16")
    assert pretrain_train.training_precision(config, torch.device("cuda")) == "fp16"
    assert pretrain_train.training_precision(dataclasses.replace(config, precision="bf16"), None) == "bf16"
