"""helpers.inside (lesson 10): embeddings by hand, attention shares, per-layer [MASK] readings, the heatmap grid."""
from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers import inside, mlm  # noqa: E402
from helpers.lesson import use_korean_font  # noqa: E402

SHAPE = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
TEXTS = ["주말에 같이 영화 보러 갈래?", "응", "오늘 하루 어떻게 보냈나요? 너무 피곤하네요"]


@pytest.fixture(scope="module")
def tokenizer(reference_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(reference_dir)


def _model(tokenizer, kind: str):
    from transformers import AutoModelForMaskedLM, BertConfig, RobertaConfig

    torch.manual_seed(0)
    if kind == "roberta":
        config = RobertaConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, type_vocab_size=1,
                               max_position_embeddings=80, **SHAPE)
    else:
        config = BertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, max_position_embeddings=64,
                            **SHAPE)
    return AutoModelForMaskedLM.from_config(config, attn_implementation="eager").eval()


@pytest.fixture(scope="module", params=["bert", "roberta"])
def kind_model(request, tokenizer):
    return request.param, _model(tokenizer, request.param)


def test_embeddings_by_hand_equal_the_model(tokenizer, kind_model):
    kind, model = kind_model
    enc = tokenizer(TEXTS, padding=True, return_tensors="pt")
    ids = enc["input_ids"]
    segments = enc["token_type_ids"] if kind == "bert" else torch.zeros_like(ids)
    emb = model.base_model.embeddings
    positions = inside.position_ids(emb, ids)
    if kind == "bert":
        assert positions[0].tolist() == list(range(ids.shape[1]))
    else:  # RoBERTa: from padding_idx + 1; padding keeps the padding position
        pad = tokenizer.pad_token_id
        assert positions[0, 0].item() == pad + 1 and (positions[ids == pad] == pad).all()
    with torch.no_grad():
        by_hand = emb.LayerNorm(emb.word_embeddings(ids) + emb.position_embeddings(positions)
                                + emb.token_type_embeddings(segments))
        assert torch.allclose(by_hand, emb(input_ids=ids, token_type_ids=segments), atol=1e-5)
        out = model(input_ids=ids, attention_mask=enc["attention_mask"], output_hidden_states=True)
    real = enc["attention_mask"].bool()
    assert torch.allclose(by_hand[real], out.hidden_states[0][real], atol=1e-5)


def test_mlm_head_reads_the_last_layer_as_the_model_does(tokenizer, kind_model):
    _, model = kind_model
    enc = tokenizer(TEXTS[0], return_tensors="pt")
    with torch.no_grad():
        out = model(**{k: v for k, v in enc.items() if k != "token_type_ids"}, output_hidden_states=True)
        assert torch.allclose(inside.mlm_head(model)(out.hidden_states[-1]), out.logits, atol=1e-5)
    with pytest.raises(ValueError, match="head='mlm'"):
        inside.mlm_head(model.base_model)


def test_key_categories_follow_the_priority_order():
    cls, sep = 101, 102
    ids = torch.tensor([[cls, 7, 8, sep, 0]])
    cats = inside.key_categories(ids, cls, sep)[0]
    name = {i: c for i, c in enumerate(inside.CATEGORIES)}
    grid = [[name[int(c)] for c in row] for row in cats]
    assert [grid[i][i] for i in range(5)] == ["self"] * 5  # the query itself first, even for [CLS] / [SEP]
    assert grid[1][0] == "[CLS]" and grid[2][3] == "[SEP]"  # previous of 1 is [CLS]; next of 2 is [SEP]
    assert grid[2][1] == "previous" and grid[1][2] == "next" and grid[3][2] == "previous"
    assert grid[0][1] == "next" and grid[1][4] == "other" and grid[3][4] == "next"


def test_shares_of_constructed_attention():
    cls, sep = 101, 102
    ids = torch.tensor([[cls, 5, 6, 7, sep]])
    mask = torch.ones_like(ids)
    prev = torch.zeros(1, 1, 5, 5)
    for i in range(5):
        prev[0, 0, i, max(i - 1, 0)] = 1.0  # every query looks at the piece before it ([CLS] at itself)
    shares = inside.attention_shares((prev,), ids, mask, cls, sep)
    assert list(shares.columns) == list(inside.CATEGORIES) and shares.index.tolist() == [(1, 0)]
    row = shares.loc[(1, 0)]
    assert row["self"] == pytest.approx(1 / 5) and row["[CLS]"] == pytest.approx(1 / 5)  # query 0 (self), query 1 ([CLS])
    assert row["previous"] == pytest.approx(3 / 5) and row.sum() == pytest.approx(1.0)
    even = inside.attention_shares((inside.uniform_attention(mask),), ids, mask, cls, sep).loc[(1, 0)]
    assert even["self"] == pytest.approx(1 / 5) and even.sum() == pytest.approx(1.0)


def test_uniform_attention_ignores_padding():
    mask = torch.tensor([[1, 1, 1, 0]])
    u = inside.uniform_attention(mask)
    assert u.shape == (1, 1, 4, 4) and torch.allclose(u.sum(-1), torch.ones(1, 1, 4, dtype=u.dtype))
    assert (u[..., 3] == 0).all()


def test_measure_attention_pools_sentences_by_their_query_tokens(tokenizer, kind_model):
    _, model = kind_model
    shares, even = inside.measure_attention(model, tokenizer, TEXTS, batch_size=2)  # padded batches
    assert np.allclose(shares.sum(axis=1), 1.0, atol=1e-5) and even.sum() == pytest.approx(1.0)
    assert len(shares) == model.config.num_hidden_layers * model.config.num_attention_heads
    parts, weights = [], []
    for text in TEXTS:  # one by one, no padding, weighted by the number of pieces
        enc = tokenizer(text, return_tensors="pt")
        with torch.no_grad():
            out = model(**{k: v for k, v in enc.items() if k in tokenizer.model_input_names}, output_attentions=True)
        parts.append(inside.attention_shares(out.attentions, enc["input_ids"], enc["attention_mask"],
                                             tokenizer.cls_token_id, tokenizer.sep_token_id))
        weights.append(enc["input_ids"].shape[1])
    pooled = sum(p * w for p, w in zip(parts, weights)) / sum(weights)
    assert np.allclose(shares.to_numpy(), pooled.to_numpy(), atol=1e-5)


def test_measure_attention_needs_eager_attention(tokenizer):
    from transformers import AutoModelForMaskedLM, BertConfig

    model = AutoModelForMaskedLM.from_config(BertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                                                        max_position_embeddings=64, **SHAPE),
                                             attn_implementation="sdpa").eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="eager"):
            inside.measure_attention(model, tokenizer, TEXTS[:1])


def test_head_readings_say_focused_or_spread():
    shares = pd.DataFrame([[0.1, 0.0, 0.1, 0.7, 0.05, 0.05], [0.2, 0.1, 0.2, 0.1, 0.1, 0.3]],
                          columns=list(inside.CATEGORIES),
                          index=pd.MultiIndex.from_tuples([(1, 0), (1, 1)], names=["layer", "head"]))
    even = pd.Series([0.1, 0.1, 0.1, 0.1, 0.1, 0.5], index=list(inside.CATEGORIES))
    first, second = inside.head_readings(shares, even)
    assert first.startswith("layer 1 head 0: 한 곳에 집중") and "가장 많이 previous 0.700" in first and "(×7.0)" in first
    assert second.startswith("layer 1 head 1: 퍼짐") and "가장 많이 other 0.300" in second
    assert "보는 곳 self 0.200 (×2.0)" in second  # self and [SEP] tie at x2.0: the earlier category of CATEGORIES


def test_layer_lens_ends_at_fill_mask_and_starts_without_context(tokenizer, kind_model):
    _, model = kind_model
    lens = inside.layer_lens(model, tokenizer, "같이 [MASK] 보러 갈래?", k=5)
    assert len(lens.tables) == model.config.num_hidden_layers + 1 and lens.final_rank[-1] == 1
    fill = mlm.fill_mask(model, tokenizer, "같이 [MASK] 보러 갈래?")
    assert lens.tables[-1]["token"].tolist() == fill["token"].tolist()
    assert np.allclose(lens.tables[-1]["probability"], fill["probability"], atol=1e-4)
    other = inside.layer_lens(model, tokenizer, "같이 [MASK] 먹으러 갈래?", k=5)
    assert other.tables[0].equals(lens.tables[0])  # layer 0: the [MASK] piece and its position only
    frame = lens.frame()
    final = lens.tables[-1]["token"].iloc[0]
    assert frame.index.tolist() == list(range(len(lens.tables)))
    assert list(frame.columns) == ["1", "2", "3", "4", "5", f"rank of {final}", f"p({final})"]
    assert frame[f"rank of {final}"].iloc[-1] == 1
    with pytest.raises(ValueError, match="exactly one"):
        inside.layer_lens(model, tokenizer, "마스크 없는 문장")


def test_spread():
    assert inside.spread(2) == [0, 1] and inside.spread(4) == [0, 1, 2, 3]
    assert inside.spread(12) == [0, 4, 7, 11] and inside.spread(12, at_most=2) == [0, 11]


def test_attention_grid_draws_hangul(tokenizer, kind_model):
    _, model = kind_model
    use_korean_font()
    enc = tokenizer(TEXTS[0], return_tensors="pt")
    with torch.no_grad():
        out = model(**{k: v for k, v in enc.items() if k in tokenizer.model_input_names}, output_attentions=True)
    pieces = tokenizer.convert_ids_to_tokens(enc["input_ids"][0])
    fig = inside.plot_attention_grid(out.attentions, pieces)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["layer 1, head 0", "layer 1, head 1", "layer 2, head 0", "layer 2, head 1"]
    assert [t.get_text() for t in panels[0].get_xticklabels()] == pieces
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    assert not [str(w.message) for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)]
    plt.close(fig)
