"""Choose the weights of the combined chatbot methods (lesson 04) on the leave-one-out set.

Run from the repository root:

    CHATBOT_DATA=... BERT_MODEL=tiny-ko-bert HF_HUB_OFFLINE=1 python benchmarks/tune_weights.py

For ``hybrid``, ``kiwi-hybrid`` and ``ensemble`` (TF-IDF + kiwi + the Sentence-BERT) it scores
every weight vector on a 0.05 grid (non-negative, summing to 1) by mean reciprocal rank on the
leave-one-out queries (questions of the held-out answers; tiny-ko-sbert never trained on them),
ties broken by top-1. The paraphrase sets are not looked at for the choice: they stay a test.
The grid includes every single component (weight 1), so ``default_method`` is ``ensemble`` only
if combining beats each component alone on leave-one-out; otherwise it is that component's method.
Writes ``benchmarks/results/weights.json``; copy the winners into
``helpers.chatbot.METHOD_WEIGHTS`` and ``default_method`` into ``helpers.chatbot.DEFAULT_METHOD``.

It also records a *ceiling*, never used for the choice: the best top-1 and top-5 that any
weighting of the ``ensemble`` components on the same grid reaches on each paraphrase set,
each metric maximised on the test set itself. If a target is above that ceiling, no
reweighting of these components can reach it.
"""
from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "weights.json"
STEP = 0.05
COMPONENTS = {"hybrid": ("tfidf", "dense"), "kiwi-hybrid": ("tfidf", "kiwi"), "ensemble": ("tfidf", "kiwi", "dense")}


def grid(k: int):
    """All weight vectors of ``k`` components on the STEP grid that sum to 1."""
    n = round(1 / STEP)
    for head in itertools.product(range(n + 1), repeat=k - 1):
        if sum(head) <= n:
            yield tuple(round(h * STEP, 2) for h in head) + (round((n - sum(head)) * STEP, 2),)


def score_grid(parts: dict, names, answers, expected, exclude=None):
    """Yield ``(weights, metrics)`` for every weight vector of the components ``names`` on the grid."""
    from helpers import chatbot

    for weights in grid(len(names)):
        total = sum(np.float32(w) * parts[name] for w, name in zip(weights, names) if w)
        yield dict(zip(names, weights)), chatbot.metrics(chatbot.ranks_from_scores(total, answers, expected, exclude))


def components(ensemble, hybrid, queries) -> dict:
    """Every component's scores, computed once: TF-IDF, kiwi and the Sentence-BERT from the
    ``ensemble`` index, the input-embedding average (``hybrid``'s dense part) as ``embed``."""
    parts = ensemble.component_scores(queries)
    parts["embed"] = hybrid.encoder(queries) @ hybrid.dense.T
    return parts


def parts_of(method: str, parts: dict) -> dict:
    """The components of ``method`` under the names its weights use (``dense``: its own encoder)."""
    dense = "embed" if method == "hybrid" else "dense"
    return {name: parts[dense if name == "dense" else name] for name in COMPONENTS[method]}


def ceiling(ensemble, hybrid, answers) -> dict:
    """Best top-1 / top-5 over the grid on each paraphrase set, maximised on that set (not a choice)."""
    from helpers.data import paraphrases

    names = COMPONENTS["ensemble"]
    out = {}
    for kind in paraphrases.PARAPHRASE_SETS:
        queries, expected = paraphrases.load_paraphrases(kind)
        parts = parts_of("ensemble", components(ensemble, hybrid, queries))
        best = {"top1": (-1.0, None), "top5": (-1.0, None)}
        for weights, m in score_grid(parts, names, answers, expected):
            for key in best:
                if m[key] > best[key][0]:
                    best[key] = (m[key], weights)
        out[kind] = {key: {"value": v, "weights": w} for key, (v, w) in best.items()}
    return out


def main() -> int:
    import helpers
    from helpers import chatbot, splits

    helpers.setup("04-weights")
    model_name = helpers.resolve_model_name()
    questions, answers = chatbot._default_corpus()
    queries, expected, exclude = chatbot.leave_one_out_set(questions, answers,
                                                           splits.split_answers(questions, answers))
    result = {"model": helpers.display_name(model_name), "selected_on": "leave-one-out MRR (ties: top-1)",
              "queries": len(queries), "step": STEP, "methods": {}}
    ensemble = chatbot.load_or_build_index("ensemble", model_name)
    hybrid = chatbot.load_or_build_index("hybrid", model_name)
    loo_parts = components(ensemble, hybrid, queries)
    for method, names in COMPONENTS.items():
        scored = sorted(score_grid(parts_of(method, loo_parts), names, answers, expected, exclude),
                        key=lambda r: (-r[1]["mrr"], -r[1]["top1"]))  # stable: ties keep grid order
        weights, m = scored[0]
        result["methods"][method] = {"weights": weights, "leave_one_out": m,
                                     "runners_up": [{"weights": w, **rm} for w, rm in scored[1:4]]}
        print(method, json.dumps(weights), json.dumps(m), flush=True)
    single = {"tfidf": "tfidf", "kiwi": "kiwi", "dense": "sbert"}
    chosen = {k: w for k, w in result["methods"]["ensemble"]["weights"].items() if w}
    result["default_method"] = "ensemble" if len(chosen) > 1 else single[next(iter(chosen))]
    print("default method:", result["default_method"], flush=True)
    result["ceiling_on_test_sets"] = ceiling(ensemble, hybrid, answers)
    print("ceiling", json.dumps(result["ceiling_on_test_sets"]), flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
