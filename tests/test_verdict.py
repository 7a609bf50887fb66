"""helpers.verdict: the sentences lessons print to compare results."""
from __future__ import annotations

import doctest

from helpers import verdict


def test_doctests():
    assert doctest.testmod(verdict).failed == 0


def test_ranking_sentence_names_the_winner_margin_and_ties():
    s = verdict.ranking_sentence({"A": 0.5, "B": 0.7}, "F1")
    assert s == "이번 실행의 F1 1위: B 0.700 (2위 A 0.500보다 0.200 높음)."
    assert "1위는 동률: A, B 0.700" in verdict.ranking_sentence({"A": 0.7001, "B": 0.6999, "C": 0.1}, "F1")
    assert verdict.ranking_sentence({"A": 3.0, "B": 2.0}, "손실", higher_is_better=False).startswith("이번 실행의 손실 1위: B 2.000")


def test_versus_says_better_worse_or_same():
    assert "BERT 쪽이 0.100 높습니다 (이번 실행에서 더 나은 쪽: BERT)" in verdict.versus("BERT", 0.9, "TF-IDF", 0.8, "정확도")
    assert "둘이 같습니다" in verdict.versus("a", 0.5, "b", 0.5001, "정확도")
    assert "(이번 실행에서 더 나은 쪽: 무작위 초기화)" in verdict.versus("사전학습", 0.5, "무작위 초기화", 0.6, "F1")


def test_constant_control_is_named():
    assert verdict.is_constant([1, 1, 1]) and not verdict.is_constant([1, 0, 1])
    text = verdict.control_sentence("무작위 초기화", [1, 1, 1], labels={1: "긍정"})
    assert "상수 예측기" in text and "긍정" in text
    assert "66.7%" in verdict.control_sentence("x", [1, 0, 1])
