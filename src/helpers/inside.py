"""Opening a BERT up (lesson 10, ``notebooks/10_inside_bert.ipynb``): embeddings, attention, per-layer predictions.

- :func:`position_ids`: the position ids the embedding layer adds (BERT: ``0 .. n-1``; RoBERTa-family
  models count from ``padding_idx + 1`` and give padding the padding position).
- :func:`mlm_head`: the module that turns hidden states into vocabulary logits (BERT's ``model.cls``,
  RoBERTa's ``model.lm_head``), so the head can read any layer ("logit lens").
- :func:`key_categories`, :func:`attention_shares`, :func:`measure_attention`, :func:`uniform_attention`
  and :func:`head_readings`: where each head's attention goes (the token itself, ``[CLS]``, ``[SEP]``,
  the previous or next token, anything else), averaged over the real query tokens, beside what
  attention spread evenly over the same tokens would give.
- :func:`layer_lens`: the top-k tokens for a ``[MASK]`` read at every layer (0 = the embeddings), with
  the rank of the last layer's top-1 at each layer (:class:`LayerLens`; tokens within
  :data:`helpers.ranking.TIE_TOL` of each other share a rank).
- :func:`plot_attention_grid`: one heatmap per (layer, head) with the word pieces on both axes.

Rankings go through :mod:`helpers.ranking` (near-ties broken by token id), so a printed top-k is the
same on every machine.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import ranking
from .runtime import model_device, to_device

# Where a query token's attention goes; each (query, key) cell has exactly one category, the first that
# applies in this order (so the query's own position counts as "self" even when it is [CLS]).
CATEGORIES = ("self", "[CLS]", "[SEP]", "previous", "next", "other")
FOCUSED = 0.5  # a head that puts at least this share of its attention on one category is called focused


def position_ids(embeddings, input_ids):
    """The position ids ``embeddings`` (``model.base_model.embeddings``) uses for ``input_ids`` [batch, seq]."""
    import torch

    if hasattr(embeddings, "create_position_ids_from_input_ids"):  # RoBERTa family: padding_idx + 1 onwards
        return embeddings.create_position_ids_from_input_ids(input_ids, embeddings.padding_idx)
    seq = input_ids.shape[1]
    return torch.arange(seq, device=input_ids.device).unsqueeze(0).expand_as(input_ids)


def mlm_head(model):
    """The masked-LM head of ``model`` (a ``*ForMaskedLM``): hidden states [..., hidden] -> logits [..., vocab]."""
    for name in ("cls", "lm_head"):  # BertForMaskedLM / BertForPreTraining, RobertaForMaskedLM
        head = getattr(model, name, None)
        if head is not None:
            return head
    raise ValueError(f"{type(model).__name__} has no masked-LM head (cls / lm_head): load it with head='mlm'.")


def key_categories(input_ids, cls_id: int, sep_id: int):
    """Category index (into :data:`CATEGORIES`) of every (query i, key j) cell: [batch, seq, seq]."""
    import torch

    batch, seq = input_ids.shape
    i = torch.arange(seq, device=input_ids.device)
    cats = torch.full((batch, seq, seq), CATEGORIES.index("other"), dtype=torch.long, device=input_ids.device)
    # lowest priority first; later assignments win
    cats[:, i[:, None] + 1 == i[None, :]] = CATEGORIES.index("next")
    cats[:, i[:, None] - 1 == i[None, :]] = CATEGORIES.index("previous")
    cats[(input_ids == sep_id)[:, None, :].expand(batch, seq, seq)] = CATEGORIES.index("[SEP]")
    cats[(input_ids == cls_id)[:, None, :].expand(batch, seq, seq)] = CATEGORIES.index("[CLS]")
    cats[:, i, i] = CATEGORIES.index("self")
    return cats


def _category_sums(attentions, input_ids, attention_mask, cls_id: int, sep_id: int) -> tuple[np.ndarray, int]:
    """Attention summed per (layer, head, category) over the real query tokens, and their number."""
    cats = key_categories(input_ids, cls_id, sep_id)
    queries = attention_mask.bool()[:, :, None]  # [batch, seq, 1]: real tokens only (no [PAD] rows)
    sums = np.zeros((len(attentions), attentions[0].shape[1], len(CATEGORIES)))
    for layer, a in enumerate(attentions):
        a = a.detach().double()
        for c in range(len(CATEGORIES)):
            where = ((cats == c) & queries).unsqueeze(1)  # [batch, 1, seq, seq]
            sums[layer, :, c] = (a * where).sum(dim=(0, 2, 3)).cpu().numpy()
    return sums, int(attention_mask.sum())


def _frame(sums: np.ndarray, n: int) -> pd.DataFrame:
    rows = {(layer + 1, head): sums[layer, head] / n for layer in range(sums.shape[0]) for head in range(sums.shape[1])}
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(CATEGORIES))
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["layer", "head"])
    return frame


def attention_shares(attentions, input_ids, attention_mask, cls_id: int, sep_id: int) -> pd.DataFrame:
    """Share of each head's attention per category, averaged over the real query tokens.

    ``attentions``: the model's ``output_attentions`` (one [batch, heads, seq, seq] tensor per layer).
    One row per (layer, head), layers counted from 1; each row sums to 1 (every attention row does).
    """
    return _frame(*_category_sums(attentions, input_ids, attention_mask, cls_id, sep_id))


def uniform_attention(attention_mask):
    """Attention spread evenly over the real tokens: [batch, 1, seq, seq] (the reference for a head's shares)."""
    mask = attention_mask.double()
    return (mask[:, None, None, :] / mask.sum(-1)[:, None, None, None]).expand(-1, 1, mask.shape[1], -1)


def measure_attention(model, tokenizer, texts, batch_size: int = 64) -> tuple[pd.DataFrame, pd.Series]:
    """:func:`attention_shares` over many ``texts`` (padded batches), and the same shares for even
    attention over the same tokens (a Series over :data:`CATEGORIES`). ``model`` must return attentions
    (loaded with ``attn_implementation="eager"``)."""
    import torch

    texts = list(texts)
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    total, even, n = None, None, 0
    for start in range(0, len(texts), batch_size):
        enc = to_device(tokenizer(texts[start:start + batch_size], padding=True, truncation=True, return_tensors="pt"),
                        model_device(model))
        with torch.no_grad():
            out = model(**enc, output_attentions=True)
        if not out.attentions:
            raise ValueError("The model returned no attentions: load it with attn_implementation='eager'.")
        sums, count = _category_sums(out.attentions, enc["input_ids"], enc["attention_mask"], cls_id, sep_id)
        flat, _ = _category_sums((uniform_attention(enc["attention_mask"]),), enc["input_ids"], enc["attention_mask"],
                                 cls_id, sep_id)
        total = sums if total is None else total + sums
        even = flat if even is None else even + flat
        n += count
    return _frame(total, n), pd.Series(even[0, 0] / n, index=list(CATEGORIES), name="even")


def head_readings(shares: pd.DataFrame, even: pd.Series, digits: int = 3) -> list[str]:
    """One Korean line per head, from the numbers: where most of its attention goes, and the category it
    prefers most over even attention (its share divided by the even share)."""
    lines = []
    for (layer, head), row in shares.iterrows():
        top = row.idxmax()
        lift = {c: row[c] / even[c] for c in CATEGORIES if even[c] > 0}
        best = max(lift, key=lambda c: (round(lift[c], 6), -CATEGORIES.index(c)))
        kind = f"한 곳에 집중(≥ {FOCUSED})" if row[top] >= FOCUSED else f"퍼짐(어느 곳도 {FOCUSED} 미만)"
        lines.append(f"layer {layer} head {head}: {kind}; 가장 많이 {top} {row[top]:.{digits}f} "
                     f"(고르게 볼 때 {even[top]:.{digits}f}); 고르게 볼 때보다 가장 많이 더 보는 곳 {best} "
                     f"{row[best]:.{digits}f} (×{lift[best]:.1f})")
    return lines


@dataclass
class LayerLens:
    """Top-k tokens for one ``[MASK]`` read at every layer (0 = the embeddings, then each encoder layer)."""

    text: str
    position: int
    tables: list = field(default_factory=list)  # per layer: DataFrame(token, probability), rank index (fill_mask's format)
    final_rank: list = field(default_factory=list)  # per layer: 1 + tokens more than TIE_TOL above the last layer's top-1
    final_probability: list = field(default_factory=list)  # per layer: that token's probability

    def frame(self, digits: int = 3) -> pd.DataFrame:
        """One row per layer: the top-k as "token probability", then the last layer's top-1 at this layer."""
        final = self.tables[-1]["token"].iloc[0]
        rows = {}
        for layer, table in enumerate(self.tables):
            row = {f"{rank}": f"{tok} {p:.{digits}f}" for rank, tok, p in zip(table.index, table["token"], table["probability"])}
            row[f"rank of {final}"] = self.final_rank[layer]
            row[f"p({final})"] = round(self.final_probability[layer], digits)
            rows[layer] = row
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("layer")


def layer_lens(model, tokenizer, text: str, k: int = 5) -> LayerLens:
    """Read the single ``[MASK]`` of ``text`` at every layer through the model's own MLM head (:func:`mlm_head`)."""
    import torch

    mask = tokenizer.mask_token
    if text.count(mask) != 1:
        raise ValueError(f"Put exactly one {mask} in the text; got {text.count(mask)} in {text!r}.")
    enc = to_device(tokenizer(text, return_tensors="pt"), model_device(model))
    position = int((enc["input_ids"][0] == tokenizer.mask_token_id).nonzero()[0, 0])
    head = mlm_head(model)
    with torch.no_grad():
        out = model(**enc, output_hidden_states=True)
        probs = [head(h[0, position]).softmax(-1).double().cpu().numpy() for h in out.hidden_states]
    final = ranking.top_k(probs[-1], 1)[0]
    lens = LayerLens(text=text, position=position)
    for p in probs:
        top = ranking.top_k(p, k)
        lens.tables.append(pd.DataFrame({"token": tokenizer.convert_ids_to_tokens(top),
                                         "probability": [round(float(p[i]), 4) for i in top]},
                                        index=pd.RangeIndex(1, len(top) + 1, name="rank")))
        # tokens within TIE_TOL share a rank: the last layer's top-1 is rank 1 there, whatever its tied neighbours
        lens.final_rank.append(1 + int(np.count_nonzero(p > p[final] + ranking.TIE_TOL)))
        lens.final_probability.append(float(p[final]))
    return lens


def spread(n: int, at_most: int = 4) -> list[int]:
    """Up to ``at_most`` indices out of ``range(n)``, evenly spaced, first and last included."""
    if n <= at_most:
        return list(range(n))
    return sorted({int(round(x)) for x in np.linspace(0, n - 1, at_most)})


def plot_attention_grid(attentions, tokens, layers=None, heads=None, row: int = 0, cell: float = 2.8):
    """Heatmaps of ``attentions`` (one [batch, heads, seq, seq] tensor per layer) for sentence ``row``:
    rows = layers, columns = heads (default: all, or 4 evenly spaced if there are more), query tokens
    down, key tokens across, one colour scale 0..1. Returns the figure."""
    import matplotlib.pyplot as plt

    layers = spread(len(attentions)) if layers is None else list(layers)
    heads = spread(attentions[0].shape[1]) if heads is None else list(heads)
    tokens = list(tokens)
    fig, axes = plt.subplots(len(layers), len(heads), figsize=(cell * len(heads) + 1.2, cell * len(layers)),
                             squeeze=False, layout="constrained")
    image = None
    for r, layer in enumerate(layers):
        for c, head in enumerate(heads):
            ax = axes[r][c]
            weights = attentions[layer][row, head].detach().float().cpu().numpy()[: len(tokens), : len(tokens)]
            image = ax.imshow(weights, vmin=0.0, vmax=1.0, cmap="viridis")
            ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=7)
            ax.set_yticks(range(len(tokens)), tokens, fontsize=7)
            ax.set_title(f"layer {layer + 1}, head {head}", fontsize=9)
            if r == len(layers) - 1:
                ax.set_xlabel("key (보이는 토큰)", fontsize=8)
            if c == 0:
                ax.set_ylabel("query (보는 토큰)", fontsize=8)
    fig.colorbar(image, ax=axes, shrink=0.7, label="attention weight")
    return fig
