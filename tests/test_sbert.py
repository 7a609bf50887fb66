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
def _build(out: Path, base: str):
    import dataclasses

    from helpers.sbert.train import SbertConfig, build_sentence_model

    return build_sentence_model(out, base, dataclasses.replace(SbertConfig.fast(), max_steps=4), log=lambda m: None)


def test_build_is_deterministic_saves_a_loadable_model_and_keeps_the_card(tmp_path, reference_dir, data_root):
    from helpers.cache import verify_checksums
    from helpers.sbert import load_sentence_model

    first = tmp_path / "a"
    first.mkdir()
    (first / "README.md").write_text("card", encoding="utf-8")
    _build(first, "tiny-ko-bert")
    second = _build(tmp_path / "b", "tiny-ko-bert")
    assert (first / "README.md").read_text(encoding="utf-8") == "card"
    for name in ("model.safetensors", "modules.json", "1_Pooling/config.json", "tokenizer.json", "training.json"):
        assert (first / name).is_file(), name
    assert (first / "model.safetensors").read_bytes() == (second / "model.safetensors").read_bytes()
    verify_checksums(first, ("model.safetensors", "modules.json"))
    info = json.loads((first / "training.json").read_text(encoding="utf-8"))
    assert info["steps"] == 4 and info["base_model"] == "tiny-ko-bert"
    assert info["losses"]["korsts"] == "CoSENTLoss" and info["losses"]["parakqc"] == "MultipleNegativesRankingLoss"
    model = load_sentence_model(str(first))
    vectors = model.encode(["오늘 날씨 좋다", "비가 온다"], normalize_embeddings=True)
    assert vectors.shape == (2, 128)


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
