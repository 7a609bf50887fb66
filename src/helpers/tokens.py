"""Looking inside a tokenizer: tokens and ids, added / special tokens, resized embeddings, entity markers.

- :func:`token_table` shows each token of a text with its id and kind (vocab / added /
  special / unknown).
- :func:`added_tokens_table` lists the tokens added after the base vocabulary with their
  ``AddedToken`` flags (special, normalized, single_word, lstrip, rstrip).
- :func:`new_row_report` measures where ``resize_token_embeddings`` put the new rows.
- :func:`round_trip` saves a tokenizer + model and reloads them, checking nothing changed.
- :func:`mark_entities` / :func:`marker_positions` implement entity markers (``[E1] … [/E1]``).

Used by lesson 03 (``notebooks/03_tokenizer_internals.ipynb``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ENTITY_MARKERS = ("[E1]", "[/E1]", "[E2]", "[/E2]")


def token_kind(tokenizer, token_id: int) -> str:
    """``"special"``, ``"added"`` (added after training, not special), ``"unk"`` or ``"vocab"``."""
    added = tokenizer.added_tokens_decoder.get(int(token_id))
    if token_id == tokenizer.unk_token_id:
        return "unk"
    if added is not None:
        return "special" if added.special else "added"
    return "vocab"


def token_table(tokenizer, text: str, add_special_tokens: bool = True) -> pd.DataFrame:
    """Each token of ``text`` (as the model receives it) with its id and kind."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string; got {type(text).__name__}.")
    ids = tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"]
    return pd.DataFrame({"token": tokenizer.convert_ids_to_tokens(ids), "id": ids,
                         "kind": [token_kind(tokenizer, i) for i in ids]})


def added_tokens_table(tokenizer, start: int | None = None) -> pd.DataFrame:
    """Tokens with id >= ``start`` (default: the base ``vocab_size``) and their ``AddedToken`` flags."""
    start = tokenizer.vocab_size if start is None else start
    rows = []
    for token_id, tok in sorted(tokenizer.added_tokens_decoder.items()):
        if token_id < start:
            continue
        rows.append({"id": token_id, "content": tok.content, "special": tok.special,
                     "normalized": tok.normalized, "single_word": tok.single_word,
                     "lstrip": tok.lstrip, "rstrip": tok.rstrip})
    columns = ["id", "content", "special", "normalized", "single_word", "lstrip", "rstrip"]
    return pd.DataFrame(rows, columns=columns)


def new_row_report(old_weight, new_weight) -> pd.DataFrame:
    """Where the rows added by ``resize_token_embeddings`` sit relative to the old rows.

    For each new row: its distance to the mean of the old rows, and (for scale) the median
    distance of an old row to that mean. Mean-resizing puts new rows (almost) on the mean.
    """
    old = _np(old_weight)
    new = _np(new_weight)
    if new.shape[0] <= old.shape[0] or new.shape[1] != old.shape[1]:
        raise ValueError(f"new_weight {new.shape} must have more rows than old_weight {old.shape}, same width.")
    if not np.allclose(new[: old.shape[0]], old):
        raise ValueError("The first rows of new_weight differ from old_weight: resizing should keep them.")
    mean = old.mean(0)
    typical = float(np.median(np.linalg.norm(old - mean, axis=1)))
    added = new[old.shape[0]:]
    return pd.DataFrame({"row": np.arange(old.shape[0], new.shape[0]),
                         "distance_to_old_mean": np.round(np.linalg.norm(added - mean, axis=1), 4),
                         "typical_old_distance": round(typical, 4)})


def _np(weight) -> np.ndarray:
    if hasattr(weight, "detach"):
        weight = weight.detach().cpu().numpy()
    return np.asarray(weight, dtype=np.float64)


def round_trip(tokenizer, model, directory, texts: list[str]) -> dict:
    """Save ``tokenizer`` and ``model`` to ``directory`` and reload both with the Auto classes.

    Returns a dict of checks: same ``len(tokenizer)``, same added tokens (content and flags),
    same ids for every text, same decoded text, same embedding matrix, same model outputs.
    """
    import torch
    from transformers import AutoTokenizer

    from .runtime import model_device, to_device

    directory = Path(directory)
    tokenizer.save_pretrained(directory)
    model.save_pretrained(directory)
    tok2 = AutoTokenizer.from_pretrained(directory)
    model2 = type(model).from_pretrained(directory).eval()
    model.eval()
    flags = lambda t: {i: (a.content, a.special, a.normalized, a.single_word, a.lstrip, a.rstrip)
                       for i, a in t.added_tokens_decoder.items()}
    ids1 = [tokenizer(t)["input_ids"] for t in texts]
    ids2 = [tok2(t)["input_ids"] for t in texts]
    with torch.no_grad():
        enc = tokenizer(list(texts), padding=True, return_tensors="pt")
        out1 = model(**to_device(enc, model_device(model)))[0].cpu()
        out2 = model2(**enc)[0]  # loaded on the CPU
    return {
        "len_tokenizer": len(tokenizer) == len(tok2),
        "added_tokens_and_flags": flags(tokenizer) == flags(tok2),
        "input_ids": ids1 == ids2,
        "decode": [tokenizer.decode(i) for i in ids1] == [tok2.decode(i) for i in ids2],
        "embedding_matrix": bool(torch.equal(model.get_input_embeddings().weight.cpu(),
                                             model2.get_input_embeddings().weight)),
        "outputs": bool(torch.allclose(out1, out2, atol=1e-6)),
    }


def mark_entities(text: str, first: str, second: str, markers=ENTITY_MARKERS) -> str:
    """Wrap the first occurrence of ``first`` in ``[E1] … [/E1]`` and of ``second`` in ``[E2] … [/E2]``.

    The markers sit directly against the entity (no spaces), so particles such as 은/는/을
    stay attached to the closing marker exactly as they were attached to the word.
    """
    for entity in (first, second):
        if not entity or entity not in text:
            raise ValueError(f"Entity {entity!r} does not occur in {text!r}.")
    i, j = text.index(first), text.index(second)
    if i < j + len(second) and j < i + len(first):
        raise ValueError(f"Entities {first!r} and {second!r} overlap in {text!r}.")
    o1, c1, o2, c2 = markers
    spans = sorted([(i, first, o1, c1), (j, second, o2, c2)], reverse=True)
    for start, entity, open_, close in spans:  # right to left so earlier offsets stay valid
        text = text[:start] + open_ + entity + close + text[start + len(entity):]
    return text


def marker_positions(tokenizer, input_ids, markers=ENTITY_MARKERS) -> dict:
    """Position of each marker token in one sequence of ``input_ids`` (error if one is missing or split)."""
    ids = list(input_ids.tolist() if hasattr(input_ids, "tolist") else input_ids)
    found = {}
    for marker in markers:
        marker_id = tokenizer.convert_tokens_to_ids(marker)
        if marker_id is None or marker_id == tokenizer.unk_token_id or marker_id not in ids:
            raise ValueError(f"Marker {marker} is not a single token in this input. Fix: "
                             f"tokenizer.add_special_tokens({{'additional_special_tokens': {list(markers)}}}) "
                             "and model.resize_token_embeddings(len(tokenizer)).")
        found[marker] = ids.index(marker_id)
    return found
