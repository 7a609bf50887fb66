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


def test_masked_lm_loss_equals_the_models_loss(tok_and_model, questions):
    tok, model = tok_and_model
    _, batch = mlm.mask_for_mlm(tok, questions[:40], seed=7)
    with torch.no_grad():
        expected = model(**batch).loss
        got = mlm.masked_lm_loss(model, batch)
    assert torch.allclose(got, expected, atol=1e-5)
    # a model without the BERT encoder/head split falls back to its own loss
    class Wrapped(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, **kwargs):
            return self.inner(**kwargs)

    with torch.no_grad():
        assert torch.allclose(mlm.masked_lm_loss(Wrapped(model), batch), expected, atol=1e-6)


def test_mini_pretrain_cost_hardly_grows_with_the_vocabulary(tok_and_model, questions):
    # the same mini model with a 100k-row output layer: the loss is still computed (ids beyond
    # the tokenizer are never used) and only the chosen positions reach the vocabulary projection
    tok, _ = tok_and_model
    config = mlm.tiny_mlm_config(tok, hidden_size=32, layers=1, heads=2)
    config.vocab_size = 100_000
    model = mlm.new_tiny_mlm(tok, seed=1, config=config)
    losses, _ = mlm.mini_pretrain(model, tok, questions[:200], steps=3, batch_size=8, seed=1)
    assert len(losses) == 3 and all(np.isfinite(losses))
    assert losses[0] == pytest.approx(np.log(100_000), abs=1.0)  # a fresh model guesses uniformly


def test_top_k_overlap():
    import pandas as pd

    a = pd.DataFrame({"token": ["가", "나", "다", "라"]})
    b = pd.DataFrame({"token": ["라", "다", "나", "가"]})
    c = pd.DataFrame({"token": ["마", "바", "사", "아"]})
    d = pd.DataFrame({"token": ["가", "나", "사", "아"]})
    assert mlm.top_k_overlap([a, b]) == 1.0
    assert mlm.top_k_overlap([a, c]) == 0.0
    assert mlm.top_k_overlap([a, c, d]) == pytest.approx((0 + 0.5 + 0.5) / 3)
    with pytest.raises(ValueError, match="two"):
        mlm.top_k_overlap([a])


def test_frequent_ids(tok_and_model):
    tok, _ = tok_and_model
    words = [w for w, _ in sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
             if w not in tok.all_special_tokens and not w.startswith("##") and tok.tokenize(w) == [w]][:2]
    a, b = words
    texts = [f"{a} {a} {a} {b}", f"{b} {a}", f"[CLS] [SEP] {b}"]  # a: 4 times, b: 3 times, specials skipped
    ids = mlm.frequent_ids(tok, texts, n=2)
    assert ids == tok.convert_tokens_to_ids([a, b])
    assert not set(mlm.frequent_ids(tok, texts, n=10)) & set(tok.all_special_ids)
    with pytest.raises(ValueError, match="no"):
        mlm.frequent_ids(tok, ["[CLS]"])


def test_capped_vocabulary_keeps_specials_and_frequent_ids(tok_and_model, questions):
    tok, _ = tok_and_model
    keep = mlm.capped_vocabulary(tok, questions[:500], size=200)
    assert len(keep) == 200 and keep == sorted(keep)
    assert set(tok.all_special_ids) <= set(keep)
    assert set(mlm.frequent_ids(tok, questions[:500], n=20)) <= set(keep)
    with pytest.raises(ValueError, match="special"):
        mlm.capped_vocabulary(tok, questions[:10], size=3)


def test_new_tiny_mlm_caps_only_a_large_vocabulary(tok_and_model, questions):
    tok, _ = tok_and_model
    whole = mlm.new_tiny_mlm(tok, seed=3, texts=questions[:500])  # the fixture's vocabulary is below the cap
    assert whole.config.vocab_size == len(tok) and not hasattr(whole, "keep_ids")
    capped = mlm.new_tiny_mlm(tok, seed=3, texts=questions[:500], max_vocab=300)
    assert capped.config.vocab_size == 300 and capped.get_input_embeddings().num_embeddings == 300
    again = mlm.new_tiny_mlm(tok, seed=3, texts=questions[:500], max_vocab=300)
    assert all(torch.equal(a, b) for a, b in zip(capped.parameters(), again.parameters()))  # seeded
    config = mlm.tiny_mlm_config(tok, hidden_size=32, layers=1)
    assert mlm.new_tiny_mlm(tok, config=config, texts=questions[:500], max_vocab=300).config.vocab_size == 300
    assert config.vocab_size == len(tok)  # the caller's config is not changed


def test_capped_model_speaks_the_tokenizers_ids(tok_and_model, questions):
    tok, _ = tok_and_model
    model = mlm.new_tiny_mlm(tok, seed=3, texts=questions[:500], max_vocab=300)
    keep = set(model.keep_ids.tolist())
    _, batch = mlm.mask_for_mlm(tok, questions[:40], seed=2)
    with torch.no_grad():
        out = model(**batch)
        assert out.logits.shape[-1] == len(tok)
        outside = [i for i in range(len(tok)) if i not in keep]
        assert torch.isinf(out.logits[..., outside]).all() and torch.isfinite(out.logits[..., sorted(keep)]).all()
        # the fast loss and the model's own loss agree, also for a capped model
        assert torch.allclose(mlm.masked_lm_loss(model, batch), out.loss, atol=1e-5)
    # an id the model does not keep reads as [UNK]
    unknown = next(i for i in range(len(tok)) if i not in keep)
    assert int(model.compact_ids[unknown]) == int(model.compact_ids[tok.unk_token_id])
    table = mlm.fill_mask(model, tok, "오늘 [MASK] 좋다")
    assert set(tok.convert_tokens_to_ids(table["token"].tolist())) <= keep
    losses, _ = mlm.mini_pretrain(model, tok, questions[:500], steps=30, batch_size=16, seed=5)
    assert losses[0] == pytest.approx(np.log(300), abs=1.0)  # uniform over the 300 kept ids
    assert np.mean(losses[-10:]) < np.mean(losses[:5]) - 0.15  # and it learns
