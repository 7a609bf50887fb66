"""Masked language modelling, shown rather than told.

- :func:`mask_for_mlm` applies transformers' own BERT masking (15 % of the tokens chosen; of
  those 80 % -> [MASK], 10 % -> a random token, 10 % unchanged) with a fixed seed, and
  :func:`masking_table` lays the result out token by token with the labels the loss uses.
- :func:`fill_mask` gives the top-k predictions (with probabilities) for a ``[MASK]``.
- :func:`new_tiny_mlm` + :func:`mini_pretrain` train a fresh, very small ``BertForMaskedLM`` for a minute, so a
  learner can watch the loss fall and the fill-mask answers change. Its cost stays the same for
  any checkpoint's tokenizer: :func:`masked_lm_loss` runs the output layer only at the chosen
  positions, and a vocabulary above :data:`MINI_MAX_VOCAB` pieces is capped (``CappedVocabMLM``).
- :func:`top_k_overlap` (do the candidates change with the context?) and :func:`frequent_ids`
  (the frequency baseline) compare the mini model with a pretrained one.
- :func:`visibility_table` contrasts what BERT (bidirectional) and GPT (causal) may look at.

Used by lesson 01 (``notebooks/01_mlm_intuition.ipynb``).
"""
from __future__ import annotations

import copy
import functools
import time

import numpy as np
import pandas as pd

from . import ranking
from .training import optimizer_step

IGNORE_INDEX = -100  # label value the cross-entropy loss skips


def mask_for_mlm(tokenizer, sentences: list[str], probability: float = 0.15, seed: int = 42):
    """Tokenize ``sentences`` and mask them exactly as BERT pretraining does.

    Uses :class:`transformers.DataCollatorForLanguageModeling` (the implementation the
    ``Trainer`` uses) with ``seed`` so the choice is reproducible. Returns
    ``(original_input_ids, batch)`` where ``batch`` has ``input_ids`` (after masking),
    ``attention_mask`` and ``labels`` (the original id where a token was chosen, -100 elsewhere).
    """
    from transformers import DataCollatorForLanguageModeling

    if not sentences or not all(isinstance(s, str) and s.strip() for s in sentences):
        raise ValueError("sentences must be a non-empty list of non-empty strings.")
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability must be between 0 and 1 (BERT uses 0.15); got {probability}.")
    if tokenizer.mask_token is None:
        raise ValueError("This tokenizer has no [MASK] token, so it cannot be used for masked language modelling.")
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=probability,
                                               seed=seed, return_tensors="pt")
    encoded = [tokenizer(s) for s in sentences]
    original = collator.tokenizer.pad(encoded, return_tensors="pt")["input_ids"]
    batch = collator(encoded)
    return original, batch


def masking_table(tokenizer, original_ids, batch, row: int = 0) -> pd.DataFrame:
    """One sentence of a :func:`mask_for_mlm` batch, token by token.

    Columns: ``original`` token, ``input`` token (what the model sees), ``label`` (the id the
    loss must predict, or -100), and ``what`` — ``[MASK]``, ``random``, ``unchanged`` (chosen but
    left as is) or empty (not chosen). Padding is dropped.
    """
    ids = original_ids[row].tolist()
    seen = batch["input_ids"][row].tolist()
    labels = batch["labels"][row].tolist()
    keep = batch["attention_mask"][row].tolist()
    rows = []
    for orig, inp, lab, k in zip(ids, seen, labels, keep):
        if not k:
            continue
        if lab == IGNORE_INDEX:
            what = ""
        elif inp == tokenizer.mask_token_id:
            what = "[MASK]"
        elif inp != orig:
            what = "random"
        else:
            what = "unchanged"
        rows.append({"original": tokenizer.convert_ids_to_tokens(orig),
                     "input": tokenizer.convert_ids_to_tokens(inp), "label": lab, "what": what})
    return pd.DataFrame(rows)


def masking_counts(tokenizer, original_ids, batch) -> dict:
    """How a masked batch was built: candidate tokens (real, non-special), chosen, [MASK], random, unchanged.

    Used to check the 15 % selection and the 80/10/10 split on many sentences.
    """
    import torch

    special = torch.isin(original_ids, torch.tensor(tokenizer.all_special_ids, device=original_ids.device))
    candidates = batch["attention_mask"].bool() & ~special
    chosen = batch["labels"] != IGNORE_INDEX
    inputs = batch["input_ids"]
    masked = chosen & (inputs == tokenizer.mask_token_id)
    random = chosen & ~masked & (inputs != original_ids)
    return {"candidates": int(candidates.sum()), "chosen": int(chosen.sum()), "mask": int(masked.sum()),
            "random": int(random.sum()), "unchanged": int((chosen & ~masked & ~random).sum())}


def fill_mask(model, tokenizer, text: str, top_k: int = 5) -> pd.DataFrame:
    """Top-``k`` tokens for the single ``[MASK]`` in ``text`` with their softmax probabilities."""
    import torch

    from .runtime import model_device, to_device

    mask = tokenizer.mask_token
    if text.count(mask) != 1:
        raise ValueError(f"Put exactly one {mask} in the text; got {text.count(mask)} in {text!r}.")
    enc = tokenizer(text, return_tensors="pt")
    position = int((enc["input_ids"][0] == tokenizer.mask_token_id).nonzero()[0, 0])
    with torch.no_grad():
        logits = model(**to_device(enc, model_device(model))).logits
    probs = logits[0, position].softmax(-1).double().cpu().numpy()
    top = ranking.top_k(probs, top_k)  # near-ties in a fixed order (token id), on every machine
    return pd.DataFrame({"token": tokenizer.convert_ids_to_tokens(top),
                         "probability": [round(float(probs[i]), 4) for i in top]},
                        index=pd.RangeIndex(1, top_k + 1, name="rank"))


def tiny_mlm_config(tokenizer, hidden_size: int = 64, layers: int = 2, heads: int = 2):
    """A deliberately small :class:`transformers.BertConfig` for the live pretraining demo."""
    from transformers import BertConfig

    return BertConfig(vocab_size=len(tokenizer), hidden_size=hidden_size, num_hidden_layers=layers,
                      num_attention_heads=heads, intermediate_size=2 * hidden_size,
                      max_position_embeddings=128, pad_token_id=tokenizer.pad_token_id)


MINI_MAX_VOCAB = 8000  # the live mini model learns at most this many word pieces (see new_tiny_mlm)


def capped_vocabulary(tokenizer, texts: list[str], size: int = MINI_MAX_VOCAB) -> list[int]:
    """The ids a capped mini model keeps: every special id, then the most frequent ids of ``texts``
    (ties by id) up to ``size`` ids in all; sorted."""
    special = sorted(set(tokenizer.all_special_ids))
    if size <= len(special):
        raise ValueError(f"size must exceed the {len(special)} special tokens; got {size}.")
    frequent = frequent_ids(tokenizer, texts, n=size - len(special))
    return sorted(set(special) | set(frequent))


@functools.cache
def _capped_class():
    import torch
    from transformers import BertForMaskedLM

    class CappedVocabMLM(BertForMaskedLM):
        """A ``BertForMaskedLM`` that knows only ``keep_ids`` of a tokenizer's vocabulary.

        It is called with the tokenizer's own ids: ids it does not keep are read as [UNK] (inputs
        and labels), and its logits cover the tokenizer's whole vocabulary with -inf outside
        ``keep_ids``, so :func:`fill_mask`, :func:`mini_pretrain` and masked-token accuracy use it
        like any MLM. Its embedding and output layers have ``len(keep_ids)`` rows, so its size
        and speed do not depend on how large the tokenizer's vocabulary is.
        """

        def __init__(self, config, keep_ids, full_vocab_size: int, unk_id: int):
            super().__init__(config)
            keep = torch.as_tensor(keep_ids, dtype=torch.long)
            if unk_id not in keep.tolist():
                raise ValueError("keep_ids must contain the [UNK] id.")
            compact = torch.full((full_vocab_size,), keep.tolist().index(unk_id), dtype=torch.long)
            compact[keep] = torch.arange(len(keep))
            self.register_buffer("keep_ids", keep, persistent=False)
            self.register_buffer("compact_ids", compact, persistent=False)
            self.full_vocab_size = full_vocab_size

        def to_compact(self, batch: dict) -> dict:
            """``batch`` with ``input_ids`` and ``labels`` moved to the model's own ids."""
            out = dict(batch)
            out["input_ids"] = self.compact_ids[batch["input_ids"]]
            labels = batch.get("labels")
            if labels is not None:
                out["labels"] = torch.where(labels == IGNORE_INDEX, labels, self.compact_ids[labels.clamp(min=0)])
            return out

        def forward(self, input_ids=None, labels=None, **kwargs):
            ids = self.to_compact({"input_ids": input_ids, "labels": labels})
            out = super().forward(input_ids=ids["input_ids"], labels=ids["labels"], **kwargs)
            full = out.logits.new_full((*out.logits.shape[:-1], self.full_vocab_size), float("-inf"))
            full[..., self.keep_ids] = out.logits
            out.logits = full
            return out

    return CappedVocabMLM


def new_tiny_mlm(tokenizer, seed: int = 42, config=None, texts: list[str] | None = None,
                 max_vocab: int = MINI_MAX_VOCAB):
    """A *fresh* ``BertForMaskedLM`` with random weights (same tokenizer), in eval mode.

    If the tokenizer has more than ``max_vocab`` ids and ``texts`` are given (the texts it will
    be trained on), the model keeps only the ``max_vocab`` most frequent ids of ``texts`` (see
    ``CappedVocabMLM`` in this module): with a 119k-piece tokenizer, the output layer would
    otherwise be most of the model and of every training step. Smaller tokenizers are used whole.
    The model sits on :mod:`helpers.runtime`'s device, like :func:`helpers.load_model`'s.
    """
    import torch
    from transformers import BertForMaskedLM

    from .runtime import place_model

    config = config or tiny_mlm_config(tokenizer)
    capped = texts is not None and len(tokenizer) > max_vocab
    keep = capped_vocabulary(tokenizer, texts, max_vocab) if capped else None
    torch.manual_seed(seed)
    if capped:
        config = copy.deepcopy(config)  # the caller's config is left as it was
        config.vocab_size = len(keep)
        model = _capped_class()(config, keep, len(tokenizer), tokenizer.unk_token_id)
    else:
        model = BertForMaskedLM(config)
    return place_model(model).eval()  # initialised on the CPU (the same weights everywhere), then moved


def mini_pretrain(model, tokenizer, texts: list[str], steps: int = 300, batch_size: int = 32,
                  learning_rate: float = 1e-3, seed: int = 42, max_length: int = 32, threads: int = 1):
    """Pretrain ``model`` (a ``BertForMaskedLM``) in place with the MLM loss only.

    Each step masks a random batch of ``texts`` with the same collator as :func:`mask_for_mlm`
    and takes one AdamW step on :func:`masked_lm_loss` (the model's own MLM loss, with the
    output layer run only at the chosen positions). Deterministic for a given seed and thread
    count. ``model`` may be a capped mini model from :func:`new_tiny_mlm`.
    Returns ``(list of per-step losses, seconds taken)``; the model is left in eval mode.

    Runs on ``threads`` torch threads (restored afterwards): the matrices of this tiny model
    are so small that one thread is faster than two, and on a busy 2-core machine two threads
    waiting on each other were measured 50x slower. Batches go to the model's device.
    """
    import torch
    from transformers import DataCollatorForLanguageModeling

    from .runtime import model_device, to_device
    from .runtime import threads as use_threads

    if len(texts) < batch_size:
        raise ValueError(f"Need at least batch_size={batch_size} texts; got {len(texts)}.")
    if steps < 1:
        raise ValueError("steps must be at least 1.")
    if getattr(model, "full_vocab_size", model.config.vocab_size) < len(tokenizer):
        raise ValueError(f"The model knows {model.config.vocab_size} ids but the tokenizer has {len(tokenizer)}. "
                         "Fix: model.resize_token_embeddings(len(tokenizer)).")
    torch.manual_seed(seed)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=seed, return_tensors="pt")
    encoded = [tokenizer(t, truncation=True, max_length=max_length) for t in texts]
    rng = np.random.default_rng(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    device = model_device(model)
    model.train()
    losses = []
    start = time.perf_counter()
    try:
        with use_threads(threads):
            for _ in range(steps):
                batch = collator([encoded[i] for i in rng.choice(len(encoded), size=batch_size, replace=False)])
                loss = masked_lm_loss(model, to_device(batch, device))
                losses.append(optimizer_step(model, loss, opt, max_grad_norm=None))
    finally:
        model.eval()
    return losses, time.perf_counter() - start


def masked_lm_loss(model, batch):
    """The MLM loss of ``model`` on a masked ``batch``, projecting to the vocabulary only where it counts.

    Equal to ``model(**batch).loss`` (cross-entropy over the positions whose label is not -100),
    but the output layer (hidden size x vocabulary) runs on the chosen ~15 % of the positions
    instead of all of them: with a 119k-piece vocabulary that layer is most of the cost of a
    small model. Works for a ``BertForMaskedLM`` (its ``bert`` encoder and ``cls`` head; a capped
    mini model from :func:`new_tiny_mlm` first moves the ids to its own); any other model falls
    back to ``model(**batch).loss``.
    """
    import torch

    chosen = batch["labels"] != IGNORE_INDEX
    if not (hasattr(model, "bert") and hasattr(model, "cls")) or not bool(chosen.any()):
        return model(**batch).loss
    if hasattr(model, "to_compact"):  # a capped mini model: its own ids
        batch = model.to_compact(batch)
    labels = batch["labels"]
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    hidden = model.bert(**inputs).last_hidden_state
    logits = model.cls(hidden[chosen])
    return torch.nn.functional.cross_entropy(logits, labels[chosen])


def top_k_overlap(tables, token_col: str = "token") -> float:
    """How much the top-k lists of different queries agree: the mean, over pairs of queries, of
    the share of top-k tokens they have in common (1.0 = every query gets the same candidates).

    ``tables`` are :func:`fill_mask` results (one per query). A model that has learned only
    which tokens are frequent scores near 1; one that reads the context scores lower, and so
    does an untrained one (its candidates are random): read it beside masked-token accuracy.
    """
    sets = [set(t[token_col]) for t in tables]
    if len(sets) < 2:
        raise ValueError("Need the top-k tables of at least two queries.")
    shares = [len(a & b) / max(len(a), len(b), 1) for i, a in enumerate(sets) for b in sets[i + 1:]]
    return float(np.mean(shares))


def frequent_ids(tokenizer, texts: list[str], n: int = 5) -> list[int]:
    """The ``n`` most frequent token ids in ``texts`` (special tokens excluded; ties by id).

    The guess of a model that knows only token frequencies: the baseline for masked-token
    accuracy (:func:`helpers.mlm_accuracy.masked_accuracy` takes it as ``frequent``).
    """
    from collections import Counter

    special = set(tokenizer.all_special_ids)
    encoded = tokenizer(list(texts), add_special_tokens=False)["input_ids"] if len(texts) else []
    counts = Counter(i for ids in encoded for i in ids if i not in special)
    if not counts:
        raise ValueError("The texts contain no (non-special) tokens.")
    return [i for i, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def smooth(values: list[float], window: int = 20) -> np.ndarray:
    """Moving average (for loss curves); the first points average what exists so far."""
    values = np.asarray(values, dtype=float)
    if window < 1:
        raise ValueError("window must be at least 1.")
    csum = np.cumsum(np.insert(values, 0, 0.0))
    out = np.empty_like(values)
    for i in range(len(values)):
        lo = max(0, i + 1 - window)
        out[i] = (csum[i + 1] - csum[lo]) / (i + 1 - lo)
    return out


def visibility_table(tokens: list[str], kind: str = "bert") -> pd.DataFrame:
    """Who may attend to whom: row = the position being predicted/encoded, column = a token it can see.

    ``kind="bert"``: every token sees every token (bidirectional). ``kind="gpt"``: a token sees
    only itself and the tokens to its left (causal mask). Cells are ``"O"`` (visible) or ``"·"``.
    """
    n = len(tokens)
    if kind == "bert":
        allowed = np.ones((n, n), dtype=bool)
    elif kind == "gpt":
        allowed = np.tril(np.ones((n, n), dtype=bool))
    else:
        raise ValueError(f"kind must be 'bert' or 'gpt'; got {kind!r}.")
    return pd.DataFrame(np.where(allowed, "O", "·"), index=tokens, columns=tokens)
