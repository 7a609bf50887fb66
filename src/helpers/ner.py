"""Named-entity recognition on KLUE-NER (lesson 07): character BIO tags <-> word pieces, training, entity F1.

KLUE-NER tags every *character* (spaces too) with ``O`` or ``B-``/``I-`` + PS, LC, OG, DT, TI, QT. BERT
predicts one label per *word piece*. The bridge, both ways, uses the fast tokenizer's character offsets:

- :func:`char_tags_to_tokens`: a piece gets the tag of its first character (special tokens get -100,
  which the loss ignores);
- :func:`token_tags_to_chars`: every character of a piece gets the piece's label (``B-X`` continues as
  ``I-X``); a character no piece covers (a space) is ``I-X`` between two pieces of the same entity, else ``O``.

Scoring is entity-level (seqeval) on the characters, so an entity that starts or ends inside a word piece
counts as an error: :func:`alignment_ceiling` measures how much of the gold annotation survives the round trip.
Training uses ``transformers.Trainer`` with ``DataCollatorForTokenClassification`` (:func:`train_ner`).
"""
from __future__ import annotations

import html
import tempfile

import pandas as pd

SEED = 42
TYPES = ("PS", "LC", "OG", "DT", "TI", "QT")
TYPE_NAMES = {"PS": "사람 (person)", "LC": "장소 (location)", "OG": "기관 (organisation)", "DT": "날짜 (date)",
              "TI": "시간 (time)", "QT": "수량 (quantity)"}
LABELS = ["O"] + [f"{p}-{t}" for t in TYPES for p in "BI"]
LABEL2ID = {name: i for i, name in enumerate(LABELS)}
IGNORE = -100


def split_sentences(df: pd.DataFrame, test_size: float = 0.2, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded train / test split of KLUE-NER dev *by sentence* (duplicated sentences kept on one side)."""
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise ValueError(f"test_size={test_size} must be a fraction in (0, 1). Fix: e.g. 0.2.")
    for col in ("sentence", "chars", "tags"):
        if col not in df.columns:
            raise ValueError(f"split_sentences needs a '{col}' column. Fix: pass helpers.data.load_klue_ner().")
    unique = df.drop_duplicates("sentence").reset_index(drop=True)
    train, test = train_test_split(unique, test_size=test_size, random_state=seed)
    return train.sort_index().reset_index(drop=True), test.sort_index().reset_index(drop=True)


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


def train_ner(model, tokenizer, train_df: pd.DataFrame, *, epochs: float = 3, batch_size: int = 16,
              lr: float = 1e-4, max_len: int = 128, seed: int = SEED, threads: int = 1) -> pd.DataFrame:
    """Fine-tune a ``*ForTokenClassification`` model with ``transformers.Trainer`` (in place); return the loss log.

    ``DataCollatorForTokenClassification`` pads ``labels`` with -100; AdamW with linear warm-up and decay;
    no checkpoints, no progress bars, no reports. ``threads`` torch threads during training (restored after).
    """
    import torch
    from transformers import DataCollatorForTokenClassification, PrinterCallback, Trainer, TrainingArguments

    data = features(tokenizer, train_df, max_len)
    steps_per_epoch = -(-len(data) // batch_size)
    prev = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            args = TrainingArguments(output_dir=tmp, num_train_epochs=epochs, per_device_train_batch_size=batch_size,
                                     learning_rate=lr, weight_decay=0.01, warmup_steps=max(1, int(0.1 * steps_per_epoch * epochs)),
                                     lr_scheduler_type="linear", logging_steps=max(1, steps_per_epoch // 2),
                                     save_strategy="no", report_to="none", disable_tqdm=True, seed=seed,
                                     data_seed=seed, use_cpu=True, dataloader_num_workers=0)
            trainer = Trainer(model=model, args=args, train_dataset=data,
                              data_collator=DataCollatorForTokenClassification(tokenizer))
            trainer.remove_callback(PrinterCallback)  # with disable_tqdm it prints every log dict: the table is returned instead
            trainer.train()
            log = pd.DataFrame([r for r in trainer.state.log_history if "loss" in r])
    finally:
        torch.set_num_threads(prev)
        model.eval()
    return log[["epoch", "step", "loss"]].reset_index(drop=True) if len(log) else log


def predict_chars(model, tokenizer, df: pd.DataFrame, max_len: int = 128, batch_size: int = 64) -> list[list[str]]:
    """Predicted character tags for every sentence of ``df`` (argmax per piece, projected back to characters)."""
    import torch

    out = []
    model.eval()
    rows = list(zip(df["chars"], df["tags"]))
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            encs = [char_tags_to_tokens(tokenizer, c, t, max_len) for c, t in rows[start:start + batch_size]]
            batch = tokenizer.pad([{k: v for k, v in e.items() if k not in ("labels", "offsets")} for e in encs],
                                  return_tensors="pt")
            pred = model(**batch).logits.argmax(-1).tolist()
            for (chars, _), enc, ids in zip(rows[start:start + batch_size], encs, pred):
                labels = [LABELS[i] for i in ids[: len(enc["offsets"])]]
                out.append(token_tags_to_chars(len(chars), enc["offsets"], labels))
    return out


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
