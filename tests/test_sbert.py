"""helpers.sbert: the training data and its held-out sets, the batch sampler, the build, the loader."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers.sbert import data as sdata

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models" / "tiny-ko-sbert"


# --------------------------------------------------------------------------- data
def test_components_join_pairs_that_share_a_text():
    groups = sdata.components([("a", "b"), ("c", "d"), ("b", "e"), ("x", "x")])
    assert groups == [["a", "b", "e"], ["c", "d"]]  # a self-pair is no group


def test_group_pairs_draw_disjoint_pairs_per_round_and_are_seeded():
    groups = [["a", "b", "c", "d"], ["e", "f", "g"]]
    one = sdata.group_pairs(groups, rounds=3, seed=1)
    assert one == sdata.group_pairs(groups, rounds=3, seed=1)
    assert one != sdata.group_pairs(groups, rounds=3, seed=2)
    assert len(one["anchor"]) == 3 * (2 + 1)  # n // 2 pairs per group and round
    for a, b, label in zip(one["anchor"], one["positive"], one["label"]):
        assert a != b and {a, b} <= set(groups[label])
    first_round = list(zip(one["anchor"][:2], one["positive"][:2]))
    assert len({t for pair in first_round for t in pair}) == 4  # disjoint within a round


@pytest.fixture(scope="module")
def training(data_root):
    import helpers

    df = helpers.load_chatbot_data()
    questions, answers = list(df["question"]), list(df["answer"])
    sets, summary = sdata.training_sets(rounds=1, seed=42)
    return sets, summary, sdata.held_out(questions, answers), questions, answers


def test_no_evaluation_text_is_trained_on(training):
    from helpers import chatbot, splits
    from helpers.data import paraphrases

    sets, summary, hold, questions, answers = training
    texts = set()
    for ds in sets.values():
        for column in ds.column_names:
            if column not in ("label", "score"):
                texts |= set(ds[column])
    assert not texts & hold.sentences, "a KorSTS dev/test, Question_pair test or paraphrase text is trained on"
    assert not texts & hold.chatbot_questions, "a question of a held-out chatbot answer is trained on"
    # the held-out answers include every leave-one-out answer and every paraphrase set's expected answer
    assert splits.split_answers(questions, answers) <= hold.chatbot_answers
    for kind in paraphrases.PARAPHRASE_SETS:
        queries, expected = paraphrases.load_paraphrases(kind)
        assert set(expected) <= hold.chatbot_answers and set(queries) <= hold.sentences
    loo_q, _, _ = chatbot.leave_one_out_set(questions, answers, splits.split_answers(questions, answers))
    assert not set(loo_q) & texts
    qp = summary["sources"]["question_pair"]
    assert qp["dropped_touching_held_out"] > 0 and summary["sources"]["korsts"]["dropped_sharing_a_test_sentence"] > 0


def test_training_sets_have_the_columns_their_losses_need(training):
    sets = training[0]
    assert set(sets) == {"parakqc", "question_pair", "chatbot", "korsts"}
    for name in ("parakqc", "question_pair", "chatbot"):
        assert sets[name].column_names == ["anchor", "positive", "label"] and len(sets[name]) > 1000
    assert sets["korsts"].column_names == ["sentence1", "sentence2", "score"]
    assert 0 <= min(sets["korsts"]["score"]) and max(sets["korsts"]["score"]) <= 1


# --------------------------------------------------------------------------- sampler
def test_distinct_groups_never_repeat_a_label_in_a_batch_when_avoidable():
    from helpers.sbert.train import distinct_groups

    rng = np.random.default_rng(0)
    labels = list(rng.integers(0, 40, size=500))
    order = list(rng.permutation(500))
    batches = distinct_groups(labels, order, batch_size=16, drop_last=False)
    assert sorted(i for b in batches for i in b) == list(range(500))  # every row exactly once
    full = [b for b in batches if len(b) == 16]
    assert len(full) >= 500 // 16 - 2
    clean = [b for b in batches[:-3]]
    assert all(len({labels[i] for i in b}) == len(b) for b in clean)
    dropped = distinct_groups(labels, order, batch_size=16, drop_last=True)
    assert all(len(b) == 16 for b in dropped)


# --------------------------------------------------------------------------- build (seconds-long recipe)
def _build(out: Path, base: str, **recipe):
    import dataclasses

    from helpers.sbert.train import SbertConfig, build_sentence_model

    config = dataclasses.replace(SbertConfig.fast(), **{"max_steps": 4, **recipe})
    return build_sentence_model(out, base, config, log=lambda m: None)


def test_build_is_deterministic_saves_a_loadable_model_and_keeps_the_card(tmp_path, reference_dir, data_root):
    from helpers.cache import verify_checksums
    from helpers.sbert import load_sentence_model

    first = tmp_path / "a"
    first.mkdir()
    (first / "README.md").write_text("card", encoding="utf-8")
    _build(first, "tiny-ko-bert")
    second = _build(tmp_path / "b", "tiny-ko-bert", eval_steps=2)  # a dev curve watches the run without moving it
    assert (first / "README.md").read_text(encoding="utf-8") == "card"
    for name in ("model.safetensors", "modules.json", "1_Pooling/config.json", "tokenizer.json", "training.json"):
        assert (first / name).is_file(), name
    assert (first / "model.safetensors").read_bytes() == (second / "model.safetensors").read_bytes()
    verify_checksums(first, ("model.safetensors", "modules.json"))
    info = json.loads((first / "training.json").read_text(encoding="utf-8"))
    assert info["steps"] == 4 and info["base_model"] == "tiny-ko-bert"
    assert info["losses"]["korsts"] == "CoSENTLoss" and info["losses"]["parakqc"] == "MultipleNegativesRankingLoss"
    assert "dev_curve" not in info
    watched = json.loads((second / "training.json").read_text(encoding="utf-8"))
    assert [p["step"] for p in watched["dev_curve"]] == [0, 2, 4] and "best_step" not in watched
    assert watched["dev_curve"][0]["spearman"] == watched["korsts_dev_spearman_before"] == info["korsts_dev_spearman_before"]
    assert watched["dev_curve"][-1]["spearman"] == watched["korsts_dev_spearman_after"] == info["korsts_dev_spearman_after"]
    model = load_sentence_model(str(first))
    vectors = model.encode(["오늘 날씨 좋다", "비가 온다"], normalize_embeddings=True)
    assert vectors.shape == (2, 128)


def test_sources_restrict_the_training_sets_and_bad_recipes_are_refused(data_root):
    from helpers.sbert.train import SbertConfig

    sets, summary = sdata.training_sets(rounds=1, seed=42, sources=("chatbot", "korsts"))
    assert list(sets) == ["chatbot", "korsts"] and list(summary["sources"]) == ["chatbot", "korsts"]
    assert SbertConfig(sources=["korsts"]).sources == ("korsts",)
    for bad in ({"sources": ()}, {"sources": ("nsmc",)}, {"keep_best": True, "eval_steps": None},
                {"patience": 2, "eval_steps": None, "keep_best": False},
                {"eval_steps": 0}, {"eval_steps": 10, "patience": 0}):
        with pytest.raises(ValueError):
            SbertConfig(**bad)


def test_build_with_sources_records_the_curve_and_saves_the_best_dev_step(tmp_path, reference_dir, data_root):
    from helpers.sbert import load_sentence_model
    from helpers.sbert.selection import korsts_dev_evaluator, spearman100

    out = _build(tmp_path / "m", "tiny-ko-bert", max_steps=8, sources=("chatbot", "korsts"), eval_steps=4,
                 keep_best=True)
    info = json.loads((out / "training.json").read_text(encoding="utf-8"))
    assert set(info["losses"]) == set(info["data"]["sources"]) == {"chatbot", "korsts"}
    curve = info["dev_curve"]
    assert [p["step"] for p in curve] == [0, 4, 8] and info["steps"] == 8 and not info["stopped_early"]
    trained = curve[1:]
    best = max(p["spearman"] for p in trained)
    assert info["best_step"] == next(p["step"] for p in trained if p["spearman"] == best)  # ties: the earlier step
    saved = load_sentence_model(str(out))
    assert spearman100(korsts_dev_evaluator()(saved)) == info["korsts_dev_spearman_after"] == best


def _scripted_dev(scores):
    """Stands in for the KorSTS-dev evaluator: returns scripted scores and keeps the weights it was shown
    (``seen[step]``; -1 for the calls before and after training)."""
    from sentence_transformers.base.evaluation.evaluator import BaseEvaluator

    class ScriptedDev(BaseEvaluator):
        def __init__(self):
            super().__init__()
            self.scores, self.seen = list(scores), {}
            self.primary_metric = "korsts-dev_spearman_cosine"

        def __call__(self, model, output_path=None, epoch=-1, steps=-1):
            self.seen[steps] = {k: v.detach().clone() for k, v in model.state_dict().items()}
            value = self.scores.pop(0)
            return {"korsts-dev_spearman_cosine": value, "korsts-dev_pearson_cosine": value}

    return ScriptedDev()


def _same_weights(a: dict, b: dict) -> bool:
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("patience, scores, steps, best_step", [
    (None, [0.5, 0.6, 0.9, 0.7, 0.9, 0.9], 8, 4),  # a tie at step 8 keeps step 4
    (1, [0.5, 0.6, 0.55, 0.6], 4, 2),              # no gain at step 4: stop there, keep step 2
])
def test_keep_best_restores_the_best_steps_weights(tmp_path, reference_dir, data_root, monkeypatch,
                                                   patience, scores, steps, best_step):
    from helpers.sbert import load_sentence_model
    from helpers.sbert import train as sbert_train

    dev = _scripted_dev(scores)
    monkeypatch.setattr(sbert_train, "korsts_dev_evaluator", lambda: dev)
    out = _build(tmp_path / "m", "tiny-ko-bert", max_steps=8, sources=("chatbot",), eval_steps=2, keep_best=True,
                 patience=patience)
    info = json.loads((out / "training.json").read_text(encoding="utf-8"))
    assert (info["steps"], info["best_step"], info["stopped_early"]) == (steps, best_step, steps < 8)
    assert [p["step"] for p in info["dev_curve"]] == [0] + list(range(2, steps + 1, 2))
    saved = load_sentence_model(str(out)).state_dict()
    assert _same_weights(saved, dev.seen[best_step]) and not _same_weights(saved, dev.seen[steps])


def test_build_cli_bad_base_message_and_nonzero_exit(tmp_path):
    run = subprocess.run([sys.executable, "-m", "helpers.sbert", "build", "--out", str(tmp_path / "out"),
                          "--base", str(tmp_path)], capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert run.returncode == 2 and "Traceback" not in run.stderr and "config.json" in run.stderr, run.stderr
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- loading
@pytest.mark.skipif(not SHIPPED.is_dir(), reason="models/tiny-ko-sbert is not built")
def test_shipped_model_loads_verified_and_refuses_a_damaged_copy(tmp_path, monkeypatch):
    import helpers.models as models
    from helpers.sbert import load_sentence_model

    model = load_sentence_model()
    assert model.get_embedding_dimension() > 0 and not model.training
    one = model.encode(["오늘 하루 어떻게 보냈나요?"], normalize_embeddings=True)
    batch = model.encode(["오늘 하루 어떻게 보냈나요?", "이순신은 조선 중기의 무신이다."], normalize_embeddings=True)
    np.testing.assert_allclose(one[0], batch[0], atol=1e-5)  # batched == one by one
    copy = tmp_path / "tiny-ko-sbert"
    shutil.copytree(SHIPPED, copy)
    monkeypatch.setattr(models, "shipped_sentence_dir", lambda: copy)
    assert load_sentence_model() is not None
    with open(copy / "model.safetensors", "r+b") as fh:
        fh.seek(-8, 2)
        fh.write(b"\0" * 8)
    with pytest.raises(models.ModelNotAvailableError, match="checksum"):
        load_sentence_model()


def test_loader_wraps_a_plain_bert_with_mean_pooling_and_rejects_other_folders(tmp_path, reference_dir):
    from helpers.models import ModelNotAvailableError
    from helpers.sbert import load_sentence_model

    model = load_sentence_model("tiny-ko-bert")
    assert [type(m).__name__ for m in model] == ["Transformer", "Pooling"]
    assert model[1].get_config_dict()["pooling_mode"] == "mean"
    with pytest.raises(ModelNotAvailableError, match="modules.json"):
        load_sentence_model(str(tmp_path))


# --------------------------------------------------------------------------- the model card
def test_the_shipped_card_is_rendered_from_the_stored_figures_and_the_build_record(benchmark_module):
    bench = benchmark_module("sbert_bench")
    result = json.loads((ROOT / "benchmarks" / "results" / "sbert.json").read_text(encoding="utf-8"))
    training = json.loads((ROOT / "models" / "tiny-ko-sbert" / "training.json").read_text(encoding="utf-8"))
    card = (ROOT / "models" / "tiny-ko-sbert" / "README.md").read_text(encoding="utf-8")
    assert card == bench.card(result, training, bench.selection_section()), "run: python benchmarks/sbert_bench.py --card-only"
    assert "## How the recipe was chosen" in card


def test_the_card_describes_the_recipe_it_was_given(benchmark_module):
    """Sources left out are left out of the card; a kept best step is said to be chosen on KorSTS dev."""
    import copy

    bench = benchmark_module("sbert_bench")
    result = json.loads((ROOT / "benchmarks" / "results" / "sbert.json").read_text(encoding="utf-8"))
    training = copy.deepcopy(json.loads((ROOT / "models" / "tiny-ko-sbert" / "training.json").read_text(encoding="utf-8")))
    del training["data"]["sources"]["parakqc"], training["losses"]["parakqc"]
    training["recipe"].update(eval_steps=100, keep_best=True)
    training["best_step"] = 1200
    card = bench.card(result, training)
    assert "ParaKQC" not in card and "warnikchow/paraKQC" not in card
    assert "on the two pair sets (Question_pair, Chatbot_data)" in card and "all three sets mixed" in card
    assert "the weights of step 1,200, the best on KorSTS dev, are the ones kept" in card
    assert "not used to pick a checkpoint" not in card
