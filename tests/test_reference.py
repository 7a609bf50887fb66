"""helpers.reference: the shipped tiny-ko-bert — checksums, loading, and what its model card claims."""
from __future__ import annotations

import json
import shutil

import pytest
import torch

from helpers import reference, splits
from helpers.reference import ReferenceModelError


def test_shipped_model_verifies_and_loads(reference_dir):
    """Loads with plain from_pretrained, no build (its load time is measured by benchmarks/tiny_ko_bert.py)."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    assert reference_dir == reference.shipped_dir()
    tok = AutoTokenizer.from_pretrained(reference_dir)
    model = AutoModelForMaskedLM.from_pretrained(reference_dir)
    assert model.config.vocab_size == len(tok) > 1000
    assert tok.tokenize("영화 너무 재밌어요") and tok.unk_token not in tok.tokenize("영화 너무 재밌어요")
    listed = (reference_dir / reference.CHECKSUMS).read_text(encoding="utf-8")
    for name in reference.REQUIRED_FILES:
        assert f"  {name}\n" in listed


def test_damaged_copy_is_refused_with_a_fix(reference_dir, tmp_path):
    copy = tmp_path / "tiny-ko-bert"
    shutil.copytree(reference_dir, copy)
    reference.verify_model_dir(copy)  # intact copy passes
    data = bytearray((copy / "model.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (copy / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ReferenceModelError, match="does not match its checksum.*make model"):
        reference.verify_model_dir(copy)
    (copy / "model.safetensors").unlink()
    with pytest.raises(ReferenceModelError, match="missing"):
        reference.verify_model_dir(copy)
    (copy / reference.CHECKSUMS).unlink()
    with pytest.raises(ReferenceModelError, match="no checksums.sha256"):
        reference.verify_model_dir(copy)


def test_publish_writes_verifiable_checksums(fast_build, tmp_path):
    dest = tmp_path / "shipped"
    dest.mkdir()
    (dest / "README.md").write_text("card", encoding="utf-8")
    reference.publish(fast_build, dest)
    reference.verify_model_dir(dest)
    assert (dest / "README.md").read_text(encoding="utf-8") == "card"  # the card is kept, not checksummed
    assert "README.md" not in (dest / reference.CHECKSUMS).read_text(encoding="utf-8")


def test_heldout_split_is_by_question(csv_path):
    from helpers.data import load_chatbot_data

    df = load_chatbot_data(csv_path)
    train, held = splits.split_heldout(df, 100)
    assert len(held) == 100 and not set(held) & set(train["question"])
    assert splits.split_heldout(df, 100)[1] == held


def _fill(model, tok, text, k=3):
    enc = tok(text, return_tensors="pt")
    pos = int((enc["input_ids"][0] == tok.mask_token_id).nonzero()[0, 0])
    with torch.no_grad():
        logits = model(**enc).logits[0, pos]
    return [t.lstrip("#") for t in tok.convert_ids_to_tokens(logits.topk(k).indices.tolist())]


def test_fill_mask_uses_context(reference_dir):
    """The model card's claim: the sentence, not word frequency, decides the candidates.

    (Its two unmet targets, 영화 for "같이 [MASK] 보러 갈래?" and a food word for "저녁에 [MASK]
    시켜 먹자", are reported in the card, not asserted.)
    """
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(reference_dir)
    model = AutoModelForMaskedLM.from_pretrained(reference_dir).eval()
    particles = _fill(model, tok, "나는 학교[MASK] 갔다")
    acting = _fill(model, tok, "배우들 [MASK] 너무 좋았다")
    verdict = _fill(model, tok, "이 영화 정말 [MASK].", k=5)
    assert {"에", "로"} & set(particles), particles  # a particle of direction
    assert any(t.startswith("연기") for t in acting), acting  # what actors are praised for
    assert {"좋다", "재밌다", "재미있다", "최고다", "최고"} & set(verdict), verdict
    assert len({tuple(particles), tuple(acting), tuple(verdict[:3])}) == 3


def test_card_figures_come_from_the_benchmark(reference_dir):
    """The card's generated section matches benchmarks/results/tiny_ko_bert.json, which matches the model."""
    from helpers.reference import masked_accuracy

    results = json.loads((reference.shipped_dir().parents[1] / "benchmarks" / "results" / "tiny_ko_bert.json")
                         .read_text(encoding="utf-8"))
    card = (reference_dir / "README.md").read_text(encoding="utf-8")
    top1 = results["heldout_combined"]["top1"]
    assert f"**{100 * top1:.1f} %**" in card
    assert results["heldout_combined"]["top1"] > results["heldout_combined"]["baseline_top1"] + 0.05
    metrics = json.loads((reference_dir / "metrics.json").read_text(encoding="utf-8"))
    assert results["curve"] == metrics["history"]
    # the chatbot half is quick to recompute: the recorded figure is reproducible from the shipped weights
    from transformers import AutoTokenizer, BertForMaskedLM

    from helpers.data import load_chatbot_data

    tok = AutoTokenizer.from_pretrained(reference_dir)
    model = BertForMaskedLM.from_pretrained(reference_dir)
    _, held = splits.split_heldout(load_chatbot_data(), metrics["config"]["heldout_questions"], metrics["config"]["seed"])
    frequent = tok.convert_tokens_to_ids(metrics["most_frequent_tokens"])
    again = masked_accuracy(model, tok, held, seed=0, frequent=frequent)
    assert again == {k: results["heldout_questions"][k] for k in again}


def test_make_model_rebuilds_the_shipped_recipe(reference_dir):
    """``RECIPES["reference"]`` (what ``make model`` builds) is the recipe the shipped weights were trained with."""
    import dataclasses

    from helpers.pretrain.config import PretrainConfig

    shipped = json.loads((reference_dir / "metrics.json").read_text(encoding="utf-8"))["config"]
    assert shipped == json.loads(json.dumps(dataclasses.asdict(PretrainConfig.recipe("reference"))))
