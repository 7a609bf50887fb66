"""``python -m helpers.chatbot ask|chat|eval`` (lesson 04)."""
from __future__ import annotations

import json
import sys

from ..data.paraphrases import load_eval_tsv
from ..lesson import quiet_libraries, seed_everything
from ..models import display_name
from .evaluation import answer_ranks, latency_ms, metrics
from .index import Hit
from .inputs import MAX_QUERY_CHARS, ChatbotError, clean_query
from .methods import DEFAULT_METHOD, METHODS
from .store import load_or_build_index


def _print_hit(hit: Hit) -> None:
    print(hit.answer)
    print(f"  (matched: {hit.question} | score {hit.score:.3f})")


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m helpers.chatbot",
        description="Retrieval chatbot over Chatbot_data. Default method: "
                    f"'{DEFAULT_METHOD}' (see --method); 'sbert' and 'ensemble' use the shipped Sentence-BERT "
                    "tiny-ko-sbert, the raw BERT methods (cls, pooler, mean, embed, hybrid) the model in $BERT_MODEL.")
    parser.add_argument("--method", default=None, choices=METHODS,
                        help=f"default: {DEFAULT_METHOD}")
    parser.add_argument("--model", default=None, help="hub id, local dir or tiny-ko-bert (default: $BERT_MODEL)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_ask = sub.add_parser("ask", help="answer one question")
    p_ask.add_argument("query")
    p_ask.add_argument("-k", type=int, default=1, help="show the top k answers")
    sub.add_parser("chat", help="terminal chat loop (empty line or Ctrl-D to quit)")
    p_eval = sub.add_parser("eval", help="evaluate on a TSV with columns query, expected_answer")
    p_eval.add_argument("file")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except (ChatbotError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    quiet_libraries(True)
    seed_everything()
    if args.command == "eval":
        queries, expected = load_eval_tsv(args.file)  # validate before any heavy work
    if args.command == "ask":
        text, truncated = clean_query(args.query)
        if truncated:
            print(f"note: the query was longer than {MAX_QUERY_CHARS} characters and was truncated.",
                  file=sys.stderr)
    index = load_or_build_index(args.method, args.model)
    if args.command == "ask":
        for hit in index.search(text, k=max(1, args.k)):
            _print_hit(hit)
        return 0
    if args.command == "chat":
        print(f"chatbot ({display_name(index.model_name)}, {index.method}) - empty line or Ctrl-D to quit")
        while True:
            try:
                line = input("> ")
            except (EOFError, KeyboardInterrupt):
                print()
                return 0
            if not line.strip():
                return 0
            text, truncated = clean_query(line)
            if truncated:
                print(f"(truncated to {MAX_QUERY_CHARS} characters)")
            _print_hit(index.answer(text))
    build_s = index.build_seconds
    result = metrics(answer_ranks(index, queries, expected))
    result.update({"model": display_name(index.model_name), "method": index.method,
                   "index_build_s": round(build_s, 3), "index_from_cache": index.from_cache})
    result.update(latency_ms(index, queries[:50]))
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
