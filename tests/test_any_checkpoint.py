"""Every lesson runs on a checkpoint that is not tiny-ko-bert.

A small BERT with its own tokenizer and size is built here (a 3,000-piece cased WordPiece
trained on the Chatbot_data questions, special tokens at other ids than tiny-ko-bert's, 3 layers,
hidden size 96, 3 heads, 128 positions, random weights), saved with ``save_pretrained`` as a
``BertForPreTraining`` (MLM and pair heads), and every notebook in ``notebooks/`` is executed
against it (``BERT_MODEL=<its folder>``) with nbclient in a fresh kernel and a private, empty
``KO_BERT_CACHE`` (what a newcomer has). Outputs are not compared (nbval does that for the
default model); a cell that raises fails the test, and the message names the notebook, the cell
and the error ("cell N" is the index in the notebook's list of cells, markdown included, counted
from 0; "In [k]" is the execution count). All cells run even after a failure, so one run lists
every failing cell (later failures may be consequences of earlier ones: that is said).

Three checkpoints are built (:data:`KINDS`); the lessons train on their normal plan for "small-bert"
and in FAST mode (``KO_BERT_FAST=1``, see :mod:`helpers.runtime.plans`) for the other two, which
check that the code runs, not what it scores.

Each notebook's wall time is printed (with its slowest cells) and written to
``build/any-checkpoint/times.json``.

Run alone:  ``make smoke``  (or ``.venv/bin/python -m pytest tests/test_any_checkpoint.py``).
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REPORT_DIR = ROOT / "build" / "any-checkpoint"
CELL_TIMEOUT = int(os.environ.get("ANY_CHECKPOINT_CELL_TIMEOUT", "1800"))  # seconds per cell

# The checkpoint: deliberately unlike tiny-ko-bert (other vocabulary, size, special-token ids).
VOCAB_SIZE = 3000
SPECIAL_TOKENS = ["[PAD]", "[unused0]", "[unused1]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CONFIG = dict(hidden_size=96, num_hidden_layers=3, num_attention_heads=3, intermediate_size=192,
              max_position_embeddings=128, type_vocab_size=2)
SEED = 1234


KINDS = {
    # a BERT unlike tiny-ko-bert (other vocabulary, size, special-token ids)
    "small-bert": "BertForPreTraining, tokenizer with segment ids",
    # a BERT whose tokenizer returns no token_type_ids (model_input_names without them)
    "bert-no-segment-ids": "BertForPreTraining, tokenizer without token_type_ids",
    # the klue/roberta-base layout: RoBERTa weights (one segment embedding, attribute .roberta,
    # positions offset by the padding id) with a WordPiece tokenizer that does return token_type_ids
    "roberta-wordpiece": "RobertaForMaskedLM (type_vocab_size 1), WordPiece tokenizer with segment ids",
}


def build_small_bert(csv_path: Path, out: Path, kind: str = "small-bert") -> dict:
    """Train the tokenizer, initialise the model of ``kind`` (:data:`KINDS`) and save both with
    ``save_pretrained`` into ``out``."""
    import pandas as pd
    import torch
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece
    from tokenizers.trainers import WordPieceTrainer
    from transformers import AutoTokenizer, BertConfig, BertForPreTraining, BertTokenizerFast

    questions = sorted(set(pd.read_csv(csv_path)["Q"].astype(str)))
    counts = Counter(ch for text in questions for ch in text if not ch.isspace())
    chars = sorted(ch for ch, n in counts.items() if n >= 2)  # a character seen once becomes [UNK]

    def bert_pipeline(tok):
        # cased: an uncased BERT normaliser decomposes Hangul syllables into jamo
        tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                    strip_accents=False, lowercase=False)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece(prefix="##")
        return tok

    # The "##<char>" pieces are registered up front in sorted order so that the trainer's
    # tie-breaking (by piece id) is the same in every process; the trained vocabulary is then
    # loaded into a fresh WordPiece model, so none of them stays a special token.
    trainer = WordPieceTrainer(vocab_size=VOCAB_SIZE, min_frequency=2, show_progress=False,
                               special_tokens=SPECIAL_TOKENS + ["##" + ch for ch in chars],
                               continuing_subword_prefix="##", initial_alphabet=chars, limit_alphabet=len(chars))
    trained = bert_pipeline(Tokenizer(WordPiece(unk_token="[UNK]")))
    trained.train_from_iterator(questions, trainer=trainer)
    vocab = trained.get_vocab()
    backend = bert_pipeline(Tokenizer(WordPiece(vocab=vocab, unk_token="[UNK]", continuing_subword_prefix="##")))
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    extra = {"model_input_names": ["input_ids", "attention_mask"]} if kind == "bert-no-segment-ids" else {}
    tokenizer = BertTokenizerFast(tokenizer_object=backend, do_lower_case=False, strip_accents=False,
                                  model_max_length=CONFIG["max_position_embeddings"], unk_token="[UNK]",
                                  sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]",
                                  **extra)

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # save_pretrained's "Writing model shards" bar
    torch.manual_seed(SEED)
    if kind == "roberta-wordpiece":
        from transformers import RobertaConfig, RobertaForMaskedLM

        shape = {**CONFIG, "type_vocab_size": 1, "max_position_embeddings": CONFIG["max_position_embeddings"] + 2}
        config = RobertaConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                               bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id, **shape)
        model = RobertaForMaskedLM(config).eval()
    else:
        config = BertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, **CONFIG)
        model = BertForPreTraining(config).eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)

    # the folder must load as this checkpoint (transformers v5 can silently load a 5-token vocabulary)
    loaded = AutoTokenizer.from_pretrained(out)
    assert len(loaded) == len(vocab) == VOCAB_SIZE, f"tokenizer reloads with {len(loaded)} tokens, expected {VOCAB_SIZE}"
    sample = "오늘 하루 어떻게 보냈나요?"
    assert loaded.tokenize(sample) == tokenizer.tokenize(sample) and "[UNK]" not in loaded.tokenize(sample)
    ids = loaded("오늘", "하루")
    assert ids["input_ids"][0] == loaded.cls_token_id == vocab["[CLS]"]
    if kind == "bert-no-segment-ids":
        assert "token_type_ids" not in ids
    else:
        assert ids["token_type_ids"][-1] == 1  # roberta-wordpiece too: segment 1 that the model has no row for
    assert loaded.pad_token_id == 0 and loaded.unk_token_id != 1  # special ids differ from tiny-ko-bert's
    return {"kind": kind, "vocab": len(loaded), "parameters": sum(p.numel() for p in model.parameters()),
            "model_type": config.model_type, **{k: getattr(config, k) for k in CONFIG},
            "special_ids": {t: vocab[t] for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")}}


@pytest.fixture(scope="module", params=list(KINDS))
def small_bert(request, tmp_path_factory, csv_path):
    out = tmp_path_factory.mktemp("any-checkpoint") / request.param
    start = time.perf_counter()
    info = build_small_bert(csv_path, out, request.param)
    print(f"\n[any-checkpoint] built {out} in {time.perf_counter() - start:.1f} s: {info}", file=sys.stderr)
    return out


# the checkpoint kind whose lessons train on their normal plan; the others run in FAST mode
# (KO_BERT_FAST=1: helpers.runtime.plan_for shrinks every plan hard) so that CI time stays bounded
FULL_PLAN_KIND = "small-bert"


@pytest.fixture(scope="module")
def kernel_env(small_bert, tmp_path_factory, csv_path):
    """The kernel's environment: the small checkpoint, an empty private cache, offline, local data;
    FAST mode for every kind but :data:`FULL_PLAN_KIND`."""
    env = dict(os.environ)
    env.update(BERT_MODEL=str(small_bert), KO_BERT_CACHE=str(tmp_path_factory.mktemp("ko-bert-cache")),
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", CHATBOT_DATA=str(csv_path))
    env.setdefault("KO_BERT_DATA", str(csv_path.parent))
    if Path(small_bert).name == FULL_PLAN_KIND:
        env.pop("KO_BERT_FAST", None)
    else:
        env["KO_BERT_FAST"] = "1"
    return env


pytestmark = pytest.mark.usefixtures("sigterm_cleans_up")  # tests/conftest.py


@pytest.fixture(scope="module")
def timings():
    times: dict = {}
    yield times
    if times:
        REPORT_DIR.mkdir(parents=True, exist_ok=True)
        (REPORT_DIR / "times.json").write_text(json.dumps(times, indent=1, ensure_ascii=False), encoding="utf-8")


def _first_line(source: str) -> str:
    lines = [line for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return (lines[0] if lines else source.strip().splitlines()[0] if source.strip() else "")[:100]


def _failing_line(traceback: list[str]) -> str:
    """The cell's own line that raised (IPython marks it ``----> N``), without colour codes."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(traceback))
    match = re.search(r"^-+> ?(\d+)\s?(.*)$", text, flags=re.M)
    return f"line {match.group(1)}: {match.group(2).strip()[:160]}" if match else ""


def run_notebook(path: Path, env: dict) -> tuple[list[dict], float, list[tuple[int, float]]]:
    """Execute every cell of ``path`` in a fresh kernel; return (errors, seconds, per-cell seconds)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    errors, cell_times = [], []
    start = time.perf_counter()
    with client.setup_kernel(env=env, cwd=str(path.parent)):
        executed = 0
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            executed += 1
            t0 = time.perf_counter()
            try:
                client.execute_cell(cell, index, execution_count=executed)
            except (CellTimeoutError, DeadKernelError) as exc:  # the kernel cannot go on
                errors.append({"cell": index, "count": executed, "ename": type(exc).__name__,
                               "evalue": str(exc).splitlines()[0], "where": _first_line(cell.source)})
                cell_times.append((index, time.perf_counter() - t0))
                break
            cell_times.append((index, time.perf_counter() - t0))
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    errors.append({"cell": index, "count": executed, "ename": output["ename"],
                                   "evalue": output["evalue"][:500],
                                   "where": _failing_line(output.get("traceback", [])) or _first_line(cell.source)})
    return errors, time.perf_counter() - start, cell_times


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_on_another_checkpoint(notebook, kernel_env, timings, capsys):
    errors, seconds, cell_times = run_notebook(notebook, kernel_env)
    slowest = sorted(cell_times, key=lambda t: -t[1])[:3]
    timings[f"{Path(kernel_env['BERT_MODEL']).name}/{notebook.name}"] = {"seconds": round(seconds, 1), "failed_cells": [e["cell"] for e in errors],
                              "cells": {str(i): round(s, 1) for i, s in cell_times}}
    with capsys.disabled():
        print(f"\n[any-checkpoint] {Path(kernel_env['BERT_MODEL']).name}/{notebook.name}: {seconds:.1f} s "
              f"(slowest cells: {', '.join(f'[{i}] {s:.1f} s' for i, s in slowest)})"
              f"{'' if not errors else f', {len(errors)} failing cell(s)'}")
    if errors:
        lines = [f"{notebook.name} fails on a checkpoint other than tiny-ko-bert "
                 f"(BERT_MODEL={kernel_env['BERT_MODEL']}):"]
        for n, e in enumerate(errors):
            later = "" if n == 0 else " (after an earlier failure: may be a consequence)"
            lines.append(f"  cell {e['cell']} (In [{e['count']}]){later}: {e['ename']}: {e['evalue']}\n"
                         f"      {e['where']}")
        pytest.fail("\n".join(lines), pytrace=False)
