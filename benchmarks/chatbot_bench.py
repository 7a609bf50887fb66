"""Benchmark for lesson 04 (issue 5): retrieval accuracy, query latency, index build, speed-up.

Run from the repository root:

    CHATBOT_DATA=... BERT_MODEL=tiny-ko-bert HF_HUB_OFFLINE=1 python benchmarks/chatbot_bench.py

Writes ``benchmarks/results/chatbot.json`` and prints a table. Measures, for every method in
``helpers.chatbot.METHODS``: top-1 / top-5 / MRR on the two shipped paraphrase sets (``hard``, ``natural``) and on the
leave-one-out set (held-out answers), and query latency (encode + search over all rows).
For the default method and for ``cls``: index build cold (empty index cache, model loaded from
disk; the contrastive fine-tune behind ``ensemble`` is trained first and timed separately, as
a one-off model build) and warm (cached index). The lecture's per-query re-encoding is timed on a slice of stored
questions and extrapolated linearly to the full corpus (its cost is proportional to N).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "chatbot.json"
SLICE = 50
LECTURE_QUERIES = ["감기 걸린 것 같아", "게임만 하고 싶다", "결혼식 축가 뭐 부르지"]


def lecture_seconds_per_query(model, tokenizer, stored: list[str]) -> float:
    """The lecture's algorithm: every query re-encodes every stored question, one at a time."""
    import torch

    def cls(text):
        with torch.inference_mode():
            return model(**tokenizer(text, return_tensors="pt")).last_hidden_state[:, 0]

    start = time.perf_counter()
    for query in LECTURE_QUERIES:
        q = cls(query)
        sims = [torch.cosine_similarity(q, cls(s)).item() for s in stored]
        int(np.argmax(sims))
    return (time.perf_counter() - start) / len(LECTURE_QUERIES)


def build_times(method: str, model_name: str) -> dict:
    from helpers import chatbot

    with tempfile.TemporaryDirectory() as root:
        chatbot._MODEL_MEMO.clear()
        chatbot._RAW_MEMO.clear()
        chatbot._KIWI_MEMO.clear()
        cold = chatbot.load_or_build_index(method, model_name, root=root)  # includes loading kiwi / the model
        chatbot._MODEL_MEMO.clear()
        chatbot._KIWI_MEMO.clear()
        warm = chatbot.load_or_build_index(method, model_name, root=root)  # includes loading the BERT model
        assert warm.from_cache
        start = time.perf_counter()
        warm.answer(LECTURE_QUERIES[0])  # the first query loads the kiwi analyser if the method needs it
        first_query = time.perf_counter() - start
        warm_loaded = chatbot.load_or_build_index(method, model_name, root=root)  # model already in memory
    return {"index_build_cold_s": round(cold.build_seconds, 3), "index_build_warm_s": round(warm.build_seconds, 3),
            "first_query_after_warm_load_s": round(first_query, 3),
            "index_build_warm_model_in_memory_s": round(warm_loaded.build_seconds, 3)}


def main() -> int:
    import helpers
    from helpers import chatbot

    helpers.setup("04-bench")
    model_name = helpers.resolve_model_name()
    questions, answers = chatbot._default_corpus()
    para_q, para_a = chatbot.load_paraphrases("hard")
    nat_q, nat_a = chatbot.load_paraphrases("natural")
    loo_q, loo_a, loo_x = chatbot.leave_one_out_set(questions, answers, chatbot.split_answers(questions, answers))
    default = chatbot.default_method(model_name)
    start = time.perf_counter()
    encoder_dir = chatbot.ensure_contrastive_encoder(model_name, questions, answers, log=print)
    finetune_s = time.perf_counter() - start  # ~0 if it was already cached
    training = json.loads((encoder_dir / "training.json").read_text(encoding="utf-8"))
    methods = {}
    for method in chatbot.METHODS:
        index = chatbot.build_index(method, model_name, questions, answers)
        row = {"paraphrase": chatbot.metrics(chatbot.answer_ranks(index, para_q, para_a)),
               "paraphrase_natural": chatbot.metrics(chatbot.answer_ranks(index, nat_q, nat_a)),
               "leave_one_out": chatbot.metrics(chatbot.answer_ranks(index, loo_q, loo_a, exclude=loo_x))}
        chatbot.latency_ms(index, para_q[:10])  # warm-up
        row.update(chatbot.latency_ms(index, para_q, repeats=3))
        methods[method] = row
        print(method, json.dumps(row, ensure_ascii=False), flush=True)
    builds = {m: build_times(m, model_name) for m in (default, "cls")}
    tokenizer, model = chatbot._model(model_name)
    lecture_slice_s = lecture_seconds_per_query(model, tokenizer, questions[:SLICE])
    lecture_full_s = lecture_slice_s * len(questions) / SLICE
    best = methods[default]
    tfidf = methods["tfidf"]
    result = {
        "model": helpers.display_name(model_name),
        "default_method": default,
        "method_weights": chatbot.METHOD_WEIGHTS,
        "contrastive_finetune": {"train_seconds": training["train_seconds"],
                                 "seconds_this_run": round(finetune_s, 1), **{k: training[k] for k in (
                                     "steps", "batch_size", "groups", "held_out_answers", "loss_first",
                                     "loss_last_50_mean")}},
        "rows": len(questions),
        "paraphrase_queries": len(para_q),
        "paraphrase_natural_queries": len(nat_q),
        "leave_one_out_queries": len(loo_q),
        "methods": methods,
        "default_minus_tfidf_top1_points": round(100 * (best["paraphrase"]["top1"] - tfidf["paraphrase"]["top1"]), 1),
        "default_minus_tfidf_top1_points_natural": round(
            100 * (best["paraphrase_natural"]["top1"] - tfidf["paraphrase_natural"]["top1"]), 1),
        "build": builds,
        "lecture_way": {
            "slice": SLICE,
            "seconds_per_query_on_slice": round(lecture_slice_s, 3),
            "seconds_per_query_full_corpus_extrapolated": round(lecture_full_s, 1),
            "note": "the lecture's per-query re-encoding was timed on a slice and extrapolated linearly to all rows",
            "speedup_vs_default_p50": round(lecture_full_s / (best["ms_per_query_p50"] / 1000)),
            "speedup_vs_cls_p50": round(lecture_full_s / (methods["cls"]["ms_per_query_p50"] / 1000)),
        },
        "machine": {"cpus": os.cpu_count(), "load_average_1m_at_end": round(os.getloadavg()[0], 2)},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"\n{'method':12s} | hard top1 top5 mrr | natural top1 top5 mrr | loo top1 top5 mrr | p50 ms")
    for m, r in methods.items():
        cells = [" ".join(f"{r[part][k]:.3f}" for k in ("top1", "top5", "mrr"))
                 for part in ("paraphrase", "paraphrase_natural", "leave_one_out")]
        print(f"{m:12s} | " + " | ".join(cells) + f" | {r['ms_per_query_p50']:.1f}")
    print(json.dumps({"build": builds, "lecture_way": result["lecture_way"]}, indent=1))
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
