"""Named-entity recognition on KLUE-NER (lesson 07): character BIO tags <-> word pieces, training, entity F1.

KLUE-NER tags every *character* (spaces too) with ``O`` or ``B-``/``I-`` + PS, LC, OG, DT, TI, QT. BERT
predicts one label per *word piece*. The bridge, both ways, uses the fast tokenizer's character offsets:

- :func:`char_tags_to_tokens`: a piece gets the tag of its first character (special tokens get -100,
  which the loss ignores);
- :func:`token_tags_to_chars`: every character of a piece gets the piece's label (``B-X`` continues as
  ``I-X``); a character no piece covers (a space) is ``I-X`` between two pieces of the same entity, else ``O``.

Scoring is entity-level (seqeval) on the characters, so an entity that starts or ends inside a word piece
counts as an error: :func:`alignment_ceiling` measures how much of the gold annotation survives the round trip.
Training uses ``transformers.Trainer`` with ``DataCollatorForTokenClassification`` (:func:`train_ner`), on
the device and in the precision that :mod:`helpers.runtime` chooses.
"""
from __future__ import annotations

import html
import tempfile

import pandas as pd

from . import ranking
from .splits import split_sentences  # noqa: F401 (the split by sentence, handed on for lesson 07)

SEED = 42
TYPES = ("PS", "LC", "OG", "DT", "TI", "QT")
TYPE_NAMES = {"PS": "사람 (person)", "LC": "장소 (location)", "OG": "기관 (organisation)", "DT": "날짜 (date)",
              "TI": "시간 (time)", "QT": "수량 (quantity)"}
LABELS = ["O"] + [f"{p}-{t}" for t in TYPES for p in "BI"]
LABEL2ID = {name: i for i, name in enumerate(LABELS)}
IGNORE = -100


def _check_fast(tokenizer) -> None:
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError("Aligning characters to word pieces needs a fast tokenizer (return_offsets_mapping). "
                        "Fix: load it with AutoTokenizer.from_pretrained(..., use_fast=True).")


def char_tags_to_tokens(tokenizer, chars, tags, max_len: int = 128) -> dict:
    """Encode one sentence and give each word piece the tag id of its first character (-100 for special tokens).

    Returns the encoding (``input_ids``, ``attention_mask``, ``token_type_ids`` if any, ``offsets``) and ``labels``.
    """
    _check_fast(tokenizer)
    if len(chars) != len(tags):
        raise ValueError(f"{len(chars)} characters but {len(tags)} tags.")
    enc = tokenizer("".join(chars), truncation=True, max_length=max_len, return_offsets_mapping=True)
    offsets = enc.pop("offset_mapping")
    special = set(tokenizer.all_special_ids)
    labels = [IGNORE if (tid in special and s == e) or s == e else LABEL2ID[tags[s]]
              for tid, (s, e) in zip(enc["input_ids"], offsets)]
    return {**dict(enc), "labels": labels, "offsets": [tuple(o) for o in offsets]}


def token_tags_to_chars(n_chars: int, offsets, token_labels) -> list[str]:
    """Project one label per word piece back onto ``n_chars`` characters (see the module docstring)."""
    out: list[str | None] = [None] * n_chars
    for (s, e), label in zip(offsets, token_labels):
        if s == e or label is None:
            continue
        kind = label[2:] if label != "O" else None
        for i in range(s, min(e, n_chars)):
            out[i] = label if i == s or kind is None else f"I-{kind}"
    # characters no piece covers (spaces, cut-off tail): inside an entity only between two pieces of it
    for i in range(n_chars):
        if out[i] is None:
            prev = next((out[j] for j in range(i - 1, -1, -1) if out[j] is not None), "O")
            nxt = next((out[j] for j in range(i + 1, n_chars) if out[j] is not None), "O")
            out[i] = f"I-{prev[2:]}" if prev != "O" and nxt == f"I-{prev[2:]}" else "O"
    return out


def entity_report(gold: list[list[str]], pred: list[list[str]]) -> pd.DataFrame:
    """Entity-level precision / recall / F1 per type and micro / macro averages (seqeval, strict span match)."""
    from seqeval.metrics import classification_report

    report = classification_report(gold, pred, output_dict=True, zero_division=0)
    rows = [{"type": name, "precision": v["precision"], "recall": v["recall"], "f1": v["f1-score"],
             "support": int(v["support"])} for name, v in report.items() if name != "weighted avg"]
    frame = pd.DataFrame(rows).set_index("type")
    frame.index = [f"{t} {TYPE_NAMES[t]}" if t in TYPE_NAMES else t for t in frame.index]
    return frame


def alignment_ceiling(tokenizer, df: pd.DataFrame, max_len: int = 128) -> float:
    """Entity F1 of the gold tags after the round trip characters -> word pieces -> characters (the best a
    per-piece tagger with this tokenizer can score)."""
    from seqeval.metrics import f1_score

    gold, back = [], []
    for chars, tags in zip(df["chars"], df["tags"]):
        enc = char_tags_to_tokens(tokenizer, chars, tags, max_len)
        labels = [LABELS[i] if i != IGNORE else None for i in enc["labels"]]
        gold.append(list(tags))
        back.append(token_tags_to_chars(len(chars), enc["offsets"], labels))
    return float(f1_score(gold, back))


def features(tokenizer, df: pd.DataFrame, max_len: int = 128) -> list[dict]:
    """Encoded sentences for the Trainer: ``input_ids``, ``attention_mask``, (``token_type_ids``), ``labels``."""
    out = []
    for chars, tags in zip(df["chars"], df["tags"]):
        enc = char_tags_to_tokens(tokenizer, chars, tags, max_len)
        enc.pop("offsets")
        out.append(enc)
    return out


def plan_run(model, tokenizer, train_df: pd.DataFrame, test_sentences: int, *, train_sentences: int, epochs: int,
             batch_size: int, max_len: int = 128, device=None):
    """The plan of lesson 07's training run for ``model`` on this machine (:func:`helpers.runtime.plan_for`):
    at most ``train_sentences`` sentences of ``train_df`` for ``epochs``, then ``test_sentences`` scored. A
    tiny-ko-bert-sized model keeps it; a costlier one trains (and scores) fewer sentences on a CPU and more
    on a GPU, as ``plan.note`` says. The estimate counts each sentence at the length of its padded batch
    (:func:`helpers.runtime.mean_padded_length`): sentences are far shorter than ``max_len``."""
    from .runtime import Plan, mean_padded_length, plan_for

    lengths = [len(ids) for ids in tokenizer(["".join(c) for c in train_df["chars"]], truncation=True,
                                             max_length=max_len)["input_ids"]]
    base = Plan(train_size=min(int(train_sentences), len(train_df)), epochs=int(epochs), batch_size=int(batch_size),
                max_length=int(max_len), eval_size=int(test_sentences),
                mean_tokens=round(mean_padded_length(lengths, batch_size), 1))
    return plan_for("ner", model, device, base, max_train_size=len(train_df))


def training_arguments(output_dir: str, *, epochs: float, batch_size: int, lr: float, steps_per_epoch: int,
                       seed: int = SEED, weight_decay: float = 0.01, warmup_ratio: float = 0.1, device=None,
                       precision: str | None = None):
    """``TrainingArguments`` of :func:`train_ner`: AdamW with ``weight_decay``, linear warm-up over
    ``warmup_ratio`` of the steps then linear decay, a log line twice per epoch, no checkpoints,
    no reports, no progress bars. ``device`` and ``precision`` default to :mod:`helpers.runtime`'s choice
    (the Trainer's ``use_cpu`` / ``bf16`` / ``fp16``)."""
    from transformers import TrainingArguments

    from .runtime import choose_device, choose_precision, trainer_device_kwargs, trainer_precision_kwargs

    device = choose_device(device)
    precision = choose_precision(device, precision)
    return TrainingArguments(output_dir=output_dir, num_train_epochs=epochs, per_device_train_batch_size=batch_size,
                             learning_rate=lr, weight_decay=weight_decay,
                             warmup_steps=max(1, int(warmup_ratio * steps_per_epoch * epochs)),
                             lr_scheduler_type="linear", logging_steps=max(1, steps_per_epoch // 2),
                             save_strategy="no", report_to="none", disable_tqdm=True, seed=seed,
                             data_seed=seed, dataloader_num_workers=0, **trainer_device_kwargs(device),
                             **trainer_precision_kwargs(precision))


def train_ner(model, tokenizer, train_df: pd.DataFrame, *, epochs: float = 3, batch_size: int = 16,
              lr: float = 1e-4, max_len: int = 128, seed: int = SEED, threads: int = 1) -> pd.DataFrame:
    """Fine-tune a ``*ForTokenClassification`` model with ``transformers.Trainer`` (in place); return the loss log.

    ``DataCollatorForTokenClassification`` pads ``labels`` with -100; AdamW with linear warm-up and decay;
    no checkpoints, no progress bars, no reports. ``threads`` torch threads during training (restored after).
    The Trainer puts the model on :mod:`helpers.runtime`'s device (where it stays).
    """
    from transformers import DataCollatorForTokenClassification, PrinterCallback, Trainer

    from .runtime import threads as use_threads

    data = features(tokenizer, train_df, max_len)
    steps_per_epoch = -(-len(data) // batch_size)
    try:
        with use_threads(threads), tempfile.TemporaryDirectory() as tmp:
            args = training_arguments(tmp, epochs=epochs, batch_size=batch_size, lr=lr,
                                      steps_per_epoch=steps_per_epoch, seed=seed)
            trainer = Trainer(model=model, args=args, train_dataset=data,
                              data_collator=DataCollatorForTokenClassification(tokenizer))
            trainer.remove_callback(PrinterCallback)  # with disable_tqdm it prints every log dict: the table is returned instead
            trainer.train()
            log = pd.DataFrame([r for r in trainer.state.log_history if "loss" in r])
    finally:
        model.eval()
    return log[["epoch", "step", "loss"]].reset_index(drop=True) if len(log) else log


def predict_chars(model, tokenizer, df: pd.DataFrame, max_len: int = 128, batch_size: int = 64) -> list[list[str]]:
    """Predicted character tags for every sentence of ``df`` (argmax per piece, projected back to characters;
    batches in the input order, on the model's device)."""
    from .runtime import batched_forward

    _check_fast(tokenizer)
    texts = ["".join(chars) for chars in df["chars"]]
    if not texts:
        return []
    logits = batched_forward(model, tokenizer, texts, lambda out, batch: out.logits, batch_size=batch_size,
                             max_length=max_len, sort_by_length=False, per_token=True)  # [pieces, labels] each
    offsets = tokenizer(texts, truncation=True, max_length=max_len, return_offsets_mapping=True)["offset_mapping"]
    return [token_tags_to_chars(len(text), spans, [LABELS[i] for i in ranking.argmax(piece_logits).tolist()])
            for text, spans, piece_logits in zip(texts, offsets, logits)]


def entities(chars, tags) -> list[tuple[int, int, str]]:
    """``(start, end, type)`` character spans of a BIO sequence (seqeval's reading: an ``I-`` without ``B-`` starts one)."""
    from seqeval.metrics.sequence_labeling import get_entities

    return [(s, e + 1, t) for t, s, e in get_entities(list(tags))]


COLORS = {"PS": "#ffd6a5", "LC": "#caffbf", "OG": "#9bf6ff", "DT": "#bdb2ff", "TI": "#ffc6ff", "QT": "#fdffb6"}


def highlight_text(chars, tags) -> str:
    """The sentence with entities marked KLUE's way: ``<이순신:PS> 장군은 ...``."""
    text, pos = [], 0
    for s, e, t in entities(chars, tags):
        text.append("".join(chars[pos:s]) + f"<{''.join(chars[s:e])}:{t}>")
        pos = e
    return "".join(text) + "".join(chars[pos:])


def highlight_html(chars, tags) -> str:
    """The sentence as HTML with each entity in a coloured ``<mark>`` labelled with its type."""
    parts, pos = [], 0
    for s, e, t in entities(chars, tags):
        parts.append(html.escape("".join(chars[pos:s])))
        parts.append(f'<mark style="background:{COLORS.get(t, "#eee")};padding:0 2px">{html.escape("".join(chars[s:e]))}'
                     f'<sub>{t}</sub></mark>')
        pos = e
    parts.append(html.escape("".join(chars[pos:])))
    return "<span>" + "".join(parts) + "</span>"
