"""helpers.tokens: token tables, added-token flags, resized embeddings, round trip, entity markers."""
from __future__ import annotations

import pytest
import torch

from helpers import tokens as tk


@pytest.fixture()
def tok(fast_build):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(fast_build)


@pytest.fixture()
def mlm_model(fast_build):
    from transformers import AutoModelForMaskedLM

    return AutoModelForMaskedLM.from_pretrained(fast_build).eval()


def test_token_table_kinds(tok):
    tok.add_tokens(["뉴진스"])
    tok.add_special_tokens({"additional_special_tokens": ["[E1]"]})
    table = tk.token_table(tok, "[E1]뉴진스는 깟뻬뜨랑")
    kinds = dict(zip(table["token"], table["kind"]))
    assert kinds["[CLS]"] == kinds["[SEP]"] == kinds["[E1]"] == "special"
    assert kinds["뉴진스"] == "added"
    assert kinds["[UNK]"] == "unk"
    assert table["id"].tolist() == tok("[E1]뉴진스는 깟뻬뜨랑")["input_ids"]
    no_special = tk.token_table(tok, "뉴진스", add_special_tokens=False)
    assert no_special["token"].tolist() == ["뉴진스"]
    with pytest.raises(TypeError, match="string"):
        tk.token_table(tok, ["list"])


def test_added_tokens_table_flags(tok):
    from transformers import AddedToken

    v = tok.vocab_size
    assert tk.added_tokens_table(tok).empty
    tok.add_tokens([AddedToken("뉴진스", single_word=True)])
    tok.add_special_tokens({"additional_special_tokens": [AddedToken("[E1]", lstrip=True)]})
    table = tk.added_tokens_table(tok)
    assert table["id"].tolist() == [v, v + 1]
    first, second = table.iloc[0], table.iloc[1]
    assert (first["content"], bool(first["special"]), bool(first["single_word"]), bool(first["normalized"])) == \
        ("뉴진스", False, True, True)
    assert (second["content"], bool(second["special"]), bool(second["lstrip"]), bool(second["normalized"])) == \
        ("[E1]", True, True, False)


def test_new_row_report_after_mean_resizing(tok, mlm_model):
    tok.add_special_tokens({"additional_special_tokens": list(tk.ENTITY_MARKERS)})
    old = mlm_model.get_input_embeddings().weight.detach().clone()
    mlm_model.resize_token_embeddings(len(tok))
    report = tk.new_row_report(old, mlm_model.get_input_embeddings().weight)
    assert report["row"].tolist() == list(range(old.shape[0], len(tok)))
    assert (report["distance_to_old_mean"] < 0.01 * report["typical_old_distance"]).all()


def test_new_row_report_random_rows_are_far(tok, mlm_model):
    tok.add_tokens(["뉴진스", "챗봇이다"])
    old = mlm_model.get_input_embeddings().weight.detach().clone()
    torch.manual_seed(0)
    mlm_model.resize_token_embeddings(len(tok), mean_resizing=False)
    report = tk.new_row_report(old, mlm_model.get_input_embeddings().weight)
    assert (report["distance_to_old_mean"] > 0.1 * report["typical_old_distance"]).all()


def test_new_row_report_bad_input():
    with pytest.raises(ValueError, match="more rows"):
        tk.new_row_report(torch.zeros(3, 2), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="keep them"):
        tk.new_row_report(torch.zeros(3, 2), torch.ones(4, 2))


def test_round_trip_extended_tokenizer_and_model(tok, mlm_model, tmp_path):
    from transformers import AddedToken

    tok.add_tokens([AddedToken("뉴진스", single_word=True)])
    tok.add_special_tokens({"additional_special_tokens": list(tk.ENTITY_MARKERS)})
    mlm_model.resize_token_embeddings(len(tok))
    checks = tk.round_trip(tok, mlm_model, tmp_path / "saved", ["뉴진스 최고", "[E1]이순신[/E1]은 [E2]조선[/E2]"])
    assert checks and all(checks.values()), checks
    assert (tmp_path / "saved" / "config.json").is_file()


def test_mark_entities():
    text = "이순신은 조선 중기의 무신이다."
    assert tk.mark_entities(text, "이순신", "조선") == "[E1]이순신[/E1]은 [E2]조선[/E2] 중기의 무신이다."
    assert tk.mark_entities(text, "조선", "이순신") == "[E2]이순신[/E2]은 [E1]조선[/E1] 중기의 무신이다."
    with pytest.raises(ValueError, match="does not occur"):
        tk.mark_entities(text, "세종", "조선")
    with pytest.raises(ValueError, match="overlap"):
        tk.mark_entities(text, "이순신은", "순신")


def test_marker_positions(tok):
    marked = tk.mark_entities("이순신은 조선 중기의 무신이다.", "이순신", "조선")
    with pytest.raises(ValueError, match="add_special_tokens"):
        tk.marker_positions(tok, tok(marked)["input_ids"])
    tok.add_special_tokens({"additional_special_tokens": list(tk.ENTITY_MARKERS)})
    ids = tok(marked)["input_ids"]
    pos = tk.marker_positions(tok, ids)
    assert pos["[E1]"] == 1 and pos["[E1]"] < pos["[/E1]"] < pos["[E2]"] < pos["[/E2]"]
    assert [tok.convert_ids_to_tokens(ids[p]) for p in pos.values()] == list(tk.ENTITY_MARKERS)
    assert pos == tk.marker_positions(tok, torch.tensor(ids))
