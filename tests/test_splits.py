"""helpers.splits: every held-out and split rule, pinned to the members it chose before the rules moved here.

The expected members below were recorded with the code as it stood before :mod:`helpers.splits` existed
(``reference.split_heldout``, ``pretrain.movie_is_heldout``, ``classify.sentiment.movie_is_validation``,
``chatbot.split_answers``, ``sbert.data.held_out``, ``classify.split_questions``, ``ner.split_sentences``,
``cache.text_key`` / ``cache.in_hash_bucket``): a change of any split shows up here as a changed member.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from helpers import splits


def digest(texts) -> str:
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()


# --------------------------------------------------------------------------- seeded hashes
def test_text_key_is_the_seeded_sha256_and_orders_stably():
    assert splits.text_key(42, "안녕") == hashlib.sha256("42:안녕".encode()).hexdigest()
    assert splits.text_key(42, "안녕") == "c719598619e9355d6745e479012dee2b5edb6e7d7ea2b0e750c56b18798b58a7"
    texts = [f"문장 {i}" for i in range(50)]
    key1 = lambda t: splits.text_key(1, t)  # noqa: E731
    assert sorted(texts, key=key1) == sorted(reversed(texts), key=key1)
    assert sorted(texts, key=key1) != sorted(texts, key=lambda t: splits.text_key(2, t))


def test_in_hash_bucket_takes_about_the_asked_share_and_depends_on_the_namespace():
    keys = [str(i) for i in range(10_000)]
    share = sum(splits.in_hash_bucket("nsmc-movie", k, 10) for k in keys) / len(keys)
    assert 0.08 < share < 0.12
    assert not any(splits.in_hash_bucket("x", k, 0) for k in keys)
    assert all(splits.in_hash_bucket("x", k, 100) for k in keys)
    a = {k for k in keys if splits.in_hash_bucket("a", k, 10)}
    b = {k for k in keys if splits.in_hash_bucket("b", k, 10)}
    assert a != b


# --------------------------------------------------------------------------- NSMC movies
def test_held_out_and_validation_movies_are_the_recorded_ones():
    assert all(splits.movie_is_heldout(m) for m in ("100021", "100022", "100087"))  # first 3 held out in NSMC
    assert not any(splits.movie_is_heldout(m) for m in ("10001", "100015", "10002"))
    assert all(splits.movie_is_validation(m) for m in ("10014", "10021", "10055"))  # first 3 validation movies
    ids = [str(i) for i in range(10000, 12000)]
    held = [m for m in ids if splits.movie_is_heldout(m)]
    val = [m for m in ids if not splits.movie_is_heldout(m) and splits.movie_is_validation(m)]
    assert (len(held), held[:3]) == (209, ["10016", "10019", "10028"])
    assert (len(val), val[:3]) == (88, ["10014", "10021", "10055"])
    assert splits.HELD_OUT_MOVIE_PERCENT == 10 and splits.VALIDATION_MOVIE_PERCENT == 5


# --------------------------------------------------------------------------- chatbot questions and answers
@pytest.fixture(scope="module")
def chatbot_df(csv_path):
    from helpers.data import load_chatbot_data

    return load_chatbot_data(csv_path)


def test_tiny_ko_bert_held_out_questions_are_the_recorded_ones(chatbot_df):
    train, held = splits.split_heldout(chatbot_df, 400, 42)
    assert len(held) == 400 and len(train) == 11421
    assert held[:3] == ["14년된 여자친구랑 이별", "3년 동거 돈 싸움. 헤어짐", "4월, 이별을 말합니다."]
    assert held[-1] == "후 아직 헤어진것도 아닌데"
    assert digest(held) == "d65ae5de3e572f079ae202e3d02566ec14e5a81455c131c5a130393a315d3687"
    assert splits.split_heldout(chatbot_df, 100)[1][:3] == [
        "5년가까이 사귄 그녀와 헤어졌습니다.", "5년연애 이별후 3개월",
        "6년을 널 위해 모든걸 바쳤고 니가 떠난후 4년동안 난 미친듯이 살았다."]


def test_leave_one_out_answers_are_the_recorded_ones(chatbot_df):
    chosen = sorted(splits.split_answers(list(chatbot_df["question"]), list(chatbot_df["answer"])))
    assert len(chosen) == 587
    assert chosen[:3] == ["가리면 돼요.", "가볍게 먹을 수 있는 걸 먹어보세요.", "가장 중요한 목표네요."]
    assert digest(chosen) == "f485777ac49e7edbfb2417fb1a075cc45fb0fb699e44c38ee71e3d239b9f4a19"


def test_label_split_of_the_questions_is_the_recorded_one(chatbot_df):
    train, val, test = splits.split_questions(chatbot_df)
    assert (len(train), len(val), len(test)) == (8106, 1158, 2317)
    assert list(train.question[:3]) == ["1000일 만난 여자친구와 이별", "10년 연애. 헤어졌습니다.", "10년 연애사 되돌아보니 다 부질없네"]
    assert list(val.question[:3]) == ["1년이 되어갑니다", "2년간 만난 여자친구와의 이별", "4년 사귄 여자친구가 환승 이별했어"]
    assert list(test.question[:3]) == ["10년이라는 시간이 참 무색하다 싶네", "14년된 여자친구랑 이별", "1년 9개월 의 연애 종지부."]
    _, ambiguous = splits.question_table(chatbot_df)
    assert len(ambiguous) == 81 and ambiguous[:3] == ["2년 가량의 연애", "결혼이나 하지 왜 자꾸 나한테 화 내냐구!", "고백하고 후회하면 어떡하지"]


def test_sentence_bert_held_out_texts_are_the_recorded_ones(chatbot_df, data_root):
    hold = splits.held_out(list(chatbot_df["question"]), list(chatbot_df["answer"]))
    assert hold.summary() == {"chatbot_answers": 729, "chatbot_questions": 1662, "evaluation_sentences": 6844}
    assert sorted(hold.chatbot_answers)[:3] == ["가능합니다.", "가리면 돼요.", "가볍게 먹을 수 있는 걸 먹어보세요."]
    assert sorted(hold.chatbot_questions)[:3] == ["1지망 학교 떨어졌어", "2년 만났어", "2년 정도를 만났는데 잘 이해가 안가"]
    everything = json.dumps([sorted(hold.chatbot_answers), sorted(hold.chatbot_questions), sorted(hold.sentences)],
                            ensure_ascii=False)
    assert hashlib.sha256(everything.encode()).hexdigest() == \
        "97d7fd229fb27d740b4da0fdeea425126ddba683d09fa09b5fd7d2e5037bf72c"


def test_klue_ner_split_is_the_recorded_one(data_root):
    from helpers.data import load_klue_ner

    train, test = splits.split_sentences(load_klue_ner())
    assert (len(train), len(test)) == (4000, 1000)
    assert list(test.sentence[:2]) == [
        "저우쉰과 탕웨이. 오리엔트의 여배우 부분에선 이 두 사람이 최고이지 않을까 싶다.",
        "중견 연기자들과 주인공 김재원의 뛰어난 연기가 올해의 최고 -심리 스릴러 드라마의 성공을 탄생시켰다."]


# --------------------------------------------------------------------------- Question_pair (lesson 06)
def _questions(df):
    return set(df.question1) | set(df.question2)


def test_pair_split_keeps_every_question_group_on_one_side():
    import pandas as pd

    # a chain a-b-c-d (one group), pairs e-f and g-h, and 200 lone pairs: whole groups move together
    rows = [("a", "b"), ("c", "b"), ("c", "d"), ("e", "f"), ("g", "h"), ("f", "e")]
    rows += [(f"q{i}", f"p{i}") for i in range(200)]
    df = pd.DataFrame(rows, columns=["question1", "question2"]).assign(row=range(len(rows)))
    fit, val = splits.split_pairs_by_question(df, percent=30)
    assert len(fit) + len(val) == len(df) and 30 < len(val) < 100
    assert not _questions(fit) & _questions(val)
    chain = {"a", "b", "c", "d"}
    assert chain <= _questions(fit) or chain <= _questions(val)
    # the split does not depend on the order of the rows, and keeps the input order on each side
    fit2, val2 = splits.split_pairs_by_question(df.iloc[::-1].reset_index(drop=True), percent=30)
    assert sorted(map(tuple, val2[["question1", "question2"]].values)) == sorted(map(tuple, val[["question1", "question2"]].values))
    assert fit.row.is_monotonic_increasing and val.row.is_monotonic_increasing and val.index[0] == 0
    assert len(splits.split_pairs_by_question(df, percent=0)[1]) == 0
    assert len(splits.split_pairs_by_question(df, percent=100)[0]) == 0
    assert list(splits.split_pairs_by_question(df, seed=1)[1].question1) != list(splits.split_pairs_by_question(df)[1].question1)
    with pytest.raises(ValueError):
        splits.split_pairs_by_question(df.rename(columns={"question2": "q2"}))
    with pytest.raises(ValueError):
        splits.split_pairs_by_question(df, percent=120)


def test_question_pair_validation_split_is_the_recorded_one(data_root):
    from helpers.data import load_question_pair

    train = load_question_pair("train")
    fit, val = splits.split_pairs_by_question(train)
    assert (len(fit), len(val)) == (6232, 656)
    assert not _questions(fit) & _questions(val)  # a row split (10 %, stratified) shares 26 pairs' questions
    assert int((val.is_duplicate == 0).sum()) == 450


# --------------------------------------------------------------------------- one home, the old names kept
def test_the_lessons_old_names_are_the_rules_of_this_module():
    from helpers import chatbot, classify, ner, pretrain, reference
    from helpers.classify import sentiment
    from helpers.sbert import data as sdata

    assert reference.split_heldout is splits.split_heldout
    assert pretrain.movie_is_heldout is splits.movie_is_heldout
    assert sentiment.movie_is_validation is splits.movie_is_validation
    assert chatbot.split_answers is splits.split_answers
    assert sdata.held_out is splits.held_out
    assert classify.split_questions is splits.split_questions and classify.question_table is splits.question_table
    assert ner.split_sentences is splits.split_sentences


def test_splits_imports_nothing_heavy_and_no_lesson_package():
    code = ("import sys, helpers.splits; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', "
            "'sentence_transformers', 'sklearn', 'kiwipiepy') or m.startswith(('helpers.chatbot', 'helpers.sbert', "
            "'helpers.classify', 'helpers.pretrain'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
