"""benchmarks/sbert_curve.py (issue 22): candidate recipes are valid, and the report chooses on KorSTS dev only."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def curve(benchmark_module):
    return benchmark_module("sbert_curve")


def test_every_candidate_is_the_v1_recipe_changed_only_where_it_says_and_the_shipped_one_is_a_candidate(curve):
    import dataclasses

    from helpers.sbert.train import SbertConfig

    v1 = {**dataclasses.asdict(SbertConfig()), **curve.V1_RECIPE}
    for name, (overrides, description) in curve.CANDIDATES.items():
        config = curve.candidate_config(name, eval_steps=100, threads=1, max_steps=None)
        changed = {k for k, v in dataclasses.asdict(config).items() if v != v1[k]}
        assert changed <= set(overrides) | {"eval_steps"}, name
        assert config.eval_steps == 100 and description
    # the shipped defaults are the candidate that KorSTS dev chose (the model card and training.json say which)
    assert curve.candidate_config("rounds16-lr4e-4", eval_steps=100, threads=1, max_steps=None) == SbertConfig()
    assert curve.candidate_key("rounds8", "tiny-ko-bert", None) == "rounds8"
    assert curve.candidate_key("rounds8", "tiny-ko-bert", 20) == "rounds8-max20"


def _row(dev: float, test: float, sources=("parakqc", "question_pair", "chatbot", "korsts")) -> dict:
    chat = {s: {"top1": 0.1, "top5": 0.2, "mrr": 0.15} for s in ("hard", "natural", "leave_one_out")}
    return {"base_model": "tiny-ko-bert", "recipe": {"sources": list(sources)}, "steps": 100, "best_step": 100,
            "dev_curve": [{"step": 0, "spearman": 50.0}, {"step": 100, "spearman": dev}],
            "korsts": {"dev": {"spearman": dev}, "test": {"spearman": test}},
            "question_pair_test": {"roc_auc": 77.0}, "parakqc": {"top1": 0.8}, "trained_on_parakqc": "parakqc" in sources,
            "chatbot": chat, "train_seconds": 10.0, "train_cpu_seconds": 9.0}


def test_the_report_chooses_by_korsts_dev_never_by_test(curve):
    floor = {"korsts": {"dev": 67.0, "test": 60.0}, "question_pair_test": {"roc_auc": 78.0}, "parakqc": {"top1": 0.8},
             "chatbot": {s: {"top1": 0.3} for s in ("hard", "natural", "leave_one_out")}}
    results = {"floors": {"tiny-ko-bert": {"whitened mean": floor}},
               "candidates": {"a": _row(dev=70.0, test=55.0), "b": _row(dev=65.0, test=62.0, sources=("korsts",))}}
    results["candidates"]["probe"] = _row(dev=75.0, test=50.0, sources=("korsts",))  # drops sources: never chosen
    text = curve.report(results)
    assert ("Chosen by KorSTS dev among the candidates trained on every source: **a** (dev 70.00); "
            "KorSTS test 55.00, not above whitened mean (60.00)") in text
    lines = text.splitlines()
    assert lines.index(next(x for x in lines if x.startswith("| a |"))) < lines.index(next(x for x in lines if x.startswith("| b |")))
    assert "| 80.0† |" in next(x for x in lines if x.startswith("| a |"))   # trained on ParaKQC: not held out
    assert "| 80.0 |" in next(x for x in lines if x.startswith("| b |"))
