"""Tests for helpers.pairs (lesson 06): labels, thresholds, lexical and bi-encoder scores, pair inputs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import pairs


def test_same_is_the_complement_of_is_duplicate(data_root):
    train = pairs.load_pairs("train")
    assert (train.same == 1 - train.is_duplicate).all()
    assert int((train.is_duplicate == 0).sum()) == int(train.same.sum()) == 4750  # upstream README: 0 = same


def test_best_threshold_maximises_training_accuracy():
    s = np.array([0.1, 0.2, 0.35, 0.4, 0.8, 0.9])
    y = np.array([0, 0, 0, 1, 1, 1])
    t = pairs.best_threshold(s, y)
    assert 0.35 < t <= 0.4 and ((s >= t) == y).all()
    assert pairs.best_threshold([0.5, 0.5], [1, 1]) <= 0.5  # all positive: threshold below every score
    with pytest.raises(ValueError):
        pairs.best_threshold([0.1], [0, 1])


def test_pair_scores_use_same_as_positive():
    r = pairs.pair_scores([1, 1, 0, 0], [1, 0, 0, 0])
    assert r["accuracy"] == 0.75 and r["f1"] == pytest.approx(2 / 3)


def test_lexical_matcher_scores_identical_pairs_highest():
    df = pd.DataFrame({"question1": ["오늘 뭐 먹지", "헤어졌어", "비가 온다"],
                       "question2": ["오늘 뭐 먹지", "이별했어", "날씨 좋다"]})
    s = pairs.LexicalMatcher().fit(df).score(df)
    assert s[0] == pytest.approx(1.0) and s[0] > s[1] and s[0] > s[2] and s.shape == (3,)


def test_paired_cosine_dense_matches_definition():
    a, b = np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[0.0, 2.0], [2.0, 2.0]])
    assert np.allclose(pairs.paired_cosine(a, b), [0.0, 1.0])


def test_overlap_counts():
    tr = pd.DataFrame({"question1": ["a", "b"], "question2": ["c", "d"]})
    te = pd.DataFrame({"question1": ["a", "x", "c"], "question2": ["b", "y", "a"]})
    assert pairs.overlap(tr, te) == {"test_pairs": 3, "both_questions_seen": 2, "one_question_seen": 0,
                                     "same_pair_in_train": 1}


def test_encode_pairs_and_pair_inputs(reference_dir):
    from sentence_transformers import SentenceTransformer, models

    word = models.Transformer(str(reference_dir), max_seq_length=32)
    sbert = SentenceTransformer(modules=[word, models.Pooling(word.get_embedding_dimension(), "mean")], device="cpu")
    df = pd.DataFrame({"question1": ["오늘 뭐 먹지", "헤어졌어"], "question2": ["헤어졌어", "헤어졌어"]})
    v1, v2 = pairs.encode_pairs(sbert, df)
    assert v1.shape == v2.shape == (2, word.get_embedding_dimension())
    assert np.allclose(v1[1], v2[0]) and np.allclose(pairs.paired_cosine(v1, v2)[1], 1.0, atol=1e-5)
    from helpers.classify import encode

    enc = encode(sbert.tokenizer, pairs.pair_texts(df), 32)
    sep = sbert.tokenizer.sep_token_id
    assert (enc["input_ids"] == sep).sum(dim=1).tolist() == [2, 2] and enc["token_type_ids"].max() == 1


def test_pair_profile_describes_how_each_file_was_built():
    a = pd.DataFrame({"question1": ["가방 사고 싶어", "비가 와", "가을이다"], "question2": ["가방 사고 싶어", "비 온다", "가요 틀어줘"],
                      "same": [1, 1, 0]})
    b = pd.DataFrame({"question1": ["눈이 와", "밥 먹자"], "question2": ["오늘 추워", "배고파"], "same": [0, 1]})
    lex = pairs.LexicalMatcher().fit(pd.concat([a, b]))
    prof = pairs.pair_profile({"a": a, "b": b}, lex, source_questions=["비가 와", "눈이 와"], source_name="known")
    assert list(prof.columns) == ["a", "b"]
    assert list(prof.index) == ["same share", "same: tf-idf cos", "same: identical", "different: same 1st char", "known"]
    assert prof.loc["same share"].tolist() == pytest.approx([2 / 3, 1 / 2])
    assert prof.loc["same: identical"].tolist() == pytest.approx([1 / 2, 0.0])
    assert prof.loc["different: same 1st char"].tolist() == pytest.approx([1.0, 0.0])
    assert prof.loc["known"].tolist() == pytest.approx([1 / 5, 1 / 4])  # distinct questions: a has 5, b has 4
    assert prof.loc["same: tf-idf cos", "a"] == pytest.approx(np.mean(lex.score(a)[:2]))
