"""helpers.pretrain: the tiny-ko-bert build on a tiny recipe — held-out data, loss, determinism, resume."""
from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from safetensors.torch import load_file

from helpers import pretrain, splits
from helpers.pretrain import PretrainConfig


def _weights_equal(a, b):
    wa, wb = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
    assert wa.keys() == wb.keys()
    for name in wa:
        assert torch.equal(wa[name], wb[name]), name


def test_build_is_deterministic(tiny_work, tmp_path):
    again = tmp_path / "again"
    pretrain.build(again, PretrainConfig.tiny(), log=lambda *a: None)
    _weights_equal(tiny_work / "final", again / "final")
    assert (tiny_work / "final" / "tokenizer.json").read_bytes() == (again / "final" / "tokenizer.json").read_bytes()


def test_interrupted_build_resumes_bit_for_bit(tiny_work, tmp_path):
    work = tmp_path / "resumed"
    config = PretrainConfig.tiny()
    assert pretrain.build(work, config, log=lambda *a: None, stop_after=config.checkpoint_every) is None
    state = json.loads((work / "checkpoint" / "state.json").read_text())
    assert state["step"] == config.checkpoint_every
    logs = []
    final = pretrain.build(work, config, log=logs.append)
    assert any("resuming at step" in m for m in logs)  # continued, not restarted
    _weights_equal(tiny_work / "final", final)


def test_resume_may_change_the_thread_count(tiny_work, tmp_path):
    """threads is how to run, not what to build: an interrupted build resumes with another count."""
    work = tmp_path / "threads"
    config = PretrainConfig.tiny()
    assert pretrain.build(work, config, log=lambda *a: None, stop_after=config.checkpoint_every) is None
    logs = []
    final = pretrain.build(work, dataclasses.replace(config, threads=1), log=logs.append)
    assert final is not None and any("resuming at step" in m for m in logs)


def test_work_folder_refuses_another_recipe(tiny_work):
    other = dataclasses.replace(PretrainConfig.tiny(), steps=PretrainConfig.tiny().steps + 1)
    with pytest.raises(RuntimeError, match="another recipe"):
        pretrain.build(tiny_work, other, log=lambda *a: None)


def test_heldout_movies_and_questions_never_train(tiny_work):
    groups = [json.loads(line) for line in (tiny_work / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    heldout = [json.loads(line) for line in (tiny_work / "heldout.jsonl").read_text(encoding="utf-8").splitlines()]
    trained = {t for g in groups for t in g["texts"]}
    assert heldout and not {h["text"] for h in heldout} & trained
    assert {h["source"] for h in heldout} == {"nsmc", "chatbot"}
    reviews = [t for g in groups if g["kind"] == "review" for t in g["texts"]]
    assert len(reviews) == len(set(reviews))  # de-duplicated


def test_heldout_movie_rule_is_stable():
    ids = [str(i) for i in range(10000, 12000)]
    held = [m for m in ids if splits.movie_is_heldout(m)]
    assert 0.07 < len(held) / len(ids) < 0.13
    assert held == [m for m in ids if splits.movie_is_heldout(m)]


def test_batches_are_a_function_of_the_step(tiny_work):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_work / "tokenizer")
    units = pretrain.Units(tiny_work, PretrainConfig.tiny(), tok)
    first = units.batch_features(5)
    units.batch_features(0)
    assert units.batch_features(5) == first
    row = first[0]
    assert row["input_ids"][0] == tok.cls_token_id and row["input_ids"][-1] == tok.sep_token_id
    assert len(row["input_ids"]) <= PretrainConfig.tiny().max_len
    assert {r["next_sentence_label"] for r in units.batch_features(1) + units.batch_features(2)} == {0, 1}


def test_masked_positions_loss_equals_the_models_own_loss(tiny_work):
    from transformers import AutoTokenizer, BertForPreTraining, DataCollatorForLanguageModeling

    tok = AutoTokenizer.from_pretrained(tiny_work / "tokenizer")
    model = BertForPreTraining.from_pretrained(tiny_work / "final").eval()
    units = pretrain.Units(tiny_work, PretrainConfig.tiny(), tok)
    collator = DataCollatorForLanguageModeling(tok, mlm_probability=0.15, seed=0, return_tensors="pt")
    batch = collator(units.batch_features(3))
    with torch.no_grad():
        ours, mlm, pair = pretrain.pretraining_loss(model, batch)
        theirs = model(**{k: v for k, v in batch.items() if k != "next_sentence_label"},
                       next_sentence_label=batch["next_sentence_label"]).loss
    assert torch.allclose(ours, theirs, atol=1e-5)
    candidates = batch["attention_mask"].sum() - 3 * len(batch["labels"])  # [CLS] and two [SEP] never chosen
    assert 0.08 < float((batch["labels"] != -100).sum() / candidates) < 0.25


def test_export_is_a_standard_checkpoint(tiny_work):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    final = tiny_work / "final"
    weights = load_file(final / "model.safetensors")
    assert any(k.startswith("cls.predictions") for k in weights)
    assert any(k.startswith("cls.seq_relationship") for k in weights)  # the trained pair head / pooler
    config = json.loads((final / "config.json").read_text())
    assert config["hidden_dropout_prob"] == 0.1  # fine-tuning default, although pretraining used none
    metrics = json.loads((final / "metrics.json").read_text())
    assert metrics["history"][-1]["step"] == PretrainConfig.tiny().steps
    tok = AutoTokenizer.from_pretrained(final)
    model = AutoModelForMaskedLM.from_pretrained(final)
    assert model.config.vocab_size == len(tok)
    assert tok.tokenize("오늘 영화") and "[UNK]" not in tok.tokenize("영화")


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="bf16 autocast needs oneDNN")
def test_bf16_build_resumes_bit_for_bit(tiny_work, tmp_path):
    """precision="bf16" (autocast through accelerate) keeps the resume guarantee and learns like fp32."""
    config = dataclasses.replace(PretrainConfig.tiny(), precision="bf16")
    whole = pretrain.build(tmp_path / "whole", config, log=lambda *a: None)
    part = tmp_path / "part"
    assert pretrain.build(part, config, log=lambda *a: None, stop_after=config.checkpoint_every) is None
    _weights_equal(whole, pretrain.build(part, config, log=lambda *a: None))
    fp32 = json.loads((tiny_work / "final" / "metrics.json").read_text())["history"][-1]
    bf16 = json.loads((whole / "metrics.json").read_text())["history"][-1]
    assert abs(bf16["mlm_loss"] - fp32["mlm_loss"]) < 0.05 * fp32["mlm_loss"]


def test_named_recipes():
    assert PretrainConfig.recipe("reference") == PretrainConfig()
    assert PretrainConfig.recipe("tiny") == PretrainConfig.tiny()
    gpu = PretrainConfig.recipe("gpu-base")
    assert (gpu.hidden_size, gpu.num_hidden_layers, gpu.precision) == (768, 12, "auto")
    with pytest.raises(ValueError, match="Fix: choose one of"):
        PretrainConfig.recipe("huge")


def test_accelerate_launch_builds_the_same_model(tiny_work, tmp_path):
    """`make model RECIPE=gpu-…` runs the build through `accelerate launch`; on one CPU process it is the same build."""
    import subprocess
    import sys
    from pathlib import Path

    launcher = Path(sys.executable).with_name("accelerate")
    work = tmp_path / "launched"
    done = subprocess.run([str(launcher), "launch", "--cpu", "--num_processes", "1", "--num_machines", "1",
                           "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "helpers.pretrain",
                           "--work", str(work), "--tiny"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    _weights_equal(tiny_work / "final", work / "final")


def test_idle_minutes_leaves_out_the_time_a_build_was_paused():
    from helpers.pretrain import idle_minutes

    # 500 steps take 60 s; the build was paused for an hour between steps 1,000 and 1,500
    history = [{"step": 500, "seconds": 60.0}, {"step": 1000, "seconds": 120.0}, {"step": 1500, "seconds": 3780.0},
               {"step": 2000, "seconds": 3840.0}]
    assert idle_minutes(history) == pytest.approx(4.0)
    assert idle_minutes(history[:1]) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        idle_minutes([])
