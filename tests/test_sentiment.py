"""Tests for helpers.classify.sentiment / .model / .cli (lesson 05: NSMC sentiment, train and eval commands)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from helpers.classify import sentiment
from helpers.classify.model import (SentimentConfig, SentimentModelError, evaluate_file, load_sentiment, read_labelled,
                                    train_sentiment, write_labelled)
from helpers.splits import movie_is_heldout

ROOT = Path(__file__).resolve().parents[1]
POS = ["정말 재밌어요", "최고의 영화", "감동적이다 추천", "배우 연기 좋다", "또 보고 싶다", "완전 꿀잼"]
NEG = ["시간 아깝다", "지루하고 별로", "최악의 영화", "돈 아까움", "졸려서 잤다", "노잼 실망"]


def fake_raw(movies: int = 120, per_movie: int = 12) -> pd.DataFrame:
    """A raw-crawl-shaped frame: every movie has positive, negative and neutral reviews; some texts repeat."""
    rows = []
    for m in range(movies):
        for k in range(per_movie):
            rating = [10, 9, 1, 3, 6, 10, 2, 9, 4, 7, 10, 1][k % 12]
            words = POS if rating >= 9 else NEG
            text = f"{words[k % 6]} {m}-{k}" if k % 4 else words[k % 6]  # every 4th review is a shared text
            rows.append({"review_id": f"{m}-{k}", "movie_id": str(1000 + m), "author": "a", "review": text,
                         "rating": rating, "date": "2020"})
    rows.append({"review_id": "x", "movie_id": "1000", "author": "a", "review": "", "rating": 10, "date": ""})
    rows.append({"review_id": "y", "movie_id": "1001", "author": "a", "review": POS[0], "rating": 1, "date": ""})
    return pd.DataFrame(rows)


def test_label_reviews_applies_nsmc_rule():
    raw = fake_raw(4)
    df = sentiment.label_reviews(raw)
    assert set(df.rating) <= {1, 2, 3, 4, 9, 10} and (df.document != "").all()
    assert (df.label == (df.rating >= 9)).all()
    with pytest.raises(ValueError, match="load_nsmc_raw"):
        sentiment.label_reviews(pd.DataFrame({"review": ["a"]}))


def test_split_is_by_heldout_movie_balanced_deduplicated_and_nested():
    raw = fake_raw()
    split = sentiment.nsmc_split(raw, train_size=None, val_size=2, seed=1)
    train, val, test = split.train, split.val, split.test
    assert test.movie_id.map(movie_is_heldout).all() and len(test) > 0
    assert not train.movie_id.map(movie_is_heldout).any()
    assert not set(train.movie_id) & set(val.movie_id) and not set(train.movie_id) & set(test.movie_id)
    for part in (train, val, test):
        assert not part.document.duplicated().any()
    assert not set(train.document) & set(test.document)
    assert POS[0] not in set(train.document) | set(test.document)  # it occurs with both labels: ambiguous
    assert train.label.mean() == 0.5
    for n in (2, 6, 10):  # every prefix is balanced: the learning curve's nested subsets
        assert train.label.iloc[:n].mean() == 0.5
    again = sentiment.nsmc_split(raw, train_size=10, val_size=2, seed=1)
    pd.testing.assert_frame_equal(again.train, sentiment.nsmc_split(raw, train_size=10, val_size=2, seed=1).train)
    assert split.pool_majority == 1 and split.stats["train"] == len(train)
    with pytest.raises(ValueError, match="balanced"):
        sentiment.nsmc_split(raw, train_size=10**6)


def test_disagreements_counts_and_balances_examples():
    texts = ["재밌지 않다", "좋다", "별로지만 볼만", "싫다", "그냥"]
    y = np.array([0, 1, 1, 0, 1])
    tf = np.array([[0.2, 0.8], [0.1, 0.9], [0.7, 0.3], [0.4, 0.6], [0.5, 0.5]])
    bert = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.8, 0.2], [0.1, 0.9]])
    table, counts = sentiment.disagreements(texts, y, tf, bert, n=4)
    assert counts == {"test_reviews": 5, "disagree": 2, "bert_right": 2, "tfidf_right": 0, "marked": 1,
                      "marked_bert_right": 1}
    assert set(table.review) == {"재밌지 않다", "싫다"} and (table["맞힌 모델"] == "BERT").all()


def _small_bert(tmp_path: Path, reference_dir: Path, layers: int = 1, hidden: int = 32) -> Path:
    from transformers import AutoTokenizer, BertConfig, BertForPreTraining

    tok = AutoTokenizer.from_pretrained(reference_dir)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
                     intermediate_size=2 * hidden, max_position_embeddings=64, pad_token_id=tok.pad_token_id)
    out = tmp_path / f"bert-{layers}x{hidden}"
    BertForPreTraining(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def test_random_init_and_budget_scaling(tmp_path, reference_dir):
    import helpers

    small = _small_bert(tmp_path, reference_dir)
    big = _small_bert(tmp_path, reference_dir, layers=4, hidden=256)
    _, model = helpers.load_model(str(small), head="classification", num_labels=2)
    fresh = sentiment.random_init_like(model, seed=3)
    assert type(fresh) is type(model) and fresh.config.to_dict() == model.config.to_dict()
    assert not torch.equal(fresh.bert.embeddings.word_embeddings.weight, model.bert.embeddings.word_embeddings.weight)
    assert sentiment.scale_sizes(model, [500, 2000]) == [500, 2000]  # cheaper than tiny-ko-bert: no change
    _, large = helpers.load_model(str(big), head="classification", num_labels=2)
    shrunk = sentiment.scale_sizes(large, [500, 2000, 6000])
    assert shrunk[0] == 200 and shrunk[-1] < 6000 and all(s % 2 == 0 for s in shrunk)
    assert sentiment.epochs_for(500, 2, 4000) == 8 and sentiment.epochs_for(6000, 2, 4000) == 2


def test_read_labelled_rejects_bad_files(tmp_path):
    good = tmp_path / "good.tsv"
    good.write_text('id\tdocument\tlabel\n1\t"따옴표" 좋다\t1\n2\t별로\t0\n', encoding="utf-8")
    df = read_labelled(good)
    assert df.document.tolist() == ['"따옴표" 좋다', "별로"] and df.label.tolist() == [1, 0]
    cases = {"cols.tsv": ("text\tlabel\n좋다\t1\n", "no column 'document'"),
             "label.tsv": ("document\tlabel\n좋다\t1\n나쁨\t긍정\n", "line 3"),
             "empty.tsv": ("document\tlabel\n", "no rows"),
             "blank.tsv": ("", "empty")}
    for name, (text, match) in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        with pytest.raises(SentimentModelError, match=match):
            read_labelled(tmp_path / name)
    (tmp_path / "latin.tsv").write_bytes("document\tlabel\n좋다\t1\n".encode("cp949"))
    with pytest.raises(SentimentModelError, match="UTF-8"):
        read_labelled(tmp_path / "latin.tsv")
    with pytest.raises(SentimentModelError, match="no such file"):
        read_labelled(tmp_path / "missing.tsv")


def _env(tmp_path: Path) -> dict:
    env = dict(os.environ, KO_BERT_CACHE=str(tmp_path / "cache"), PYTHONPATH=str(ROOT / "src"))
    return env


def test_cli_errors_are_clear_without_traceback(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("document\tlabel\n좋다\t7\n", encoding="utf-8")
    for args, match in ((["eval", str(bad)], "not 0 or 1"),
                        (["eval", str(tmp_path / "none.tsv")], "no such file"),
                        (["eval", str(bad.with_name("ok.tsv")), "--model", str(tmp_path / "nomodel")], "")):
        if args[1].endswith("ok.tsv"):
            Path(args[1]).write_text("document\tlabel\n좋다\t1\n", encoding="utf-8")
            match = "No fine-tuned sentiment model"
        proc = subprocess.run([sys.executable, "-m", "helpers.classify", *args], capture_output=True, text=True,
                              env=_env(tmp_path), cwd=ROOT)
        assert proc.returncode == 2, proc.stderr
        assert match in proc.stderr and "Traceback" not in proc.stderr and proc.stdout == ""


def test_train_save_and_eval_round_trip(tmp_path, reference_dir):
    """A real (small) fine-tune through train_sentiment, then the eval command on a TSV."""
    base = _small_bert(tmp_path, reference_dir)
    raw = fake_raw()
    split = sentiment.nsmc_split(raw, train_size=64, val_size=8, seed=0)
    out = tmp_path / "model"
    config = SentimentConfig(base_model=str(base), train_size=64, val_size=8, epochs=3, lr=3e-3, batch_size=16)
    path = train_sentiment(config, out, split=split, log=lambda *a: None)
    assert path == out and (out / "meta.json").is_file() and (out / "manifest.json").is_file()
    tok, model, meta = load_sentiment(out)
    assert meta["train_reviews"] == 64 and meta["config"]["epochs"] == 3 and model.config.num_labels == 2
    tsv = write_labelled(split.test, tmp_path / "test.tsv")
    direct = evaluate_file(tsv, out)
    assert direct["n"] == len(split.test) and 0 <= direct["accuracy"] <= 1
    proc = subprocess.run([sys.executable, "-m", "helpers.classify", "eval", str(tsv), "--model", str(out)],
                          capture_output=True, text=True, env=_env(tmp_path), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    line = json.loads(proc.stdout.strip())
    assert line["n"] == direct["n"] and line["accuracy"] == direct["accuracy"] and line["model"] == str(out)
    (out / "meta.json").write_text("{}", encoding="utf-8")  # tampered: refused
    with pytest.raises(SentimentModelError, match="checksums"):
        load_sentiment(out)
    with pytest.raises(SentimentModelError, match="not a saved sentiment model"):
        train_sentiment(config, tmp_path, split=split, log=lambda *a: None)  # a folder we do not own
    assert SentimentConfig.quick().train_size == 2000


def test_published_figures_are_cited():
    table = sentiment.published_table()
    assert len(table) >= 3 and table.accuracy.between(80, 95).all() and table.source.str.len().gt(10).all()


# --------------------------------------------------------------------------- lesson 05: each model's learning rate
def test_chance_band_and_beats_chance():
    from helpers.classify import selection

    assert selection.chance_band(100) == pytest.approx(0.6) and selection.chance_band(500) == pytest.approx(0.5447, abs=1e-4)
    assert not selection.beats_chance([1] * 100, 0.99)               # one answer for everything: learned nothing
    assert not selection.beats_chance([0, 1] * 50, 0.58)             # inside the coin-flip band
    assert selection.beats_chance([0, 1] * 50, 0.61)
    with pytest.raises(ValueError):
        selection.chance_band(0)


def test_lr_search_chooses_on_validation_and_keeps_the_chosen_model(tmp_path, reference_dir):
    """A tiny random BERT on small fake reviews: a tiny step learns nothing, a large one learns the words."""
    import helpers
    from helpers.classify import predict_logits, scores, selection

    base = _small_bert(tmp_path, reference_dir)
    split = sentiment.nsmc_split(fake_raw(300), train_size=96, val_size=40, seed=0)
    calls = []

    def make_model():
        calls.append(1)
        torch.manual_seed(0)
        return helpers.load_model(str(base), head="classification", num_labels=2)[1]

    tok, _ = helpers.load_model(str(base), head="classification", num_labels=2)
    search = selection.lr_search(make_model, tok, split.train, split.val, [1e-6, 1e-2], epochs=3, batch_size=16)
    table = search.table
    assert len(calls) == 2 and table.lr.tolist() == [1e-6, 1e-2]
    assert list(table.columns) == ["lr", "val_macro_f1", "val_accuracy", "constant", "learned", "seconds"]
    assert table.constant.iloc[0] and not table.learned.iloc[0]       # 1e-6: a constant predictor
    assert table.learned.iloc[1] and table.val_macro_f1.iloc[1] > table.val_macro_f1.iloc[0]
    assert search.lr == 1e-2 and search.learned and search.learned_any and not search.model.training
    assert search.result.steps == 3 * -(-len(split.train) // 16)
    # the kept model is the one trained at the chosen rate: it reproduces that row's validation score
    pred = predict_logits(search.model, tok, split.val.document).argmax(-1)
    assert scores(split.val.label, pred, labels=(0, 1))["macro_f1"] == pytest.approx(table.val_macro_f1.iloc[1])
    # nothing learned anywhere: every row ties at a constant predictor's score, the first rate is kept
    flat = selection.lr_search(make_model, tok, split.train, split.val, [1e-7, 1e-6], epochs=1, batch_size=16)
    assert flat.lr == 1e-7 and not flat.learned_any and flat.table.constant.all()
    with pytest.raises(ValueError, match="distinct"):
        selection.lr_search(make_model, tok, split.train, split.val, [1e-3, 1e-3], epochs=1)


def test_a_search_at_the_main_size_is_the_main_run(tmp_path, reference_dir):
    """Lesson 05 with one training size: scoring the search's chosen model (scored_run) gives run_bert's record."""
    import helpers
    from helpers.classify import selection

    base = _small_bert(tmp_path, reference_dir)
    split = sentiment.nsmc_split(fake_raw(300), train_size=64, val_size=16, seed=0)

    def make_model():
        torch.manual_seed(0)
        return helpers.load_model(str(base), head="classification", num_labels=2)[1]

    tok, _ = helpers.load_model(str(base), head="classification", num_labels=2)
    search = selection.lr_search(make_model, tok, split.train, split.val, [1e-2], epochs=2, batch_size=16)
    reused = sentiment.scored_run(search.model, search.result, tok, split.test, epochs=2, lr=search.lr, seconds=1.25)
    trained = sentiment.run_bert(make_model(), tok, split.train, split.val, split.test, epochs=2, lr=1e-2, batch_size=16)
    assert np.array_equal(reused["probs"], trained["probs"])
    assert reused["history"].equals(trained["history"]) and reused["steps"] == trained["steps"]
    assert {k: reused[k] for k in ("accuracy", "macro_f1", "epochs", "lr")} == {k: trained[k] for k in ("accuracy", "macro_f1", "epochs", "lr")}
    assert reused["seconds"] == round(1.25, 1)


def test_learning_curve_uses_each_learners_rate(tmp_path, reference_dir):
    import helpers

    base = _small_bert(tmp_path, reference_dir)
    split = sentiment.nsmc_split(fake_raw(300), train_size=64, val_size=16, seed=0)

    def load_pair():
        torch.manual_seed(0)
        return helpers.load_model(str(base), head="classification", num_labels=2)

    curve = sentiment.learning_curve(load_pair, split, [32], split.test, epochs=1, min_examples=32,
                                     lr={"pretrained": 1e-3, "random init": 1e-2}, batch_size=16)
    assert curve.learner.tolist() == ["TF-IDF + LR", "pretrained", "random init"]
    assert curve.lr.iloc[1:].tolist() == [1e-3, 1e-2] and curve.epochs.iloc[1:].tolist() == [1, 1]
    assert curve.val_accuracy.iloc[1:].between(0, 1).all() and np.isnan(curve.val_accuracy.iloc[0])
    assert curve.constant.dtype == bool


def test_plot_learning_curve_draws_learned_nothing_as_crosses():
    import matplotlib

    matplotlib.use("Agg")
    curve = pd.DataFrame({"size": [500, 2000, 500, 2000], "learner": ["pretrained"] * 2 + ["random init"] * 2,
                          "macro_f1": [0.7, 0.75, 0.19, 0.6], "accuracy": [0.75, 0.8, 0.24, 0.65],
                          "learned_nothing": [False, False, True, False]})
    ax = sentiment.plot_learning_curve(curve, metric="macro_f1", majority=0.43)
    lines = {line.get_label(): line.get_xydata().tolist() for line in ax.get_lines()}
    assert lines["pretrained"] == [[500, 0.7], [2000, 0.75]]
    assert lines["random init"] == [[2000, 0.6]]                        # the constant run is not a line point
    crosses = ax.collections[0].get_offsets().tolist()
    assert crosses == [[500, 0.19]] and ax.get_ylabel().startswith("test macro-F1")


def test_bootstrap_gap_is_paired_and_matches_sklearn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    good = np.where(rng.random(400) < 0.85, y, 1 - y)
    weak = np.where(rng.random(400) < 0.6, y, 1 - y)
    out = sentiment.bootstrap_gap(y, good, weak, n=500, seed=1)
    exact = f1_score(y, good, average="macro") - f1_score(y, weak, average="macro")
    assert out["gap"] == pytest.approx(exact) and out["low"] < exact < out["high"] and out["low"] > 0
    same = sentiment.bootstrap_gap(y, good, good, n=200)
    assert same == {"gap": 0.0, "low": 0.0, "high": 0.0}
    constant = np.ones(400, dtype=int)  # a label never predicted scores F1 0, as sklearn's zero_division=0
    one = sentiment.bootstrap_gap(y, constant, weak, n=50, seed=2)
    assert one["gap"] == pytest.approx(f1_score(y, constant, average="macro", zero_division=0)
                                       - f1_score(y, weak, average="macro"))
    assert one == sentiment.bootstrap_gap(y, constant, weak, n=50, seed=2)  # seeded
