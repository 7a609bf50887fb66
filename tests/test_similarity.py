"""helpers.similarity: batched sentence vectors, cosine matrices, anisotropy and whitening."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import similarity as sim


@pytest.fixture(scope="module")
def tok_and_model(fast_build):
    from transformers import AutoModel, AutoTokenizer

    return AutoTokenizer.from_pretrained(fast_build), AutoModel.from_pretrained(fast_build).eval()


def test_lecture_sentences_are_the_lectures():
    assert len(sim.LECTURE_SENTENCES) == 4
    assert sim.LECTURE_SENTENCES[0] == "오늘 하루 어떻게 보냈나요?"
    assert sim.LECTURE_SENTENCES[3].startswith("깟뻬뜨랑")


@pytest.mark.parametrize("pooling", sim.POOLINGS)
def test_batched_vectors_equal_one_by_one(tok_and_model, pooling):
    tok, model = tok_and_model
    sentences = sim.LECTURE_SENTENCES + ["응", "오늘 정말 길고 길고 길었던 하루였어요 너무 피곤하네요"]
    batched = sim.sentence_vectors(model, tok, sentences, pooling=pooling, batch_size=4)
    single = torch.cat([sim.sentence_vectors(model, tok, [s], pooling=pooling) for s in sentences])
    assert batched.shape == (len(sentences), model.config.hidden_size)
    assert torch.allclose(batched, single, atol=1e-5)


def test_poolings_match_their_definitions(tok_and_model):
    tok, model = tok_and_model
    enc = tok(sim.LECTURE_SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(**enc)
    assert torch.allclose(sim.pool(out, enc["attention_mask"], "pooler"), out.pooler_output)
    assert torch.allclose(sim.pool(out, enc["attention_mask"], "cls"), out.last_hidden_state[:, 0])
    i = int(enc["attention_mask"].sum(1).argmin())  # a padded row
    n = int(enc["attention_mask"][i].sum())
    expected = out.last_hidden_state[i, :n].mean(0)
    assert torch.allclose(sim.pool(out, enc["attention_mask"], "mean")[i], expected, atol=1e-6)


def test_sentence_vectors_bad_input(tok_and_model):
    tok, model = tok_and_model
    with pytest.raises(TypeError, match="list"):
        sim.sentence_vectors(model, tok, "한 문장")
    with pytest.raises(ValueError, match="pooling"):
        sim.sentence_vectors(model, tok, ["a"], pooling="max")
    with pytest.raises(ValueError, match="No sentences"):
        sim.sentence_vectors(model, tok, [])


def test_cosine_matrix_matches_sklearn():
    from sklearn.metrics.pairwise import cosine_similarity

    x = np.random.default_rng(0).normal(size=(6, 5))
    assert np.allclose(sim.cosine_matrix(x), cosine_similarity(x))
    assert np.allclose(sim.cosine_matrix(torch.tensor(x)), cosine_similarity(x))
    with pytest.raises(ValueError, match="zero vector"):
        sim.cosine_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="2-D"):
        sim.cosine_matrix(np.ones(3))


def test_centering_removes_a_shared_direction():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 16)) + 10.0 * np.ones(16)  # every vector shares a big common offset
    assert sim.mean_pairwise_cosine(x) > 0.9
    centered = sim.Whitening(center_only=True).fit(x[:300]).transform(x[300:])
    assert abs(sim.mean_pairwise_cosine(centered)) < 0.1


def test_whitening_gives_identity_covariance():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2000, 4)) @ np.array([[3, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0.1, 0], [0, 2, 0, 1.0]])
    w = sim.Whitening().fit(x)
    assert np.allclose(np.cov(w.transform(x).T), np.eye(4), atol=1e-3)
    assert sim.Whitening(k=2).fit(x).transform(x).shape == (2000, 2)


def test_whitening_errors():
    with pytest.raises(RuntimeError, match="fit"):
        sim.Whitening().transform(np.ones((2, 3)))
    w = sim.Whitening().fit(np.random.default_rng(0).normal(size=(10, 3)))
    with pytest.raises(ValueError, match="dimension"):
        w.transform(np.ones((2, 4)))
    with pytest.raises(ValueError, match="two"):
        sim.Whitening().fit(np.ones((1, 3)))


def test_nearest_neighbour_agreement():
    rng = np.random.default_rng(3)
    centers = np.eye(3) * 10
    labels = np.repeat([0, 1, 2], 20)
    x = centers[labels] + rng.normal(size=(60, 3))
    assert sim.nearest_neighbour_agreement(x, labels) == 1.0
    with pytest.raises(ValueError, match="labels"):
        sim.nearest_neighbour_agreement(x, labels[:10])


def test_all_poolings_equals_separate_calls(tok_and_model):
    tok, model = tok_and_model
    both = sim.all_poolings(model, tok, sim.LECTURE_SENTENCES, batch_size=3)
    assert set(both) == set(sim.POOLINGS)
    for p in sim.POOLINGS:
        assert torch.equal(both[p], sim.sentence_vectors(model, tok, sim.LECTURE_SENTENCES, pooling=p, batch_size=3))


def test_pair_percentile():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # pair cosines: 0, 0.707, 0.707
    assert sim.pair_percentile(0.5, x) == pytest.approx(1 / 3)
    assert sim.pair_percentile(0.9, x) == 1.0
    assert sim.pair_percentile(-0.1, x) == 0.0
    assert sim.pair_percentile(0.5, torch.tensor(x)) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="two"):
        sim.pair_percentile(0.5, np.ones((1, 2)))


# --------------------------------------------------------------------------- python -m helpers.similarity eval
STS_HEADER = "genre\tfilename\tyear\tid\tscore\tsentence1\tsentence2\n"


def _sim_cli(*args):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "helpers.similarity", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=300)


def test_load_sts_tsv_reads_korsts_layout_with_quotes(tmp_path):
    path = tmp_path / "sts.tsv"
    path.write_text(STS_HEADER + 'a\tb\t2020\t1\t4.5\t그는 "안녕"이라고 말했다.\t그가 인사했다.\n'
                    "a\tb\t2020\t2\t0\t비가 온다.\t고양이가 잔다.\n", encoding="utf-8")
    s1, s2, scores = sim.load_sts_tsv(path)
    assert s1 == ['그는 "안녕"이라고 말했다.', "비가 온다."] and s2[1] == "고양이가 잔다." and scores == [4.5, 0.0]
    short = tmp_path / "short.tsv"
    short.write_text("score\tsentence1\tsentence2\n3\t가\t나\n1\t다\t라\n", encoding="utf-8")
    assert sim.load_sts_tsv(short)[2] == [3.0, 1.0]


@pytest.mark.parametrize("content, needle", [
    (b"", "empty"),
    ("score\tsentence\tother\n1\ta\tb\n".encode(), "sentence1"),
    ("score\tsentence1\tsentence2\nfive\ta\tb\n2\tc\td\n".encode(), "not a number"),
    ("score\tsentence1\tsentence2\n7\ta\tb\n2\tc\td\n".encode(), "outside 0-5"),
    ("score\tsentence1\tsentence2\n1\ta\n2\tc\td\n".encode(), "line 2"),
    ("score\tsentence1\tsentence2\n1\t\tb\n2\tc\td\n".encode(), "empty sentence"),
    ("score\tsentence1\tsentence2\n".encode(), "no rows"),
    ("score\tsentence1\tsentence2\n3\ta\tb\n".encode(), "at least two"),
    ("score\tsentence1\tsentence2\n3\ta\tb\n3\tc\td\n".encode(), "different scores"),
    ("score\tsentence1\tsentence2\n1\t가\tb\n2\tc\td\n".encode("euc-kr"), "UTF-8"),
])
def test_load_sts_tsv_bad_files(tmp_path, content, needle):
    path = tmp_path / "bad.tsv"
    path.write_bytes(content)
    with pytest.raises(sim.SimilarityFileError, match=needle):
        sim.load_sts_tsv(path)
    with pytest.raises(sim.SimilarityFileError, match="no such file"):
        sim.load_sts_tsv(tmp_path / "missing.tsv")


def test_sts_correlations_match_scipy(fast_build):
    from scipy.stats import pearsonr, spearmanr

    from helpers.sbert import load_sentence_model

    model = load_sentence_model(str(fast_build))  # a plain BERT checkpoint: mean pooling
    s1 = ["오늘 날씨 좋다", "밥 먹었어?", "헤어졌어", "회사 가기 싫다", "감기 걸렸어"]
    s2 = ["날씨가 좋네", "점심 먹었니", "이별했어", "출근하기 싫어", "고양이가 귀여워"]
    scores = [5.0, 4.0, 4.5, 3.0, 0.0]
    got = sim.sts_correlations(model, s1, s2, scores)
    a, b = model.encode(s1, normalize_embeddings=True), model.encode(s2, normalize_embeddings=True)
    cos = (a * b).sum(1)
    assert got["n"] == 5
    assert got["spearman"] == pytest.approx(100 * spearmanr(cos, scores)[0], abs=0.01)
    assert got["pearson"] == pytest.approx(100 * pearsonr(cos, scores)[0], abs=0.01)


def test_similarity_cli_prints_one_json_line(tmp_path, fast_build):
    import json

    path = tmp_path / "sts.tsv"
    path.write_text("score\tsentence1\tsentence2\n5\t오늘 날씨 좋다\t날씨가 좋네\n0\t밥 먹었어?\t고양이가 귀여워\n"
                    "3\t헤어졌어\t이별했어\n", encoding="utf-8")
    run = _sim_cli("eval", str(path), "--model", str(fast_build))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert set(result) == {"n", "spearman", "pearson", "model"} and result["n"] == 3
    assert -100 <= result["spearman"] <= 100 and result["model"] == f"local:{fast_build.name}"


def test_similarity_cli_bad_input_message_and_nonzero_exit(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("score\tsentence1\tsentence2\nhigh\ta\tb\n", encoding="utf-8")
    for args, needle in (((str(bad),), "not a number"), ((str(tmp_path / "nope.tsv"),), "no such file"),
                         ((str(bad), "--model", str(tmp_path)), "not a number")):
        run = _sim_cli("eval", *args)
        assert run.returncode == 2 and needle in run.stderr and "Traceback" not in run.stderr, run.stderr
    good = tmp_path / "good.tsv"
    good.write_text("score\tsentence1\tsentence2\n5\t가\t나\n1\t다\t라\n", encoding="utf-8")
    run = _sim_cli("eval", str(good), "--model", str(tmp_path))  # a folder that is no model
    assert run.returncode == 2 and "modules.json" in run.stderr and "Traceback" not in run.stderr, run.stderr
