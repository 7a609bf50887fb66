"""Training data of ``tiny-ko-sbert``, with every evaluation set kept out (lesson 02, lesson 04).

Four supervised sources, each a ``datasets.Dataset`` for one sentence-transformers loss:

- ``parakqc``: ParaKQC paraphrase sets (1,000 sets of 10) -> (anchor, positive) pairs;
- ``question_pair``: Question_pair train duplicates (``is_duplicate == 0``) -> pairs;
- ``chatbot``: Chatbot_data questions that share an answer -> pairs;
- ``korsts``: KorSTS train (sentence1, sentence2, score / 5) for CoSENT.

The pair sets carry a ``label`` column: the id of the paraphrase group a pair comes from
(connected components over the pairs), so that :class:`helpers.sbert.train.DistinctGroupBatchSampler`
never puts two pairs of one group in a batch (they would be false in-batch negatives).
Every round draws new pairs from each group (``rounds`` reshuffles, seeded).

Held out, never trained on (:func:`helpers.splits.held_out`, re-exported here): KorSTS test and dev,
Question_pair test (and any training pair that shares a sentence with those), the chatbot's
leave-one-out answers and the answers of its two paraphrase sets; any Question_pair pair touching one
of their questions is dropped.
"""
from __future__ import annotations

import random
from collections import defaultdict

from ..data import load_chatbot_data, load_korsts, load_parakqc, load_question_pair
from ..splits import held_out


def components(pairs: list[tuple[str, str]]) -> list[list[str]]:
    """Connected components (sorted lists of texts, sorted) of the graph whose edges are ``pairs``."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups = defaultdict(list)
    for x in parent:
        groups[find(x)].append(x)
    return sorted((sorted(g) for g in groups.values() if len(g) >= 2), key=lambda g: g[0])


def group_pairs(groups: list[list[str]], rounds: int, seed: int) -> dict[str, list]:
    """``rounds`` reshuffles of each group cut into consecutive pairs: columns anchor, positive, label.

    A group of n texts gives n // 2 disjoint pairs per round (a group of 3 leaves one out, a
    different one each round); ``label`` is the group's index.
    """
    rng = random.Random(seed)
    cols = {"anchor": [], "positive": [], "label": []}
    for _ in range(rounds):
        for gid, group in enumerate(groups):
            texts = list(group)
            rng.shuffle(texts)
            for i in range(0, len(texts) - 1, 2):
                cols["anchor"].append(texts[i])
                cols["positive"].append(texts[i + 1])
                cols["label"].append(gid)
    return cols


def training_sets(rounds: int = 1, seed: int = 42, sources=None, questions=None, answers=None):
    """The four training sets as ``{name: datasets.Dataset}`` plus a summary of what was kept and dropped.

    ``sources`` restricts the names (default: all four); ``questions``/``answers`` default to all of
    Chatbot_data (the held-out split is always computed on the full corpus's rules).
    """
    from datasets import Dataset

    if questions is None:
        df = load_chatbot_data()
        questions, answers = list(df["question"]), list(df["answer"])
    hold = held_out(questions, answers)
    sources = tuple(sources or ("parakqc", "question_pair", "chatbot", "korsts"))
    sets, summary = {}, {"held_out": hold.summary(), "sources": {}}

    if "parakqc" in sources:
        pk = load_parakqc()
        groups = [sorted(set(g) - hold.sentences) for _, g in pk.groupby("set_id")["sentence"]]
        groups = [g for g in groups if len(g) >= 2]
        cols = group_pairs(groups, rounds, seed)
        sets["parakqc"] = Dataset.from_dict(cols)
        summary["sources"]["parakqc"] = {"groups": len(groups), "pairs": len(cols["anchor"])}

    if "question_pair" in sources:
        qp = load_question_pair("train")
        dup = qp[qp["is_duplicate"] == 0]
        pairs = [(a, b) for a, b in zip(dup["question1"], dup["question2"]) if a != b]
        kept = [(a, b) for a, b in pairs if not hold.touches(a, b)]
        groups = components(kept)
        cols = group_pairs(groups, rounds, seed + 1)
        sets["question_pair"] = Dataset.from_dict(cols)
        summary["sources"]["question_pair"] = {"duplicate_pairs": len(pairs), "dropped_touching_held_out":
                                               len(pairs) - len(kept), "groups": len(groups),
                                               "pairs": len(cols["anchor"])}

    if "chatbot" in sources:
        by_answer = defaultdict(set)
        for q, a in zip(questions, answers):
            if a not in hold.chatbot_answers and not hold.touches(q):
                by_answer[a].add(q)
        links = []
        for a in sorted(by_answer):
            qs = sorted(by_answer[a])
            links += [(qs[0], q) for q in qs[1:]]
        groups = components(links)
        cols = group_pairs(groups, rounds, seed + 2)
        sets["chatbot"] = Dataset.from_dict(cols)
        summary["sources"]["chatbot"] = {"held_out_answers": len(hold.chatbot_answers), "groups": len(groups),
                                         "pairs": len(cols["anchor"])}

    if "korsts" in sources:
        sts = load_korsts("train")
        keep = ~(sts["sentence1"].isin(hold.sentences) | sts["sentence2"].isin(hold.sentences))
        kept = sts[keep]
        cols = {"sentence1": list(kept["sentence1"]) * rounds, "sentence2": list(kept["sentence2"]) * rounds,
                "score": [float(s) / 5.0 for s in kept["score"]] * rounds}
        sets["korsts"] = Dataset.from_dict(cols)
        summary["sources"]["korsts"] = {"pairs": int(keep.sum()), "dropped_sharing_a_test_sentence":
                                        int((~keep).sum()), "rows_with_rounds": len(cols["score"])}
    return sets, summary


def korsts_dev():
    """KorSTS dev as ``(sentences1, sentences2, scores 0-1)`` for the build's evaluator (never trains)."""
    df = load_korsts("dev")
    return list(df["sentence1"]), list(df["sentence2"]), [float(s) / 5.0 for s in df["score"]]
