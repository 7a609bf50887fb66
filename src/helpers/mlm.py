"""Masked language modelling, shown rather than told.

- :func:`mask_for_mlm` applies transformers' own BERT masking (15 % of the tokens chosen; of
  those 80 % -> [MASK], 10 % -> a random token, 10 % unchanged) with a fixed seed, and
  :func:`masking_table` lays the result out token by token with the labels the loss uses.
- :func:`fill_mask` gives the top-k predictions (with probabilities) for a ``[MASK]``.
- :func:`new_tiny_mlm` + :func:`mini_pretrain` train a fresh, very small ``BertForMaskedLM`` for a minute, so a
  learner can watch the loss fall and the fill-mask answers change.
- :func:`visibility_table` contrasts what BERT (bidirectional) and GPT (causal) may look at.

Used by lesson 01 (``notebooks/01_mlm_intuition.ipynb``).
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

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

    special = torch.isin(original_ids, torch.tensor(tokenizer.all_special_ids))
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

    mask = tokenizer.mask_token
    if text.count(mask) != 1:
        raise ValueError(f"Put exactly one {mask} in the text; got {text.count(mask)} in {text!r}.")
    enc = tokenizer(text, return_tensors="pt")
    position = int((enc["input_ids"][0] == tokenizer.mask_token_id).nonzero()[0, 0])
    with torch.no_grad():
        logits = model(**enc).logits
    probs = logits[0, position].softmax(-1)
    top = probs.topk(top_k)
    return pd.DataFrame({"token": tokenizer.convert_ids_to_tokens(top.indices.tolist()),
                         "probability": [round(float(p), 4) for p in top.values]},
                        index=pd.RangeIndex(1, top_k + 1, name="rank"))


def tiny_mlm_config(tokenizer, hidden_size: int = 64, layers: int = 2, heads: int = 2):
    """A deliberately small :class:`transformers.BertConfig` for the live pretraining demo."""
    from transformers import BertConfig

    return BertConfig(vocab_size=len(tokenizer), hidden_size=hidden_size, num_hidden_layers=layers,
                      num_attention_heads=heads, intermediate_size=2 * hidden_size,
                      max_position_embeddings=128, pad_token_id=tokenizer.pad_token_id)


def new_tiny_mlm(tokenizer, seed: int = 42, config=None):
    """A *fresh* ``BertForMaskedLM`` with random weights (same tokenizer), in eval mode."""
    import torch
    from transformers import BertForMaskedLM

    torch.manual_seed(seed)
    model = BertForMaskedLM(config or tiny_mlm_config(tokenizer))
    return model.eval()


def mini_pretrain(model, tokenizer, texts: list[str], steps: int = 300, batch_size: int = 32,
                  learning_rate: float = 1e-3, seed: int = 42, max_length: int = 32, threads: int = 1):
    """Pretrain ``model`` (a ``BertForMaskedLM``) in place with the MLM loss only.

    Each step masks a random batch of ``texts`` with the same collator as :func:`mask_for_mlm`
    and takes one AdamW step. Deterministic for a given seed and thread count. Returns
    ``(list of per-step losses, seconds taken)``; the model is left in eval mode.

    Runs on ``threads`` torch threads (restored afterwards): the matrices of this tiny model
    are so small that one thread is faster than two, and on a busy 2-core machine two threads
    waiting on each other were measured 50x slower.
    """
    import torch
    from transformers import DataCollatorForLanguageModeling

    if len(texts) < batch_size:
        raise ValueError(f"Need at least batch_size={batch_size} texts; got {len(texts)}.")
    if steps < 1:
        raise ValueError("steps must be at least 1.")
    if model.config.vocab_size < len(tokenizer):
        raise ValueError(f"The model knows {model.config.vocab_size} ids but the tokenizer has {len(tokenizer)}. "
                         "Fix: model.resize_token_embeddings(len(tokenizer)).")
    torch.manual_seed(seed)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=seed, return_tensors="pt")
    encoded = [tokenizer(t, truncation=True, max_length=max_length) for t in texts]
    rng = np.random.default_rng(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    model.train()
    losses = []
    start = time.perf_counter()
    try:
        for _ in range(steps):
            batch = collator([encoded[i] for i in rng.choice(len(encoded), size=batch_size, replace=False)])
            loss = model(**batch).loss
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
    finally:
        torch.set_num_threads(previous_threads)
        model.eval()
    return losses, time.perf_counter() - start


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
