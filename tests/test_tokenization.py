"""Tests for helpers.tokenization (lesson 09): the five strategies and their measurements."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from helpers import tokenization as tk

TEXTS = [
    "헤어진 여자친구가 보고 싶어", "짝사랑하는 사람한테 고백했어", "오늘 날씨 좋은데 산책 갈까?",
    "여자친구랑 영화 보고 싶어", "사람한테 고백하고 싶어", "오늘 점심 뭐 먹지", "산책하고 싶어",
    "헤어지고 나서 너무 힘들어", "짝사랑 너무 힘들어", "영화 보러 갈래?",
] * 3


@pytest.fixture(scope="module")
def analyzer():
    return tk.MorphemeAnalyzer()


def test_syllable_strategy_marks_unseen_characters():
    st = tk.syllable_strategy(["가나 다", "나라"])
    assert st.vocab_size == 5  # 가 나 다 라 + [UNK]
    assert st("가 라") == ["가", "라"]
    assert st("가깟") == ["가", tk.UNK]
    with pytest.raises(ValueError, match="Fix"):
        tk.syllable_strategy(["   "])


def test_wordpiece_unknown_character_makes_whole_word_unk():
    st = tk.wordpiece_strategy(TEXTS, 200)
    assert st.vocab_size <= 200
    toks = st("오늘 깟날씨")
    assert toks[-1] == tk.UNK and toks.count(tk.UNK) == 1  # one [UNK] for the whole word
    pieces = st("짝사랑하는 사람한테")
    assert tk.UNK not in pieces
    assert "".join(p.removeprefix("##") for p in pieces) == "짝사랑하는사람한테"
    with pytest.raises(ValueError):
        tk.wordpiece_strategy(TEXTS, 5)


def test_bigger_wordpiece_vocab_gives_fewer_tokens():
    small, big = tk.wordpiece_strategy(TEXTS, 80), tk.wordpiece_strategy(TEXTS, 400)
    n_small = sum(len(small(t)) for t in TEXTS)
    n_big = sum(len(big(t)) for t in TEXTS)
    assert n_big < n_small


def test_morpheme_analyzer_splits_and_caches(analyzer):
    morphs = analyzer("짝사랑하는 사람한테 고백했어")
    assert morphs[0] == "짝사랑" and "사람" in morphs and "고백" in morphs
    assert analyzer.analyze_many(["짝사랑하는 사람한테 고백했어"])[0] == morphs
    morphs.append("changed")  # the cache hands out copies
    assert "changed" not in analyzer("짝사랑하는 사람한테 고백했어")
    with pytest.raises(TypeError):
        analyzer(None)
    tagged = tk.MorphemeAnalyzer(with_tags=True)("사람한테")
    assert all("/" in t for t in tagged)


def test_morpheme_strategy_unknown_morpheme(analyzer):
    st = tk.morpheme_strategy(TEXTS, analyzer)
    assert tk.UNK not in st("짝사랑하는 사람")
    toks = st("깟뻬뜨랑 사람")
    assert toks[0] == tk.UNK and "사람" in toks


def test_morpheme_wordpiece_pieces_stay_inside_morphemes(analyzer):
    st = tk.morpheme_wordpiece_strategy(TEXTS, analyzer, 150)
    text = "여자친구랑 산책하고 싶어"
    toks = st(text)
    words, current = [], ""
    for t in toks:
        if t.startswith("##"):
            current += t[2:]
        else:
            if current:
                words.append(current)
            current = t
    words.append(current)
    assert words == analyzer(text)  # pieces glue back to exactly the morphemes


def test_comparison_table_and_gibberish(analyzer):
    strategies = tk.build_strategies(TEXTS, analyzer, wordpiece_sizes=(100, 300), morpheme_wordpiece_size=150)
    assert [s.family for s in strategies] == ["syllable", "wordpiece", "wordpiece", "morpheme", "morpheme+wordpiece"]
    held = ["여자친구가 보고 싶어", "오늘 영화 볼래?"]
    table = tk.comparison_table(strategies, held)
    assert list(table.strategy) == [s.name for s in strategies]
    for st, row in zip(strategies, table.itertuples()):
        assert row.tokens_per_sentence == pytest.approx(sum(len(st(h)) for h in held) / len(held))
        assert 0 <= row.unk_token_rate <= row.unk_sentence_rate <= 1
        assert row.gibberish_tokens == len(st(tk.GIBBERISH))
    assert (table.gibberish_unk_rate > 0).all()  # no corpus of these contains the gibberish words
    morph = table.set_index("strategy").loc[strategies[3].name]
    assert morph.gibberish_unk_rate == 1.0
    with pytest.raises(ValueError):
        tk.unk_stats(strategies[0], [])


def test_show_tokens_and_downstream(analyzer):
    strategies = [tk.syllable_strategy(TEXTS), tk.morpheme_strategy(TEXTS, analyzer)]
    shown = tk.show_tokens(strategies, ["사람한테 고백했어"])
    assert len(shown) == 2 and (shown.n == shown.tokens.str.split().str.len()).all()
    train = ["이별 너무 힘들어", "헤어지고 힘들어", "사랑해 너무 좋아", "좋아하는 사람", "오늘 점심", "밥 먹자"] * 2
    labels = [1, 1, 2, 2, 0, 0] * 2
    scores = tk.downstream_scores(strategies, train, labels, ["이별 힘들어", "사랑 좋아", "점심 먹자"], [1, 2, 0])
    assert list(scores.columns) == ["strategy", "accuracy", "macro_f1"]
    assert scores.accuracy.between(0, 1).all()


def test_plot_comparison_checks_columns():
    import matplotlib.pyplot as plt

    table = pd.DataFrame({"strategy": ["a", "b"], "x": [1.0, 2.0], "y": [0.1, 0.2]})
    fig = tk.plot_comparison(table, columns=("x", "y"))
    assert len(fig.axes) == 2
    with pytest.raises(KeyError, match="available"):
        tk.plot_comparison(table, columns=("x", "nope"))
    plt.close("all")


def test_wordpiece_training_is_reproducible_across_processes(tmp_path):
    import subprocess
    import sys

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(TEXTS), encoding="utf-8")
    code = ("import sys, json; from helpers.tokenization import train_wordpiece_stable as t; "
            "texts = open(sys.argv[1], encoding='utf-8').read().splitlines(); "
            "print(json.dumps(sorted(t(texts, 150).get_vocab().items())))")
    runs = [subprocess.run([sys.executable, "-c", code, str(corpus)], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert runs[0] == runs[1]
    vocab = dict(tk.train_wordpiece_stable(TEXTS, 150).get_vocab())
    assert all("##" + ch in vocab for ch in {c for t in TEXTS for c in t if not c.isspace()})


def test_model_strategy_wraps_a_hugging_face_tokenizer():
    class FakeTokenizer:
        unk_token = "<unk>"

        def tokenize(self, text):
            return ["<unk>" if "깟" in w else w for w in text.split()]

        def __len__(self):
            return 7

    st = tk.model_strategy(FakeTokenizer(), "model X")
    assert (st.name, st.family, st.vocab_size) == ("model X", "model", 7)
    assert st("오늘 깟뻬뜨랑") == ["오늘", tk.UNK]  # the tokenizer's own unk token counts as [UNK]
    row = tk.comparison_table([st], ["오늘 날씨", "깟 좋다"]).iloc[0]
    assert row.unk_token_rate == 0.25 and row.unk_sentence_rate == 0.5
