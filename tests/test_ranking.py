"""helpers.ranking: near-ties are decided by a fixed key, not by the last bits of a score."""
from __future__ import annotations

import numpy as np
import pytest

from helpers import chatbot, ranking


def test_rank_counts_ties_by_key_and_ignores_rounding_noise():
    s = np.array([0.5, 0.9, 0.9 + 1e-9, 0.2])
    assert ranking.rank_of(s, 1) == 1          # 2 is tied with 1 (1e-9 < TIE_TOL) and has a higher key
    assert ranking.rank_of(s, 2) == 2          # ... so 2 comes after 1, whatever its last bits say
    assert ranking.rank_of(s - np.array([0, 0, 2e-9, 0]), 2) == 2   # noise the other way: same answer
    assert ranking.rank_of(s, 0) == 3 and ranking.rank_of(s, 3) == 4
    assert ranking.rank_of(s, 2, keys=[3, 2, 0, 1]) == 1  # another key order decides the tie


def test_ranks_of_matches_rank_of_row_by_row_and_skips_hidden_items():
    rng = np.random.default_rng(0)
    s = np.round(rng.random((20, 30)), 2)  # many exact ties
    s[:, 5] = -np.inf
    targets = rng.integers(0, 30, 20)
    targets[targets == 5] = 6
    keys = rng.permutation(30)
    expected = [ranking.rank_of(row, t, keys) for row, t in zip(s, targets)]
    assert ranking.ranks_of(s, targets, keys).tolist() == expected


def test_order_top_k_and_argmax_break_ties_by_key():
    s = np.array([0.3, 0.8, 0.8 + 3e-6, 0.1, 0.8 - 3e-6])
    assert ranking.order(s) == [1, 2, 4, 0, 3]
    assert ranking.order(s, keys=[0, 9, 8, 0, 7]) == [4, 2, 1, 0, 3]
    assert ranking.top_k(s, 2) == [1, 2]
    assert ranking.top_k(s, 0) == []
    assert ranking.argmax(np.array([[0.1, 0.7 + 1e-7, 0.7], [2.0, 1.0, 3.0]])).tolist() == [1, 2]
    assert ranking.argmax(np.array([0.7, 0.7 + 1e-7])).item() == 0


@pytest.mark.parametrize("kind", ["hard", "natural"])
def test_lesson_04_ranks_survive_noise_at_float32_rounding(kind, csv_path, monkeypatch):
    """The cause of a lesson-04 difference between machines: rounding noise flipped a near-tie.

    The ``embed`` index's scores, perturbed by noise of the size of float32 rounding of a cosine
    (1e-7), give the same top ranks, so the same top-1 / top-5; without the tie rule they would not
    (the two 키 작은 ... questions hold the same word pieces in another order)."""
    monkeypatch.setenv("CHATBOT_DATA", str(csv_path))
    from helpers.data import load_chatbot_data

    df = load_chatbot_data(csv_path)
    questions, answers = list(df["question"]), list(df["answer"])
    index = chatbot.build_index("embed", "tiny-ko-bert", questions, answers)
    queries, expected = chatbot.load_paraphrases(kind)
    scores = index.scores(queries)
    base = chatbot.ranks_from_scores(scores, answers, expected)
    rng = np.random.default_rng(1)
    for _ in range(5):
        noisy = scores + rng.uniform(-1e-7, 1e-7, scores.shape)
        ranks = chatbot.ranks_from_scores(noisy, answers, expected)
        near = np.minimum(ranks, base) <= 10  # a rank in the thousands may move by one (a gap near TIE_TOL)
        assert ranks[near].tolist() == base[near].tolist()
        assert chatbot.metrics(ranks)["mrr"] == pytest.approx(chatbot.metrics(base)["mrr"], abs=1e-4)
    for q, a, r in zip(queries, expected, base):  # search shows what the rank counts
        assert (index.answer(q).answer == a) == (r == 1)
