"""helpers.models: name resolution, hub errors offline, and local checkpoints via the hub path."""
from __future__ import annotations

import pytest
import torch

from helpers import models
from helpers.models import ModelNotAvailableError, load_model


def test_resolve_order(monkeypatch):
    monkeypatch.delenv("BERT_MODEL", raising=False)
    assert models.resolve_model_name() == "tiny-ko-bert"
    monkeypatch.setenv("BERT_MODEL", "klue/bert-base")
    assert models.resolve_model_name() == "klue/bert-base"
    assert models.resolve_model_name("bert-base-multilingual-cased") == "bert-base-multilingual-cased"


def test_hub_id_offline_names_the_offline_choice(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty hub cache
    with pytest.raises(ModelNotAvailableError) as info:
        load_model("klue/bert-base")
    message = str(info.value)
    assert "klue/bert-base" in message and "BERT_MODEL=tiny-ko-bert" in message


def test_not_a_checkpoint_dir(tmp_path):
    with pytest.raises(ModelNotAvailableError, match="no config.json"):
        load_model(str(tmp_path))


def test_local_checkpoint_through_hub_code_path(fast_build, tmp_path):
    """A directory written by save_pretrained loads exactly as a hub id would."""
    tokenizer, model = load_model(str(fast_build), head="mlm")
    saved = tmp_path / "my-bert"
    model.save_pretrained(saved)
    tokenizer.save_pretrained(saved)
    tok2, base = load_model(str(saved))  # AutoModel: encoder + pooler
    assert not base.training
    enc = tok2(["오늘 하루 어떻게 보냈나요?"], return_tensors="pt")
    with torch.no_grad():
        out = base(**enc)
    assert out.last_hidden_state.shape[-1] == base.config.hidden_size
    assert out.pooler_output.shape == (1, base.config.hidden_size)
    from transformers import pipeline

    fill = pipeline("fill-mask", model=str(saved), tokenizer=str(saved))
    preds = fill(f"오늘 {tok2.mask_token} 좋다")
    assert len(preds) == 5 and all("score" in p for p in preds)
    assert models.display_name(str(saved)) == "local:my-bert"


def test_unknown_head():
    with pytest.raises(ValueError, match="Unknown head"):
        load_model("tiny-ko-bert", head="gpt")


def test_reference_by_name(reference_dir, monkeypatch):
    monkeypatch.setenv("BERT_MODEL", "tiny-ko-bert")
    tokenizer, model = load_model()
    assert models.model_source() == str(reference_dir)
    ids = tokenizer("오늘 하루 어떻게 보냈나요?")["input_ids"]
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.convert_ids_to_tokens(ids)[0] == "[CLS]"


def test_sentence_model_source(tmp_path):
    from helpers.models import SENTENCE_MODEL, sentence_model_source, shipped_sentence_dir

    assert sentence_model_source("some-org/some-sbert") == "some-org/some-sbert"  # a hub id passes through
    with pytest.raises(ModelNotAvailableError, match="modules.json"):
        sentence_model_source(str(tmp_path))
    (tmp_path / "modules.json").write_text("[]", encoding="utf-8")
    assert sentence_model_source(str(tmp_path)) == str(tmp_path)
    if shipped_sentence_dir().is_dir():
        assert sentence_model_source() == sentence_model_source(SENTENCE_MODEL) == str(shipped_sentence_dir())


def test_load_model_puts_the_model_on_the_runtime_device(reference_dir, monkeypatch):
    """load_model follows helpers.runtime's decision (here mocked to the "meta" device: no GPU needed)."""
    from helpers.runtime import forward

    real, chosen = forward.choose_device, []

    def choose(requested=None):
        chosen.append(requested)
        return torch.device("meta")

    monkeypatch.setattr(forward, "choose_device", choose)
    tokenizer, model = load_model("tiny-ko-bert", head="mlm")
    assert chosen == [None]  # the runtime's own choice ($KO_BERT_DEVICE, else CUDA, MPS, CPU)
    assert model.device.type == "meta" and not model.training
    assert {p.device.type for p in model.parameters()} == {"meta"}
    monkeypatch.setattr(forward, "choose_device", real)
    _, model = load_model("tiny-ko-bert")
    assert model.device == real()  # on this machine the CPU: the lessons' stored outputs do not move
