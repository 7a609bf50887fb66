"""Tests for helpers.chatbot (lesson 04): inputs, index build/cache, evaluation, CLI."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from helpers import chatbot, splits
from helpers.data import paraphrases

SMALL_Q = ["오늘 너무 피곤해", "헤어진 지 한 달 됐어", "감기 걸린 것 같아", "감기 기운이 있어",
           "회사 가기 싫다", "좋아하는 사람이 생겼어"]
SMALL_A = ["푹 쉬세요.", "시간이 약이에요.", "감기 조심하세요.", "감기 조심하세요.",
           "출근은 누구나 싫어요.", "설레겠어요."]


@pytest.fixture()
def fast_model_env(fast_build, csv_path, private_cache, monkeypatch):
    """BERT_MODEL -> the seconds-long reference build, data from the real CSV, private cache."""
    monkeypatch.setenv("BERT_MODEL", str(fast_build))
    monkeypatch.setenv("CHATBOT_DATA", str(csv_path))
    chatbot._MODEL_MEMO.clear()
    chatbot._RAW_MEMO.clear()
    return fast_build


# --------------------------------------------------------------------------- inputs
def test_clean_query_rejects_empty_and_non_strings():
    for bad in ("", "   ", "\t\n"):
        with pytest.raises(chatbot.ChatbotError, match="empty"):
            chatbot.clean_query(bad)
    for bad in (None, 42, ["질문"]):
        with pytest.raises(chatbot.ChatbotError, match="string"):
            chatbot.clean_query(bad)


def test_clean_query_truncates_long_queries_and_says_so():
    text, truncated = chatbot.clean_query("가" * 5000)
    assert truncated and len(text) == chatbot.MAX_QUERY_CHARS
    text, truncated = chatbot.clean_query("  오늘   뭐 먹지 ")
    assert (text, truncated) == ("오늘 뭐 먹지", False)


def test_eval_tsv_validation(tmp_path):
    good = tmp_path / "good.tsv"
    good.write_text("id\tquery\texpected_answer\tnote\n1\t감기 기운 있어\t감기 조심하세요.\tx\n", encoding="utf-8")
    assert paraphrases.load_eval_tsv(good) == (["감기 기운 있어"], ["감기 조심하세요."])
    missing = tmp_path / "missing.tsv"
    missing.write_text("question\tanswer\n감기\t조심\n", encoding="utf-8")
    with pytest.raises(chatbot.ChatbotError, match="expected_answer"):
        paraphrases.load_eval_tsv(missing)
    empty = tmp_path / "empty.tsv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(chatbot.ChatbotError, match="empty"):
        paraphrases.load_eval_tsv(empty)
    header_only = tmp_path / "header.tsv"
    header_only.write_text("query\texpected_answer\n", encoding="utf-8")
    with pytest.raises(chatbot.ChatbotError, match="no rows"):
        paraphrases.load_eval_tsv(header_only)
    with pytest.raises(chatbot.ChatbotError, match="no such file"):
        paraphrases.load_eval_tsv(tmp_path / "nope.tsv")


@pytest.mark.parametrize("kind", sorted(paraphrases.PARAPHRASE_SETS))
def test_paraphrase_set_is_large_new_and_answerable(csv_path, kind):
    import helpers

    df = helpers.load_chatbot_data(csv_path)
    queries, expected = paraphrases.load_paraphrases(kind)
    assert len(queries) >= 60 and len(set(queries)) == len(queries)
    assert not set(queries) & set(df["question"]), "paraphrases must not be copied from the data"
    # nor copied up to spacing and punctuation ("어떻게 하면 좋을까" vs the stored "어떻게 하면 좋을까?")
    def bare(text):
        return re.sub(r"[\s\W_]+", "", text)

    assert not {bare(q) for q in queries} & {bare(q) for q in df["question"]}
    assert set(expected) <= set(df["answer"]), "every expected answer must exist in the data"


def test_paraphrase_sets_are_disjoint_and_named():
    import csv

    sources = {}
    for kind in paraphrases.PARAPHRASE_SETS:
        with open(paraphrases.paraphrase_path(kind), encoding="utf-8", newline="") as fh:
            sources[kind] = {row["source_question"] for row in csv.DictReader(fh, delimiter="\t")}
    assert not sources["hard"] & sources["natural"], "the two sets paraphrase different stored questions"
    assert len(paraphrases.load_paraphrases("natural")[0]) >= 60
    with pytest.raises(chatbot.ChatbotError, match="unknown paraphrase set"):
        paraphrases.paraphrase_path("easy")


# --------------------------------------------------------------------------- index and evaluation
def test_tfidf_index_finds_its_own_questions_with_distinct_answers():
    index = chatbot.build_index("tfidf", "unused", SMALL_Q, SMALL_A)
    for q, a in zip(SMALL_Q, SMALL_A):
        assert index.answer(q).answer == a
    hits = index.search("감기 걸린 것 같아", k=5)
    assert len({h.answer for h in hits}) == len(hits) == 5  # one hit per distinct answer
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    with pytest.raises(chatbot.ChatbotError):
        index.search("   ")


def test_ranks_metrics_and_leave_one_out():
    index = chatbot.build_index("tfidf", "unused", SMALL_Q, SMALL_A)
    queries, expected, exclude = chatbot.leave_one_out_set(SMALL_Q, SMALL_A)
    assert queries == ["감기 걸린 것 같아", "감기 기운이 있어"] and expected == ["감기 조심하세요."] * 2
    ranks = chatbot.answer_ranks(index, queries, expected, exclude=exclude)
    assert list(ranks) == [1, 1]  # the other 감기 question carries the answer
    m = chatbot.metrics(np.array([1, 2, 10]))
    assert m == {"n": 3, "top1": round(1 / 3, 4), "top5": round(2 / 3, 4), "mrr": round((1 + 0.5 + 0.1) / 3, 4)}
    # an answer nobody has ranks past the end
    assert chatbot.answer_ranks(index, ["회사"], ["없는 답"])[0] == len(SMALL_Q) + 1


def test_split_answers_is_stable_and_only_shared_answers(csv_path):
    import helpers

    df = helpers.load_chatbot_data(csv_path)
    q, a = list(df["question"]), list(df["answer"])
    first, second = splits.split_answers(q, a), splits.split_answers(q, a)
    assert first == second and len(first) > 100
    counts = df.groupby("answer")["question"].nunique()
    assert all(counts[x] >= 2 for x in first)


def test_bert_vectors_match_the_manual_cls_and_are_normalised(fast_build):
    import torch

    import helpers

    tokenizer, model = helpers.load_model(str(fast_build))
    both = chatbot.bert_vectors(model, tokenizer, SMALL_Q, pooling=("cls", "mean"), batch_size=4)
    with torch.inference_mode():
        manual = model(**tokenizer(SMALL_Q[1], return_tensors="pt")).last_hidden_state[:, 0][0].numpy()
    manual = manual / np.linalg.norm(manual)
    np.testing.assert_allclose(both["cls"][1], manual, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(both["mean"], axis=1), 1.0, atol=1e-5)
    single = chatbot.bert_vectors(model, tokenizer, SMALL_Q, pooling="mean", batch_size=3)
    np.testing.assert_allclose(single, both["mean"], atol=1e-5)
    with pytest.raises(ValueError, match="pooling"):
        chatbot.bert_vectors(model, tokenizer, SMALL_Q, pooling="max")


def test_all_methods_build_and_answer(fast_model_env):
    for method in chatbot.METHODS:
        index = chatbot.build_index(method, None, SMALL_Q, SMALL_A)
        hit = index.answer(SMALL_Q[4])
        assert isinstance(hit, chatbot.Hit) and hit.answer in SMALL_A
        assert index.scores([SMALL_Q[0]]).shape == (1, len(SMALL_Q))
    with pytest.raises(chatbot.ChatbotError, match="Unknown method"):
        chatbot.build_index("bm25", None, SMALL_Q, SMALL_A)


def test_index_cache_round_trip_and_rebuild_on_corruption(fast_model_env, private_cache):
    built = chatbot.load_or_build_index("hybrid")
    assert not built.from_cache and len(built) == 11823
    loaded = chatbot.load_or_build_index("hybrid")
    assert loaded.from_cache
    query = "헤어진 지 얼마 안 됐어"
    np.testing.assert_allclose(loaded.scores([query]), built.scores([query]), atol=1e-5)
    assert loaded.answer(query) == built.answer(query)
    (directory,) = (private_cache / "chatbot").glob("index-hybrid-*")
    # corrupt one array: the checksum fails and the index is rebuilt, never loaded
    (directory / "dense.npy").write_bytes(b"not an array")
    rebuilt = chatbot.load_or_build_index("hybrid")
    assert not rebuilt.from_cache
    np.testing.assert_allclose(rebuilt.scores([query]), built.scores([query]), atol=1e-5)
    # no pickle anywhere in the cache
    for path in (private_cache / "chatbot").rglob("*"):
        assert path.suffix not in {".pkl", ".pickle", ".joblib"}


def test_cache_key_changes_with_model_method_and_data(fast_model_env):
    base = chatbot.index_key(os.environ["BERT_MODEL"], "hybrid", "d1")
    assert base == chatbot.index_key(os.environ["BERT_MODEL"], "hybrid", "d1")
    assert base != chatbot.index_key(os.environ["BERT_MODEL"], "embed", "d1")
    assert base != chatbot.index_key(os.environ["BERT_MODEL"], "hybrid", "d2")
    assert base != chatbot.index_key("tiny-ko-bert-other", "tfidf", "d1")


# --------------------------------------------------------------------------- kiwi soft matching
def test_kiwi_matcher_matches_synonyms_that_share_no_characters():
    stored = ["여자친구랑 헤어졌어", "배가 너무 고파", "내일 시험이 있어"]
    matcher = chatbot.KiwiMatcher.fit(stored)
    scores = matcher.scores(["애인과 이별했어", "밥 먹고 싶다", "ㅋㅋㅋ"])
    assert scores.shape == (3, 3) and scores.dtype == np.float32
    assert np.all((scores >= 0) & (scores <= 1 + 1e-6))
    # 이별 ~ 헤어지, 애인 ~ 여자친구: no shared character, still the best row
    assert scores[0].argmax() == 0 and scores[0, 0] > scores[0, 1:].max() + 0.1
    assert scores[1].argmax() == 1
    assert not scores[2].any()  # no content morpheme: no evidence either way
    # a stored question matches itself perfectly
    np.testing.assert_allclose(matcher.scores(stored).diagonal(), 1.0, atol=1e-5)


def test_kiwi_matcher_state_round_trip_and_unseen_morphemes():
    matcher = chatbot.KiwiMatcher.fit(SMALL_Q)
    restored = chatbot.KiwiMatcher.from_state(matcher.state())
    queries = ["피곤해서 쉬고 싶어", "감기약 먹었어", "출근하기 싫어"]  # 피곤/감기약/출근하: partly unseen
    np.testing.assert_allclose(restored.scores(queries), matcher.scores(queries), atol=2e-3)
    assert matcher.scores(["출근하기 싫어"])[0].argmax() == 4


def test_kiwi_similarity_treats_errors_and_nan_as_no_match():
    def similarity(a, b):
        if a == 1:
            raise ValueError("no embedding")
        return float("nan") if a == 2 else 0.5

    assert chatbot._kiwi_similarity(similarity, 1, 3) == 0.0
    assert chatbot._kiwi_similarity(similarity, 2, 3) == 0.0
    assert chatbot._kiwi_similarity(similarity, 3, 3) == 0.5


def test_kiwi_index_cache_round_trip(csv_path, private_cache, monkeypatch):
    monkeypatch.setenv("CHATBOT_DATA", str(csv_path))
    built = chatbot.load_or_build_index("kiwi-hybrid", "tiny-ko-bert")
    assert not built.from_cache and built.weights == chatbot.METHOD_WEIGHTS["kiwi-hybrid"]
    loaded = chatbot.load_or_build_index("kiwi-hybrid", "tiny-ko-bert")
    assert loaded.from_cache
    query = "애인이랑 이별했어"
    np.testing.assert_allclose(loaded.scores([query]), built.scores([query]), atol=2e-3)
    assert loaded.answer(query).answer == built.answer(query).answer
    (directory,) = (private_cache / "chatbot").glob("index-kiwi-hybrid-*")
    assert {p.name for p in directory.glob("kiwi_*.npy")} >= {"kiwi_sim.npy", "kiwi_flat.npy"}
    # model-free: the same index serves another BERT model
    assert chatbot.index_key("tiny-ko-bert", "kiwi", "d1") == chatbot.index_key("klue/bert-base", "kiwi", "d1")


# --------------------------------------------------------------------------- the Sentence-BERT methods
def test_sbert_index_uses_the_sentence_model_and_semantic_search(fast_model_env):
    from helpers.sbert import load_sentence_model

    index = chatbot.build_index("sbert", None, SMALL_Q, SMALL_A)
    assert index.model_name == "tiny-ko-sbert"  # whatever BERT_MODEL is
    model = load_sentence_model()
    expected = model.encode(SMALL_Q, normalize_embeddings=True)
    np.testing.assert_allclose(index.dense, expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(index.dense, axis=1), 1.0, atol=1e-5)
    # a query takes the direct path (no encode batching): the same vector
    np.testing.assert_allclose(index.encoder([SMALL_Q[2]])[0], expected[2], atol=1e-5)
    # util.semantic_search (the search path) and the full score matrix (the evaluation path) agree
    query = "감기 기운이 좀 있네"
    scores = index.scores([query])[0]
    hits = index.search(query, k=3)
    assert hits[0].row == int(np.argmax(scores)) and hits[0].score == pytest.approx(float(scores.max()), abs=1e-5)
    assert len({h.answer for h in hits}) == 3
    # the key follows the Sentence-BERT, not BERT_MODEL
    assert chatbot.index_key("tiny-ko-bert", "sbert", "d1") == chatbot.index_key(os.environ["BERT_MODEL"], "sbert", "d1")
    assert chatbot.index_key("tiny-ko-bert", "sbert", "d1") != chatbot.index_key("tiny-ko-bert", "ensemble", "d1")


def test_sbert_index_cache_round_trip(csv_path, private_cache, monkeypatch):
    monkeypatch.setenv("CHATBOT_DATA", str(csv_path))
    built = chatbot.load_or_build_index("sbert")
    assert not built.from_cache and len(built) == 11823
    loaded = chatbot.load_or_build_index("sbert")
    assert loaded.from_cache and loaded.model_name == "tiny-ko-sbert"
    query = "애인이랑 이별했어"
    np.testing.assert_allclose(loaded.scores([query]), built.scores([query]), atol=1e-5)
    assert loaded.answer(query) == built.answer(query)


def test_default_method_is_the_one_chosen_on_leave_one_out():
    import json
    from pathlib import Path

    tuned = json.loads((Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "weights.json")
                       .read_text(encoding="utf-8"))
    assert chatbot.DEFAULT_METHOD == tuned["default_method"]
    assert chatbot.default_method("tiny-ko-bert") == chatbot.default_method("klue/bert-base") == chatbot.DEFAULT_METHOD


# --------------------------------------------------------------------------- command line
def _cli(*args, env_extra=None):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "helpers.chatbot", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_cli_bad_input_gives_message_and_nonzero_exit(tmp_path, fast_model_env):
    run = _cli("ask", "   ")
    assert run.returncode != 0 and "empty" in run.stderr and "Traceback" not in run.stderr
    bad = tmp_path / "bad.tsv"
    bad.write_text("q\ta\nx\ty\n", encoding="utf-8")
    empty = tmp_path / "empty.tsv"
    empty.write_text("", encoding="utf-8")
    for path, needle in ((bad, "query"), (empty, "empty"), (tmp_path / "missing.tsv", "no such file")):
        run = _cli("eval", str(path))
        assert run.returncode != 0 and needle in run.stderr and "Traceback" not in run.stderr, run.stderr


def test_cli_ask_and_eval(tmp_path, fast_model_env):
    long_query = "감기 " * 300
    run = _cli("--method", "tfidf", "ask", long_query)
    assert run.returncode == 0, run.stderr
    assert "truncated" in run.stderr and "matched:" in run.stdout
    tsv = tmp_path / "q.tsv"
    tsv.write_text("query\texpected_answer\textra\n감기 기운이 있네\t감기 조심하세요.\t-\n"
                   "너무 졸려\t잠깐 자도 괜찮아요.\t-\n", encoding="utf-8")
    run = _cli("--method", "tfidf", "eval", str(tsv))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    for key in ("n", "top1", "top5", "mrr", "model", "method", "index_build_s", "ms_per_query_p50"):
        assert key in result
    assert result["n"] == 2 and result["method"] == "tfidf" and 0 <= result["top1"] <= 1


def test_cli_chat_loop(fast_model_env):
    env = dict(os.environ)
    run = subprocess.run([sys.executable, "-m", "helpers.chatbot", "--method", "embed", "chat"],
                         input="감기 걸린 것 같아\n   \n", capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "matched:" in run.stdout and "Traceback" not in run.stderr


def test_method_weights_are_the_ones_tuned_on_leave_one_out():
    """METHOD_WEIGHTS must be what benchmarks/tune_weights.py chose (never tuned on the paraphrases)."""
    import json
    from pathlib import Path

    tuned = json.loads((Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "weights.json")
                       .read_text(encoding="utf-8"))
    assert tuned["selected_on"].startswith("leave-one-out")
    assert {m: r["weights"] for m, r in tuned["methods"].items()} == chatbot.METHOD_WEIGHTS
    for weights in chatbot.METHOD_WEIGHTS.values():
        assert abs(sum(weights.values()) - 1) < 1e-9


def test_ranks_from_scores_counts_distinct_answers_and_hides_excluded_rows():
    answers = ["a", "b", "b", "c"]
    scores = np.array([[0.9, 0.8, 0.95, 0.1],    # b (best row 0.95) above a: rank 2
                       [0.9, 0.8, 0.95, 0.1],    # same, but rows 2 hidden: b's best is 0.8 -> a first
                       [0.1, 0.2, 0.3, 0.4]])    # expected answer absent from the data
    ranks = chatbot.ranks_from_scores(scores, answers, ["a", "a", "zzz"], exclude=[[], [2], []])
    assert ranks.tolist() == [2, 1, len(answers) + 1]
    assert scores[1, 2] == 0.95, "the caller's matrix is not modified"


def test_evaluate_gives_flat_columns_per_set():
    index = chatbot.build_index("tfidf", "unused", SMALL_Q, SMALL_A)
    loo = chatbot.leave_one_out_set(SMALL_Q, SMALL_A)
    row = chatbot.evaluate(index, {"own": (SMALL_Q[:2], SMALL_A[:2]), "loo": loo})
    assert set(row) == {f"{s}_{m}" for s in ("own", "loo") for m in ("top1", "top5", "mrr")}
    assert row["own_top1"] == 1.0   # a stored question finds its own answer
    assert row["loo_mrr"] == chatbot.metrics(chatbot.answer_ranks(index, *loo[:2], exclude=loo[2]))["mrr"]


def test_parameter_count():
    import torch

    assert chatbot.parameter_count(torch.nn.Linear(10, 10)) == 110


def test_model_identity_of_a_local_folder_follows_its_checksums(tmp_path):
    from helpers.models import model_identity

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / "model.safetensors").write_bytes(b"weights v1")
    by_weights = model_identity(str(folder))
    (folder / "model.safetensors").write_bytes(b"weights v2")
    assert model_identity(str(folder)) != by_weights  # new weights, new cache key
    (folder / "checksums.sha256").write_text("aaa  model.safetensors\n", encoding="utf-8")
    listed = model_identity(str(folder))
    (folder / "checksums.sha256").write_text("bbb  model.safetensors\n", encoding="utf-8")
    assert model_identity(str(folder)) != listed  # the shipped model: its checksum listing
