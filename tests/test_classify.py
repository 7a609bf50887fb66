"""Tests for helpers.classify (lesson 05): split, baselines, fine-tuning loop, tables, plots."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import torch

import helpers
from helpers import classify, splits


@pytest.fixture(scope="module")
def data(csv_path):
    return helpers.load_chatbot_data(csv_path)


@pytest.fixture(scope="module")
def split(data):
    return splits.split_questions(data, val_size=0.1, test_size=0.2, seed=42)


def test_question_table_dedups_and_drops_ambiguous():
    df = pd.DataFrame({
        "question": ["a", "a", "b", "b", "c"],
        "answer": ["x", "y", "z", "w", "v"],
        "label": [0, 0, 1, 2, 2],
    })
    table, ambiguous = splits.question_table(df)
    assert ambiguous == ["b"]
    assert sorted(table.question) == ["a", "c"]
    assert dict(zip(table.question, table.label)) == {"a": 0, "c": 2}


def test_question_table_needs_columns():
    with pytest.raises(ValueError, match="load_chatbot_data"):
        splits.question_table(pd.DataFrame({"Q": ["a"], "label": [0]}))


def test_split_has_no_leakage_and_is_stratified(data, split):
    train, val, test = split
    sets = [set(p.question) for p in split]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    table, ambiguous = splits.question_table(data)
    assert len(train) + len(val) + len(test) == len(table)
    assert not set(ambiguous) & (sets[0] | sets[1] | sets[2])
    assert abs(len(test) / len(table) - 0.2) < 0.01 and abs(len(val) / len(table) - 0.1) < 0.01
    overall = table.label.value_counts(normalize=True)
    for part in split:
        share = part.label.value_counts(normalize=True)
        assert (share - overall).abs().max() < 0.01


def test_split_is_deterministic_and_seed_dependent(data, split):
    again = splits.split_questions(data, val_size=0.1, test_size=0.2, seed=42)
    for a, b in zip(split, again):
        pd.testing.assert_frame_equal(a, b)
    other = splits.split_questions(data, val_size=0.1, test_size=0.2, seed=7)
    assert set(other[2].question) != set(split[2].question)


@pytest.mark.parametrize("val,test", [(0.0, 0.2), (0.5, 0.5), (0.1, 1.2)])
def test_split_rejects_bad_sizes(data, val, test):
    with pytest.raises(ValueError, match="Fix"):
        splits.split_questions(data, val_size=val, test_size=test)


def test_scores_and_majority():
    y = np.array([0, 0, 0, 1, 2, 2])
    assert classify.scores(y, y) == {"accuracy": 1.0, "macro_f1": 1.0}
    pred = classify.majority_baseline([2, 0, 0, 1], len(y))
    assert pred.tolist() == [0] * len(y)
    s = classify.scores(y, pred)
    assert s["accuracy"] == pytest.approx(np.mean(y == 0))
    assert s["macro_f1"] < s["accuracy"]  # the two minority labels get F1 = 0
    with pytest.raises(ValueError):
        classify.majority_baseline([], 3)


def test_tfidf_logreg_learns_clear_signal_with_both_analyzers():
    texts = [f"{w} 너무 {x}" for w in ("밥", "이별", "사랑") for x in ("좋아", "싫어", "그래", "정말")]
    labels = [i for i in range(3) for _ in range(4)]
    for analyzer in ("char_wb", str.split):
        model = classify.tfidf_logreg(texts, labels, analyzer=analyzer, ngram_range=(1, 2))
        assert model.predict(["이별 정말 싫어", "사랑 좋아", "밥 그래"]).tolist() == [1, 2, 0]


def test_tfidf_baseline_beats_majority_on_real_split(split):
    train, _, test = split
    tfidf = classify.tfidf_logreg(train.question, train.label)
    tf = classify.scores(test.label, tfidf.predict(test.question))
    maj = classify.scores(test.label, classify.majority_baseline(train.label, len(test)))
    assert tf["macro_f1"] > maj["macro_f1"] + 0.3


@pytest.fixture(scope="module")
def small_task(split):
    train, val, _ = split
    tr = pd.concat([g.head(40) for _, g in train.groupby("label")]).reset_index(drop=True)
    va = pd.concat([g.head(10) for _, g in val.groupby("label")]).reset_index(drop=True)
    return tr, va


def _fresh(fast_build):
    torch.manual_seed(0)
    return helpers.load_model(str(fast_build), head="classification", num_labels=3)


def test_head_summary_counts_every_parameter(fast_build):
    _, model = _fresh(fast_build)
    summary = classify.head_summary(model)
    assert summary.parameters.sum() == sum(p.numel() for p in model.parameters())
    hidden = model.config.hidden_size
    assert summary.parameters.iloc[-1] == hidden * 3 + 3
    with pytest.raises(TypeError, match="head='classification'"):
        classify.head_summary(torch.nn.Linear(2, 2))


def test_fine_tune_is_deterministic_and_restores_torch_state(fast_build, small_task):
    tr, va = small_task
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(False)
    runs = []
    for _ in range(2):
        tok, model = _fresh(fast_build)
        before = model.classifier.weight.detach().clone()
        res = classify.fine_tune(model, tok, tr.question, tr.label, va.question, va.label, epochs=2, batch_size=16,
                                 lr=1e-3, evals_per_epoch=2)
        assert not torch.equal(before, model.classifier.weight)
        assert not model.training
        runs.append((res, classify.predict_logits(model, tok, va.question)))
    assert torch.get_num_threads() == 2 and not torch.are_deterministic_algorithms_enabled()
    (r1, l1), (r2, l2) = runs
    pd.testing.assert_frame_equal(r1.history, r2.history)
    np.testing.assert_array_equal(l1, l2)
    hist = r1.history
    assert list(hist.columns) == ["epoch", "step", "train_loss", "val_loss", "val_accuracy"]
    assert len(hist) == 4 and hist.step.iloc[-1] == r1.steps == 2 * -(-len(tr) // 16)
    assert hist.epoch.iloc[-1] == pytest.approx(2.0)
    assert np.isfinite(hist[["train_loss", "val_loss"]].to_numpy()).all()
    assert l1.shape == (len(va), 3)


def test_fine_tune_rejects_bad_labels(fast_build, small_task):
    tr, va = small_task
    tok, model = _fresh(fast_build)
    with pytest.raises(ValueError, match="num_labels=4"):
        classify.fine_tune(model, tok, ["가", "나"], [0, 3], ["다"], [0], epochs=1)
    with pytest.raises(ValueError, match="same length"):
        classify.fine_tune(model, tok, ["가", "나"], [0], ["다"], [0], epochs=1)


def test_predict_logits_empty(fast_build):
    tok, model = _fresh(fast_build)
    assert classify.predict_logits(model, tok, []).shape == (0, 3)


def test_errors_table_lists_only_mistakes_stably():
    texts = [f"문장 {i}" for i in range(20)]
    y = np.array([i % 3 for i in range(20)])
    pred = y.copy()
    pred[[1, 4, 7, 10, 13]] = (pred[[1, 4, 7, 10, 13]] + 1) % 3
    probs = np.full((20, 3), 1 / 3)
    table = classify.errors_table(texts, y, pred, probs, n=3)
    assert len(table) == 3
    wrong = {texts[i] for i in (1, 4, 7, 10, 13)}
    assert set(table.question) <= wrong
    assert (table.true != table.predicted).all()
    reversed_order = classify.errors_table(texts[::-1], y[::-1], pred[::-1], probs, n=3)
    assert list(table.question) == list(reversed_order.question)  # chosen by text, not position
    assert classify.errors_table(texts, y, y).empty


def test_plots_draw_hangul_labels(recwarn):
    import matplotlib.pyplot as plt

    from helpers.lesson import use_korean_font

    use_korean_font()
    hist = pd.DataFrame({"epoch": [0.5, 1.0], "train_loss": [1.0, 0.8], "val_loss": [0.9, 0.85]})
    ax = classify.plot_history(hist)
    assert len(ax.lines) == 2
    ax = classify.plot_confusion([0, 1, 2, 2], [0, 2, 2, 2])
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["0 일상", "1 이별", "2 사랑"]
    ax.figure.canvas.draw()
    assert not [w for w in recwarn if "missing from font" in str(w.message)]  # Hangul glyphs exist
    plt.close("all")


def _meta_bert_base():
    """A BERT-base-shaped classifier with no memory behind its weights (parameter counts only)."""
    from transformers import BertConfig, BertForSequenceClassification

    with torch.device("meta"):
        return BertForSequenceClassification(BertConfig(num_labels=2))


def test_training_plan_follows_the_runtime_plan(fast_build):
    _, model = _fresh(fast_build)
    n = sum(p.numel() for p in model.parameters())
    full = classify.training_plan(model, 8000, epochs=3, lr=2e-4)
    assert (full.epochs, full.examples, full.lr, full.reduced, full.parameters) == (3, 8000, 2e-4, False, n)
    assert full.plan.device == "cpu" and full.note.startswith(f"{n:,} parameters: 3 epoch(s) over 8,000 of 8,000")
    large = _meta_bert_base()
    cpu = classify.training_plan(large, 8000, epochs=3, lr=2e-4, device="cpu")
    assert cpu.reduced and cpu.examples < 8000 and cpu.lr == classify.LARGE_MODEL_MAX_LR
    assert "compute per token" in cpu.note and cpu.parameters > classify.LARGE_MODEL_PARAMETERS
    gpu = classify.training_plan(large, 8000, epochs=3, lr=2e-4, device="cuda")
    assert (gpu.epochs, gpu.examples, gpu.lr, gpu.reduced) == (3, 8000, classify.LARGE_MODEL_MAX_LR, False)
    tiny = classify.training_plan(large, 300, epochs=3, lr=1e-5, device="cuda")
    assert (tiny.examples, tiny.lr) == (300, 1e-5)  # never more examples than exist, never a larger lr


def test_lesson_plan_and_scale_sizes_come_from_the_runtime(fast_build, monkeypatch):
    from helpers.runtime import Plan, non_embedding_params

    _, model = _fresh(fast_build)
    plan = classify.lesson_plan("sentiment", model, train_size=4000, epochs=2, batch_size=32, max_length=64,
                                eval_size=3000)
    assert (plan.train_size, plan.epochs, plan.eval_size, plan.note) == (4000, 2, 3000, "")
    assert plan.line().startswith("plan (sentiment, cpu): 4,000 examples x 2 epoch(s), batch 32, 64 tokens")
    assert classify.lesson_plan("ner", model, Plan(100, 4, 16, 128), est_seconds=75.0).line().endswith("about 75 s")
    large = _meta_bert_base()
    cut = classify.lesson_plan("sentiment", large, Plan(4000, 2, 32, 64, 3000), device="cpu")
    assert cut.train_size < 4000 and "compute per token" in cut.line()
    grown = classify.lesson_plan("sentiment", large, Plan(4000, 2, 32, 64, 3000), device="cuda", max_train_size=50_000)
    assert grown.train_size > 4000 and "grows" in grown.note
    assert classify.scale_sizes(model, [500, 2000, 4000]) == [500, 2000, 4000]  # the lesson model: unchanged
    assert classify.scale_sizes(large, [500, 4000], device="cpu") == [200]  # shrunk to the floor (once)
    assert classify.scale_sizes(large, [500, 4000], device="cuda") == [500, 4000]  # a GPU: never more than asked
    assert classify.compute_per_token(model) == non_embedding_params(model)
    monkeypatch.setenv("KO_BERT_FAST", "1")
    assert classify.scale_sizes(model, [500, 2000, 4000]) == [64, 250, 500]
    assert classify.lesson_plan("sentiment", model, Plan(4000, 2, 32, 64, 3000)).epochs == 1


def test_stratified_subset_keeps_label_shares(split):
    train = split[0]
    sub = classify.stratified_subset(train, 1000, seed=42)
    assert len(sub) == 1000 and set(sub.question) <= set(train.question)
    diff = sub.label.value_counts(normalize=True) - train.label.value_counts(normalize=True)
    assert diff.abs().max() < 0.01
    pd.testing.assert_frame_equal(sub, classify.stratified_subset(train, 1000, seed=42))
    assert classify.stratified_subset(train, len(train) + 5) is train


def test_curve_plan_sizes_lesson_05_by_model_and_device(monkeypatch):
    """Lesson 05's plan: tiny-ko-bert keeps the lesson's settings; a BERT-base shape gets BERT's learning
    rates, a cut plan on a CPU (minutes, said in the note) and a grown main run on a GPU."""
    from transformers import BertConfig

    from helpers.classify import budget

    monkeypatch.delenv("KO_BERT_FAST", raising=False)
    lesson = dict(epochs=2, min_examples=3000, lr_grid=(1e-4, 3e-4, 1e-3), val_size=500, test_size=3000)
    tiny = BertConfig(vocab_size=8000, hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                      intermediate_size=512, max_position_embeddings=128)
    for device in ("cpu", "cuda"):
        kept = budget.curve_plan(tiny, (500, 2000, 4000), device=device, **lesson)
        assert (kept.sizes, kept.epochs, kept.min_examples, kept.lr_grid, kept.val_size, kept.test_size, kept.note) == \
            ((500, 2000, 4000), 2, 3000, (1e-4, 3e-4, 1e-3), 500, 3000, "")
    assert kept.line().startswith("plan (sentiment, cuda): training sizes 500, 2,000, 4,000, 2 epoch(s) (at least 3,000")

    base = BertConfig(vocab_size=8000)  # 12 layers x 768
    cpu = budget.curve_plan(base, (500, 2000, 4000), device="cpu", **lesson)
    assert len(cpu.sizes) == 1 and budget.CPU_CURVE_MIN_TRAIN <= cpu.sizes[0] < 4000
    assert (cpu.epochs, cpu.min_examples, cpu.val_size, cpu.test_size) == (1, 0, budget.CPU_CURVE_VAL, budget.CPU_CURVE_TEST)
    assert cpu.lr_grid == (budget.BASE_LR_GRID[1],) and cpu.est_seconds <= budget.CPU_CURVE_SECONDS
    assert "on a CPU the lesson trains 1 epoch" in cpu.note and "BERT's usual learning rates" in cpu.note
    assert cpu.est_seconds == budget.curve_seconds(cpu, budget.non_embedding_params(base))
    gpu = budget.curve_plan(base, (500, 2000, 4000), device="cuda", **lesson)
    assert gpu.sizes[:2] == (500, 2000) and 10_000 <= gpu.sizes[-1] <= budget.GPU_CURVE_MAX_TRAIN  # tens of thousands
    assert gpu.lr_grid == budget.BASE_LR_GRID and (gpu.epochs, gpu.val_size, gpu.test_size) == (2, 500, 3000)
    assert "grows to" in gpu.note

    monkeypatch.setenv("KO_BERT_FAST", "1")  # tests: the sizes shrink as scale_sizes does
    fast = budget.curve_plan(tiny, (500, 2000, 4000), device="cpu", **lesson)
    assert fast.sizes == (64, 250, 500) and fast.lr_grid == (1e-4, 3e-4, 1e-3)


def test_curve_seconds_counts_every_run_of_lesson_05():
    from helpers.classify import budget
    from helpers.runtime import Plan, estimate_seconds

    plan = budget.CurvePlan((100, 200, 400), 2, 0, (1e-4, 1e-3), 50, 300, 0.0)
    params = 1_000_000
    e = lambda n, scored, epochs=2: estimate_seconds(Plan(n, epochs, 32, 64, eval_size=scored), params)  # noqa: E731
    expected = 2 * 2 * e(200, 50 * 2 + 50) + 2 * e(400, 50 * 2 + 300) + 2 * e(100, 50 * 2 + 300) \
        + 2 * estimate_seconds(Plan(0, 1, 32, 64, eval_size=300), params)
    assert abs(budget.curve_seconds(plan, params) - expected) < 1e-9
    # one size: the search's chosen runs are the main runs, so only their test set is added
    one = budget.CurvePlan((400,), 1, 0, (3e-5,), 50, 300, 0.0)
    expected = 2 * e(400, 50 + 50, epochs=1) + 2 * estimate_seconds(Plan(0, 1, 32, 64, eval_size=300), params)
    assert abs(budget.curve_seconds(one, params) - expected) < 1e-9
