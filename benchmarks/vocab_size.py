"""Benchmark: how tiny-ko-bert's WordPiece vocabulary size was chosen.

Usage: python benchmarks/vocab_size.py [--sizes 4000 8000 16000 32000] [--texts 200000]

Trains a WordPiece of each size on the pretraining corpus (a seeded sample of its texts, same
trainer and settings as the build) and measures, on reviews of held-out movies and held-out
chatbot questions: word pieces per sentence (more pieces = fewer sentences per 64-piece
sequence), the share of words kept whole, the [UNK] rate, and the parameters and time that the
embedding + masked-LM output layer cost per training step for a hidden size of 128.
Writes benchmarks/results/vocab_size.json.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000, 8000, 16000, 32000])
    parser.add_argument("--texts", type=int, default=200000, help="corpus texts sampled to train each tokenizer")
    parser.add_argument("--hidden", type=int, default=128)
    args = parser.parse_args()

    import tempfile

    import torch

    from helpers.pretrain import PretrainConfig, build_corpus, corpus_texts, heldout_texts
    from helpers.wordpiece import make_bert_tokenizer, train_wordpiece

    torch.set_num_threads(2)
    config = PretrainConfig()
    with tempfile.TemporaryDirectory() as tmp:
        build_corpus(config, Path(tmp), log=lambda *a: None)
        texts = corpus_texts(Path(tmp))
    pick = np.random.default_rng(0).permutation(len(texts))[: args.texts]
    sample = [texts[i] for i in sorted(pick)]
    reviews, questions = heldout_texts(config)
    reviews = [reviews[i] for i in sorted(np.random.default_rng(1).permutation(len(reviews))[:5000])]
    rows = []
    for size in args.sizes:
        t0 = time.perf_counter()
        wp = train_wordpiece(sample, size, min_char_count=config.min_char_count)
        tok = make_bert_tokenizer(wp.get_vocab(), 512)
        train_s = time.perf_counter() - t0
        row = {"vocab_size": len(tok), "train_seconds": round(train_s, 1)}
        for name, sents in (("reviews", reviews), ("questions", questions)):
            pieces = tok(sents, add_special_tokens=False)["input_ids"]
            words = [w for s in sents for w in s.split()]
            word_pieces = tok(words, add_special_tokens=False)["input_ids"]
            row[name] = {
                "pieces_per_sentence": round(float(np.mean([len(p) for p in pieces])), 2),
                "words_kept_whole": round(float(np.mean([len(p) == 1 for p in word_pieces])), 4),
                "unk_rate": round(float(np.mean([t == tok.unk_token_id for p in pieces for t in p])), 5),
            }
        # cost of the vocabulary in a training step: tied embedding/decoder at ~600 masked positions
        emb = torch.nn.Embedding(len(tok), args.hidden)
        hidden = torch.randn(600, args.hidden, requires_grad=True)
        target = torch.randint(0, len(tok), (600,))
        opt = torch.optim.AdamW(emb.parameters())
        for _ in range(3):
            torch.nn.functional.cross_entropy(hidden @ emb.weight.T, target).backward()
            opt.step()
            opt.zero_grad()
        t0 = time.perf_counter()
        for _ in range(20):
            torch.nn.functional.cross_entropy(hidden @ emb.weight.T, target).backward()
            opt.step()
            opt.zero_grad()
        row["output_layer_ms_per_step"] = round((time.perf_counter() - t0) / 20 * 1000, 1)
        row["embedding_parameters"] = len(tok) * args.hidden
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False))
    out = HERE / "results" / "vocab_size.json"
    out.write_text(json.dumps({"texts_sampled": len(sample), "hidden": args.hidden, "rows": rows},
                              ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
