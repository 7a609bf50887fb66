"""helpers.mlm: BERT masking, fill-mask, the live mini pretraining, BERT vs GPT visibility."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import mlm


@pytest.fixture(scope="module")
def tok_and_model(fast_build):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    return AutoTokenizer.from_pretrained(fast_build), AutoModelForMaskedLM.from_pretrained(fast_build).eval()


@pytest.fixture(scope="module")
def questions(csv_path):
    from helpers import load_chatbot_data

    return load_chatbot_data(csv_path)["question"].tolist()


def test_masking_follows_bert_rules(tok_and_model, questions):
    tok, _ = tok_and_model
    original, batch = mlm.mask_for_mlm(tok, questions[:2000], seed=1)
    labels, inputs = batch["labels"], batch["input_ids"]
    chosen = labels != -100
    # labels hold the original id exactly where a token was chosen
    assert torch.equal(labels[chosen], original[chosen])
    # special tokens ([CLS], [SEP], [PAD]) are never chosen
    special = torch.isin(original, torch.tensor(tok.all_special_ids))
    assert not (chosen & special).any()
    # tokens that were not chosen are left as they were
    assert torch.equal(inputs[~chosen], original[~chosen])
    c = mlm.masking_counts(tok, original, batch)
    assert c["chosen"] == c["mask"] + c["random"] + c["unchanged"]
    assert abs(c["chosen"] / c["candidates"] - 0.15) < 0.015
    assert abs(c["mask"] / c["chosen"] - 0.8) < 0.04
    assert abs(c["random"] / c["chosen"] - 0.1) < 0.03


def test_masking_is_seeded(tok_and_model, questions):
    tok, _ = tok_and_model
    a = mlm.mask_for_mlm(tok, questions[:50], seed=3)[1]
    b = mlm.mask_for_mlm(tok, questions[:50], seed=3)[1]
    c = mlm.mask_for_mlm(tok, questions[:50], seed=4)[1]
    assert torch.equal(a["labels"], b["labels"]) and torch.equal(a["input_ids"], b["input_ids"])
    assert not torch.equal(a["labels"], c["labels"])


def test_masking_table_matches_batch(tok_and_model, questions):
    tok, _ = tok_and_model
    original, batch = mlm.mask_for_mlm(tok, questions[:20], seed=0)
    for row in range(20):
        table = mlm.masking_table(tok, original, batch, row)
        assert len(table) == int(batch["attention_mask"][row].sum())
        assert (table["what"] != "").sum() == int((batch["labels"][row] != -100).sum())
        assert set(table.loc[table["what"] == "[MASK]", "input"]) <= {tok.mask_token}
        assert (table.loc[table["what"] == "", "label"] == -100).all()


@pytest.mark.parametrize("bad", [[], [""], "not a list item", [1, 2]])
def test_mask_for_mlm_rejects_bad_sentences(tok_and_model, bad):
    tok, _ = tok_and_model
    with pytest.raises(ValueError, match="non-empty"):
        mlm.mask_for_mlm(tok, bad if isinstance(bad, list) else [bad, ""])


def test_mask_for_mlm_rejects_bad_probability(tok_and_model):
    tok, _ = tok_and_model
    with pytest.raises(ValueError, match="0.15"):
        mlm.mask_for_mlm(tok, ["안녕"], probability=1.5)


def test_fill_mask_table(tok_and_model):
    tok, model = tok_and_model
    table = mlm.fill_mask(model, tok, "오늘 [MASK] 너무 좋다", top_k=7)
    assert list(table.index) == list(range(1, 8))
    probs = table["probability"].to_numpy()
    assert np.all(np.diff(probs) <= 0) and 0 < probs.sum() <= 1.0001
    # same as taking the softmax by hand
    enc = tok("오늘 [MASK] 너무 좋다", return_tensors="pt")
    pos = int((enc["input_ids"][0] == tok.mask_token_id).nonzero()[0, 0])
    with torch.no_grad():
        best = int(model(**enc).logits[0, pos].argmax())
    assert table["token"].iloc[0] == tok.convert_ids_to_tokens(best)


@pytest.mark.parametrize("text", ["마스크 없음", "[MASK] 두 개 [MASK]"])
def test_fill_mask_needs_exactly_one_mask(tok_and_model, text):
    tok, model = tok_and_model
    with pytest.raises(ValueError, match="exactly one"):
        mlm.fill_mask(model, tok, text)


def test_mini_pretrain_learns_and_is_deterministic(tok_and_model, questions):
    tok, _ = tok_and_model
    config = mlm.tiny_mlm_config(tok, hidden_size=32, layers=1, heads=2)
    runs = []
    for _ in range(2):
        model = mlm.new_tiny_mlm(tok, seed=5, config=config)
        losses, seconds = mlm.mini_pretrain(model, tok, questions[:500], steps=40, batch_size=16, seed=5)
        runs.append(losses)
    assert len(runs[0]) == 40 and seconds > 0
    assert runs[0] == runs[1]
    assert np.mean(runs[0][-10:]) < np.mean(runs[0][:5]) - 0.3
    assert not model.training


def test_mini_pretrain_rejects_mismatched_model(tok_and_model, questions):
    tok, _ = tok_and_model
    small = mlm.tiny_mlm_config(tok, hidden_size=32, layers=1)
    small.vocab_size = 10
    with pytest.raises(ValueError, match="resize_token_embeddings"):
        mlm.mini_pretrain(mlm.new_tiny_mlm(tok, config=small), tok, questions[:100], steps=1, batch_size=4)
    with pytest.raises(ValueError, match="batch_size"):
        mlm.mini_pretrain(mlm.new_tiny_mlm(tok), tok, questions[:3], steps=1, batch_size=4)


def test_smooth_is_a_trailing_moving_average():
    values = [4.0, 2.0, 6.0, 0.0, 8.0]
    out = mlm.smooth(values, window=2)
    assert np.allclose(out, [4.0, 3.0, 4.0, 3.0, 4.0])
    assert np.allclose(mlm.smooth(values, window=1), values)


def test_visibility_tables():
    tokens = ["같이", "영화", "보러", "갈래", "?"]
    bert = mlm.visibility_table(tokens, "bert")
    gpt = mlm.visibility_table(tokens, "gpt")
    assert (bert.to_numpy() == "O").all()
    seen = gpt.to_numpy() == "O"
    assert np.array_equal(seen, np.tril(np.ones((5, 5), dtype=bool)))
    with pytest.raises(ValueError, match="bert"):
        mlm.visibility_table(tokens, "t5")
