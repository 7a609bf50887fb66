"""Tests for helpers.ner (lesson 07): BIO alignment chars <-> word pieces, entity F1, Trainer fine-tuning, highlighting."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from helpers import ner, splits


@pytest.fixture(scope="module")
def tokenizer(reference_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(reference_dir)


def tagged(sentence: str, spans: list[tuple[str, str]]):
    """Characters and BIO tags of ``sentence`` with each (text, type) span tagged (spaces inside are I-)."""
    chars, tags = list(sentence), ["O"] * len(sentence)
    for text, kind in spans:
        s = sentence.index(text)
        tags[s] = f"B-{kind}"
        for i in range(s + 1, s + len(text)):
            tags[i] = f"I-{kind}"
    return chars, tags


def test_round_trip_keeps_word_aligned_entities(tokenizer):
    chars, tags = tagged("서울 시청 에서 2020 년 회의", [("서울 시청", "OG"), ("2020 년", "DT")])
    enc = ner.char_tags_to_tokens(tokenizer, chars, tags)
    assert enc["labels"][0] == ner.IGNORE and enc["labels"][-1] == ner.IGNORE  # [CLS], [SEP]
    assert len(enc["labels"]) == len(enc["input_ids"]) == len(enc["offsets"])
    labels = [ner.LABELS[i] if i != ner.IGNORE else "O" for i in enc["labels"]]
    back = ner.token_tags_to_chars(len(chars), enc["offsets"], labels)
    assert back == tags  # the spaces inside both entities come back as I-


def test_entity_inside_a_piece_is_lost_and_ceiling_says_so(tokenizer):
    chars, tags = tagged("박씨의 딸", [("박", "PS")])
    enc = ner.char_tags_to_tokens(tokenizer, chars, tags)
    pieces = tokenizer.convert_ids_to_tokens(enc["input_ids"])
    labels = [ner.LABELS[i] if i != ner.IGNORE else "O" for i in enc["labels"]]
    back = ner.token_tags_to_chars(len(chars), enc["offsets"], labels)
    if pieces[1] == "박":  # the entity is its own piece: exact
        assert back == tags
    else:  # the piece holds more than the entity: the span grows
        assert back[0] == "B-PS" and back[1] == "I-PS"
    df = pd.DataFrame({"chars": [chars, list("서울 시청")], "tags": [tags, ["B-LC", "I-LC", "O", "B-OG", "I-OG"]]})
    assert 0 < ner.alignment_ceiling(tokenizer, df) <= 1


def test_entity_report_is_seqeval():
    from seqeval.metrics import f1_score

    gold = [["B-PS", "I-PS", "O", "B-LC"], ["O", "B-DT", "I-DT"]]
    pred = [["B-PS", "I-PS", "O", "O"], ["O", "B-DT", "O"]]
    report = ner.entity_report(gold, pred)
    assert report.loc["micro avg", "f1"] == pytest.approx(f1_score(gold, pred))
    assert report.loc["PS 사람 (person)", "f1"] == 1.0 and report.loc["DT 날짜 (date)", "f1"] == 0.0
    assert report.loc["LC 장소 (location)", "support"] == 1


def test_split_is_by_sentence_and_seeded():
    df = pd.DataFrame({"sentence": [f"s{i}" for i in range(50)] + ["s0"], "chars": [["a"]] * 51,
                       "tags": [["O"]] * 51})
    tr, te = splits.split_sentences(df, 0.2, seed=1)
    assert len(tr) + len(te) == 50 and not set(tr.sentence) & set(te.sentence)
    assert list(te.sentence) == list(splits.split_sentences(df, 0.2, seed=1)[1].sentence)
    with pytest.raises(ValueError, match="Fix"):
        splits.split_sentences(df, 1.5)


def test_highlight():
    chars, tags = tagged("이순신 장군 & 조선", [("이순신", "PS"), ("조선", "LC")])
    assert ner.highlight_text(chars, tags) == "<이순신:PS> 장군 & <조선:LC>"
    html = ner.highlight_html(chars, tags)
    assert html.count("<mark") == 2 and "&amp;" in html and "<sub>PS</sub>" in html


def test_train_and_predict_with_trainer(tokenizer, reference_dir):
    from transformers import AutoModelForTokenClassification, BertConfig

    sents = [tagged(f"김철수 는 서울 에 {i} 번 갔다", [("김철수", "PS"), ("서울", "LC")]) for i in range(24)]
    df = pd.DataFrame({"sentence": ["".join(c) for c, _ in sents], "chars": [c for c, _ in sents],
                       "tags": [t for _, t in sents]})
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=64, num_labels=len(ner.LABELS))
    model = AutoModelForTokenClassification.from_config(cfg)
    log = ner.train_ner(model, tokenizer, df, epochs=6, batch_size=8, lr=5e-3, max_len=32)
    assert not model.training and list(log.columns) == ["epoch", "step", "loss"]
    assert log.loss.iloc[-1] < log.loss.iloc[0]
    pred = ner.predict_chars(model, tokenizer, df.head(4), max_len=32)
    assert [len(p) for p in pred] == [len(c) for c in df.chars.head(4)]
    assert ner.entity_report(list(df.tags.head(4)), pred).loc["micro avg", "f1"] > 0.5
