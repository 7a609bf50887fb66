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
