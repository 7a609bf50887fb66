"""Benchmark for lesson 06: training time and tokenization speed of each strategy.

Run: ``python benchmarks/tokenization_bench.py`` (needs ChatbotData.csv: $CHATBOT_DATA or the cache).
Prints one line per strategy: vocabulary size, seconds to train, held-out sentences per second.
Uses the same split and corpus as the notebook (train questions + their answers; test questions held out).
Timings depend on the machine and its load; they are not compared anywhere.
"""
from __future__ import annotations

import time

import helpers
from helpers import classify, tokenization


def main() -> None:
    helpers.setup("bench-06")
    df = helpers.load_chatbot_data()
    train, _, test = classify.split_questions(df, val_size=0.1, test_size=0.2, seed=42)
    corpus = sorted(set(train.question) | set(df.loc[df.question.isin(set(train.question)), "answer"]))
    heldout = list(test.question)

    t0 = time.perf_counter()
    analyzer = tokenization.MorphemeAnalyzer()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    analyzer.analyze_many(corpus)
    analyse_s = time.perf_counter() - t0
    print(f"kiwipiepy: load {load_s:.1f}s, analyse {len(corpus):,} training texts {analyse_s:.1f}s "
          f"({len(corpus) / analyse_s:,.0f} texts/s)")

    builders = [
        ("syllable", lambda: tokenization.syllable_strategy(corpus)),
        ("WordPiece 4k", lambda: tokenization.wordpiece_strategy(corpus, 4000)),
        ("WordPiece 8k", lambda: tokenization.wordpiece_strategy(corpus, 8000)),
        ("morpheme", lambda: tokenization.morpheme_strategy(corpus, analyzer)),
        ("morpheme->WordPiece 4k", lambda: tokenization.morpheme_wordpiece_strategy(corpus, analyzer, 4000)),
    ]
    fresh = tokenization.MorphemeAnalyzer()  # an empty cache, so morpheme timings include the analysis
    for name, build in builders:
        t0 = time.perf_counter()
        strategy = build()
        train_s = time.perf_counter() - t0
        if strategy.family.startswith("morpheme"):
            analyzer._cache, saved = fresh._cache, analyzer._cache  # time held-out analysis from scratch
        t0 = time.perf_counter()
        n_tokens = sum(len(strategy(s)) for s in heldout)
        tok_s = time.perf_counter() - t0
        if strategy.family.startswith("morpheme"):
            analyzer._cache = saved
            fresh._cache = {}
        print(f"{name:<24} vocab {strategy.vocab_size:>5}  train {train_s:6.2f}s  "
              f"tokenize {len(heldout) / tok_s:>9,.0f} sentences/s  ({n_tokens / len(heldout):.2f} tokens/sentence)")


if __name__ == "__main__":
    main()
