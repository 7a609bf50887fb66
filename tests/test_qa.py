"""Tests for helpers.qa (lesson 08): KorQuAD's metric, span decoding, windows with offsets, the lexical
baseline, SQuAD-shape validation, the split by article, the Trainer arguments, training, and the CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import qa
from helpers.qa import metric
from helpers.qa.decode import decode, pipeline_decode, window_best

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- the metric
def test_normalisation_follows_korquad():
    assert metric.normalize_answer("《토지》") == "토지"
    assert metric.normalize_answer("  ‘박경리’의  (1969) ") == "박경리 의 1969"
    assert metric.normalize_answer("Hello, World!") == "hello world"
    assert metric.normalize_answer('"A"-B') == "a b"  # quotes become spaces, other ASCII punctuation goes
    assert metric.normalize_answer("A-B") == "ab"
    assert metric.exact_match("《토지》", "토지") == 1.0
    assert metric.exact_match("토지를", "토지") == 0.0


def test_character_f1_by_hand():
    # gold 1989년2월15일 (10 characters) inside the prediction (11): P 10/11, R 1
    assert metric.char_f1("1989년 2월 15일에", "1989년 2월 15일") == pytest.approx(2 * (10 / 11) / (10 / 11 + 1))
    assert metric.char_f1("서울에서", "서울") == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert metric.char_f1("aaa", "a") == pytest.approx(0.5)  # characters count as a multiset
    assert metric.char_f1("부산", "서울") == 0.0
    assert metric.char_f1("임 수 경", "임수경") == 1.0  # spaces do not count


def test_korquad_f1_differs_from_squad_word_f1():
    # a particle glued to the last word: word F1 loses a whole word, character F1 one character
    assert metric.word_f1("1989년 2월 15일에", "1989년 2월 15일") == pytest.approx(2 / 3)
    assert metric.char_f1("1989년 2월 15일에", "1989년 2월 15일") > 0.95
    assert metric.word_f1("서울에서", "서울") == 0.0 and metric.char_f1("서울에서", "서울") > 0.6
    assert metric.word_f1("the answer", "answer") == 1.0 and metric.char_f1("the answer", "answer") < 1
    table = metric.compare_metrics([("서울에서", "서울")])
    assert list(table.columns) == ["prediction", "gold", "EM", "KorQuAD char F1", "SQuAD word F1"]


def test_score_best_gold_and_missing_predictions():
    golds = {"a": ["서울", "서울특별시"], "b": ["부산"], "c": ["대구"]}
    out = metric.score({"a": "서울특별시", "b": "부산광역시"}, golds)
    assert out["n"] == 3 and out["exact_match"] == pytest.approx(100 / 3, abs=0.01)
    assert out["f1"] == pytest.approx(100 * (1 + metric.char_f1("부산광역시", "부산")) / 3, abs=0.01)
    with pytest.raises(ValueError):
        metric.score({}, {})


# --------------------------------------------------------------------------- decoding
def _window(n, context_from, logits_start, logits_end):
    offsets = [None] * context_from + [(2 * k, 2 * k + 2) for k in range(n - context_from)]
    return offsets, np.array(logits_start, float), np.array(logits_end, float)


def test_window_best_keeps_start_before_end_and_max_length():
    # pieces 0 = [CLS], 1 = question, 2..6 context; the best single start is after the best single end
    offsets, s, e = _window(7, 2, [0, 9, 1, 0, 0, 5, 0], [0, 9, 0, 4, 0, -3, -3])
    score, start, end = window_best(s, e, offsets, max_answer_len=30)
    assert (start, end) == (2, 3)  # start 5 / end 3 is impossible; question piece 1 is never chosen
    score, start, end = window_best(s, e, offsets, max_answer_len=1)
    assert start == end == 3
    offsets, s, e = _window(6, 2, [0, 0, 3, 0, 0, 0], [0, 0, 0, 0, 0, 3])
    assert window_best(s, e, offsets, max_answer_len=4)[1:] == (2, 5)
    assert window_best(s, e, offsets, max_answer_len=3)[2] - window_best(s, e, offsets, max_answer_len=3)[1] <= 2
    assert window_best(s, e, [None] * 6) is None


def test_decode_across_windows_uses_cls_and_agrees_with_transformers():
    context = "가나다라마바사아자차"
    # two windows of one question: window 0 has higher raw logits on "다라" but its [CLS] is higher still
    # ("not here"); window 1 points at "아자" with [CLS] low. The softmax over context + [CLS] prefers window 1.
    offs0 = [None, None] + [(k, k + 1) for k in range(0, 5)]
    offs1 = [None, None] + [(k, k + 1) for k in range(5, 10)]
    feats = {"example": [0, 0], "offsets": [offs0, offs1], "cls_index": [0, 0], "attention_mask": [[1] * 7] * 2}
    start = np.array([[12, 0, 0, 0, 8, 0, 0], [-5, 0, 0, 0, 4, 0, 0]], float)
    end = np.array([[12, 0, 0, 0, 0, 8, 0], [-5, 0, 0, 0, 0, 4, 0]], float)
    assert start[0, 4] + end[0, 5] > start[1, 4] + end[1, 5]  # raw logit sums would pick window 0 ("다라")
    out = decode(feats, start, end, [context])
    assert out[0]["answer"] == "아자" and out[0]["window"] == 1 and (out[0]["start"], out[0]["end"]) == (7, 9)
    assert pipeline_decode(feats, start, end, [context]) == ["아자"]
    rng = np.random.default_rng(0)
    for _ in range(20):  # random logits: the same decision as transformers' select_starts_ends
        s, e = rng.normal(size=(2, 7)) * 3, rng.normal(size=(2, 7)) * 3
        assert [d["answer"] for d in decode(feats, s, e, [context], max_answer_len=3)] == \
            pipeline_decode(feats, s, e, [context], max_answer_len=3)


# --------------------------------------------------------------------------- features
@pytest.fixture(scope="module")
def tokenizer(reference_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(reference_dir)


LONG = " ".join(f"{k}번째 문장은 아무 정보도 없는 채움 문장입니다." for k in range(40)) + " 정답은 바로 이순신 장군입니다."


def test_features_windows_map_back_to_the_answer(tokenizer):
    question, answer = "정답은 누구인가?", "이순신"
    start = LONG.index(answer)
    feats = qa.make_features(tokenizer, [question], [LONG], [start], [answer], max_length=64, stride=16)
    n = len(feats["example"])
    assert n > 5 and set(feats["example"]) == {0}
    assert all(len(ids) == 64 for ids in feats["input_ids"]) and "token_type_ids" in feats
    holding = [i for i in range(n) if feats["start_positions"][i] != feats["cls_index"][i]]
    assert holding and holding[-1] == n - 1
    for i in holding:
        s, e = feats["start_positions"][i], feats["end_positions"][i]
        assert LONG[feats["offsets"][i][s][0]:feats["offsets"][i][e][1]] == answer
    for i in range(n):  # every window repeats the question; offsets only on context pieces
        pieces = tokenizer.convert_ids_to_tokens(feats["input_ids"][i])
        assert pieces[0] == "[CLS]" and "".join(pieces[1:4]).replace("##", "").startswith("정답")
        spans = [o for o in feats["offsets"][i] if o is not None]
        assert spans and all(0 <= a < b <= len(LONG) for a, b in spans)
    for i in range(n - 1):  # consecutive windows overlap by the stride
        a = [o for o in feats["offsets"][i] if o is not None]
        b = [o for o in feats["offsets"][i + 1] if o is not None]
        assert len(set(a) & set(b)) == 16
    with pytest.raises(ValueError, match="stride"):
        qa.make_features(tokenizer, [question], [LONG], max_length=32, stride=30)


def test_features_without_token_type_ids_and_long_questions(reference_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(reference_dir, model_input_names=["input_ids", "attention_mask"])
    feats = qa.make_features(tok, ["이순신은 누구인가? " * 30], [LONG], max_length=64, stride=8)
    assert "token_type_ids" not in feats and all(k in feats for k in ("input_ids", "attention_mask", "offsets"))
    assert all(set(r) == {"input_ids", "attention_mask"} for r in qa.model_inputs(feats))


# --------------------------------------------------------------------------- the lexical baseline
def test_lexical_baseline_by_hand():
    import pandas as pd

    from helpers.qa import baseline

    context = ("그는 서울에서 태어났다. 1989년 2월 15일 여의도 농민 시위를 주도한 혐의로 지명수배되었다. "
               "그 뒤 경희대학교에서 검거되었다.")
    question = "여의도 농민 시위를 주도한 혐의로 지명수배된 날은?"
    found = baseline.lexical_answer(question, context)
    assert found["sentence"].startswith("1989년")
    assert found["answer"] == "1989년 2월 15일" and context[found["start"]:found["end"]] == found["answer"]
    assert baseline.strip_particle("서울에서") == "서울" and baseline.strip_particle("《토지》를") == "토지"
    assert baseline.lexical_answer("아무것도 없는 질문", "짧다")["answer"] == "짧다"
    frame = pd.DataFrame({"id": ["q"], "question": [question], "context": [context]})
    assert qa.predict_lexical(frame) == {"q": "1989년 2월 15일"}


# --------------------------------------------------------------------------- data validation
def squad(context="이순신은 조선의 장군이다.", question="이순신은 어느 나라 장군인가?", text="조선", start=5, qid="q1"):
    return {"version": "test", "data": [{"title": "이순신", "paragraphs": [
        {"context": context, "qas": [{"id": qid, "question": question,
                                      "answers": [{"text": text, "answer_start": start}]}]}]}]}


def test_parse_squad_valid():
    df = qa.parse_squad(squad())
    assert list(df.columns) == ["id", "title", "article", "paragraph", "context", "question", "answer",
                                "answer_start", "answers"]
    assert df.loc[0, "answer"] == "조선" and df.loc[0, "answers"] == ("조선",)


@pytest.mark.parametrize("obj, message", [
    ([], "\"data\" list"),
    ({"data": []}, "is empty"),
    ({"data": [{"title": "t"}]}, "\"paragraphs\" list"),
    ({"data": [{"paragraphs": [{"context": "", "qas": []}]}]}, "non-empty \"context\""),
    ({"data": [{"paragraphs": [{"context": "본문"}]}]}, "\"qas\" list"),
    ({"data": [{"paragraphs": [{"context": "본문", "qas": []}]}]}, "no questions"),
    (squad(question="  "), "question.*empty"),
    (squad(start=4), "answer_start 4 points at ' 조' .*Fix: set answer_start to .* \\(here 5\\)"),
    (squad(text="고려"), "does not occur in the context"),
    (squad(start="5"), "non-negative integer"),
])
def test_parse_squad_errors_say_where_and_how_to_fix(obj, message):
    with pytest.raises(qa.QAError, match=message) as info:
        qa.parse_squad(obj, "x.json")
    assert "Fix:" in str(info.value)


def test_parse_squad_more_errors():
    obj = squad()
    obj["data"][0]["paragraphs"][0]["qas"].append(dict(obj["data"][0]["paragraphs"][0]["qas"][0]))
    with pytest.raises(qa.QAError, match="used twice"):
        qa.parse_squad(obj)
    obj = squad()
    obj["data"][0]["paragraphs"][0]["qas"][0]["answers"] = []
    with pytest.raises(qa.QAError, match="no answers"):
        qa.parse_squad(obj)
    assert len(qa.parse_squad(obj, require_answers=False)) == 1


def test_read_squad_file_errors(tmp_path):
    with pytest.raises(qa.QAError, match="no such file"):
        qa.read_squad(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(qa.QAError, match="not valid JSON"):
        qa.read_squad(bad)
    bad.write_bytes("{}".encode("utf-16"))
    with pytest.raises(qa.QAError, match="not UTF-8"):
        qa.read_squad(bad)
    with pytest.raises(qa.QAError, match="question is empty"):
        qa.check_question(" ", "본문")


# --------------------------------------------------------------------------- the split and the real file
def test_split_by_article_is_seeded_and_never_splits_an_article():
    import pandas as pd

    from helpers.splits import korquad_test_article

    df = pd.DataFrame({"id": [f"q{i}" for i in range(200)], "title": [f"t{i // 4}" for i in range(200)],
                       "paragraph": [i // 2 for i in range(200)]})
    train, test = qa.split_by_article(df)
    assert not set(train.title) & set(test.title) and len(train) + len(test) == 200
    assert 0 < test.title.nunique() < 50
    assert list(test.id) == list(qa.split_by_article(df)[1].id)
    assert set(test.title) == {t for t in df.title if korquad_test_article(t)}
    assert list(qa.seeded_order(df, 1).id) == list(qa.seeded_order(df.iloc[::-1], 1).id)


def test_real_korquad_file_and_registry():
    from helpers.data import DATASETS, load_korquad

    spec = DATASETS["korquad"]
    assert spec.file_url("dataset/KorQuAD_v1.0_dev.json") == (
        "https://raw.githubusercontent.com/korquad/korquad.github.io/61d7d6682948375dd8f06ef27e788fd19982af38/"
        "dataset/KorQuAD_v1.0_dev.json")
    root = Path(os.environ.get("KO_BERT_DATA") or ROOT.parent / "shared" / "data")
    if not (root / "korquad" / "KorQuAD_v1.0_dev.json").is_file():
        pytest.skip("no local KorQuAD copy: set KO_BERT_DATA")
    df = load_korquad(root / "korquad")
    assert df.attrs["official"] and len(df) == 5774 and df.title.nunique() == 140
    assert df.attrs["quirks"]["paragraphs"] == 964 and df.attrs["quirks"]["longest_context"] == 2946


# --------------------------------------------------------------------------- training
def test_training_arguments_field_by_field():
    import torch

    cfg = qa.QAConfig(epochs=3, lr=1.234e-4, batch_size=7, weight_decay=0.05, warmup_ratio=0.2, seed=7)
    args = qa.training_arguments(cfg, "/tmp/qa-args", n_windows=70)  # 10 steps per epoch, 30 in all
    expected = {"output_dir": "/tmp/qa-args", "num_train_epochs": 3, "per_device_train_batch_size": 7,
                "per_device_eval_batch_size": 7, "learning_rate": 1.234e-4, "weight_decay": 0.05,
                "warmup_steps": 6, "lr_scheduler_type": "linear", "max_grad_norm": 1.0, "logging_steps": 5,
                "save_strategy": "no", "eval_strategy": "no", "report_to": [], "disable_tqdm": True, "seed": 7,
                "data_seed": 7, "dataloader_num_workers": 0, "bf16": False, "fp16": False,
                "dataloader_pin_memory": torch.cuda.is_available()}
    for field, value in expected.items():
        got = getattr(args, field)
        got = getattr(got, "value", got)  # enums (scheduler, strategies) compare by their value
        assert got == value, f"TrainingArguments.{field} = {got!r}, expected {value!r} from the config"
    assert qa.training_arguments(cfg, "/tmp/qa-args", 70, precision="bf16").bf16 is True


def tiny_qa_model(tokenizer, **kw):
    import torch
    from transformers import AutoModelForQuestionAnswering, BertConfig

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=64, **kw)
    return AutoModelForQuestionAnswering.from_config(cfg)


def toy_questions(n=24):
    import pandas as pd

    names = ["이순신", "세종", "장영실", "정약용"]
    rows = []
    for i in range(n):
        name = names[i % 4]
        context = f"{i}번째 기록. 조선의 인물 {name} 이야기이다. 그 밖의 내용은 없다."
        rows.append({"id": f"q{i}", "title": f"t{i}", "context": context, "question": "조선의 인물은 누구인가?",
                     "answer": name, "answer_start": context.index(name), "answers": (name,)})
    return pd.DataFrame(rows)


def test_train_and_answer_with_trainer(tokenizer):
    df = toy_questions()
    model = tiny_qa_model(tokenizer)
    cfg = qa.QAConfig(train_questions=None, epochs=8, lr=5e-3, batch_size=8, max_length=32, stride=8)
    log, counts = qa.train_qa(model, tokenizer, df, cfg)
    assert not model.training and list(log.columns) == ["epoch", "step", "loss"]
    assert log.loss.iloc[-1] < log.loss.iloc[0] and counts["questions"] == 24 and counts["answer_windows"] >= 24
    preds = qa.predict_frame(model, tokenizer, df, cfg)
    assert set(preds) == set(df.id) and qa.score_frame(df, preds)["f1"] > 50


def test_hand_computed_logits_match_a_roberta_shaped_model(reference_dir):
    """qa_outputs on base_model's last hidden states = the model's start/end logits, without token_type_ids."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, RobertaConfig

    tok = AutoTokenizer.from_pretrained(reference_dir, model_input_names=["input_ids", "attention_mask"])
    torch.manual_seed(0)
    model = AutoModelForQuestionAnswering.from_config(RobertaConfig(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=80, pad_token_id=tok.pad_token_id)).eval()
    feats = qa.make_features(tok, ["누구인가?"], [LONG], max_length=64, stride=16)
    batch = {k: torch.tensor(feats[k][:2]) for k in ("input_ids", "attention_mask")}
    with torch.no_grad():
        out = model(**batch)
        hidden = model.base_model(**batch).last_hidden_state
        start, end = model.qa_outputs(hidden).split(1, dim=-1)
    assert torch.allclose(start.squeeze(-1), out.start_logits, atol=1e-5)
    assert torch.allclose(end.squeeze(-1), out.end_logits, atol=1e-5)


# --------------------------------------------------------------------------- the command line
def run_cli(*args, cache):
    env = dict(os.environ, KO_BERT_CACHE=str(cache), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "helpers.qa", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)


@pytest.fixture()
def files(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(squad(), ensure_ascii=False), encoding="utf-8")
    shifted = tmp_path / "shifted.json"
    shifted.write_text(json.dumps(squad(start=3), ensure_ascii=False), encoding="utf-8")
    shape = tmp_path / "shape.json"
    shape.write_text(json.dumps({"version": 1, "articles": []}), encoding="utf-8")
    notjson = tmp_path / "notjson.json"
    notjson.write_text("이건 JSON이 아니다", encoding="utf-8")
    return {"good": good, "shifted": shifted, "shape": shape, "notjson": notjson, "missing": tmp_path / "nope.json"}


@pytest.mark.parametrize("case, args, message", [
    ("missing", ("eval", "{missing}"), "no such file"),
    ("notjson", ("eval", "{notjson}"), "not valid JSON"),
    ("shape", ("eval", "{shape}"), "\"data\" list"),
    ("shifted", ("eval", "{shifted}", "--method", "lexical"), "answer_start 3"),
    ("question", ("ask", "--context", "이순신은 조선의 장군이다.", "--question", " "), "question is empty"),
    ("context", ("ask", "--context", "", "--question", "누구?"), "context is empty"),
    ("model", ("eval", "{good}"), "No fine-tuned QA model"),
])
def test_cli_bad_input_exits_cleanly(files, tmp_path, case, args, message):
    args = [a.format(**files) for a in args]
    out = run_cli(*args, cache=tmp_path / "cache")
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and out.stderr.startswith("error: ")
    assert message in out.stderr and "Fix" in out.stderr and out.stdout == ""


def test_cli_eval_and_ask(files, tmp_path, tokenizer):
    out = run_cli("eval", files["good"], "--method", "lexical", cache=tmp_path / "cache")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert set(result) == {"n", "exact_match", "f1", "model"} and result["n"] == 1
    assert result["exact_match"] == 100.0 and result["model"] == "lexical baseline"

    from helpers.qa.store import save_qa

    saved = save_qa(tiny_qa_model(tokenizer), tokenizer, {"config": {"max_length": 32, "stride": 8}},
                    tmp_path / "model")
    out = run_cli("eval", files["good"], "--model", saved, cache=tmp_path / "cache")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["n"] == 1 and 0 <= result["f1"] <= 100 and result["model"] == str(saved)
    out = run_cli("ask", "--model", saved, "--context", "이순신은 조선의 장군이다.", "--question", "누구?",
                  cache=tmp_path / "cache")
    answer = json.loads(out.stdout)
    assert out.returncode == 0 and "이순신은 조선의 장군이다."[answer["start"]:answer["end"]] == answer["answer"]
    (saved / "meta.json").write_text("{}", encoding="utf-8")  # an edited folder is refused
    out = run_cli("eval", files["good"], "--model", saved, cache=tmp_path / "cache")
    assert out.returncode == 2 and "fails its checksums" in out.stderr and "Traceback" not in out.stderr


# --------------------------------------------------------------------------- the lesson and the report
def test_lesson_parameters_are_the_config_defaults():
    """benchmarks/qa_bench.py and `python -m helpers.qa train` use QAConfig's defaults: the lesson's budget."""
    import ast

    nb = json.loads((ROOT / "notebooks" / "08_question_answering.ipynb").read_text(encoding="utf-8"))
    source = next("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code" and "TRAIN_QUESTIONS =" in
                  "".join(c["source"]))
    values = {t.targets[0].id: ast.literal_eval(t.value) for t in ast.parse(source).body
              if isinstance(t, ast.Assign) and isinstance(t.value, ast.Constant)}
    cfg = qa.QAConfig()
    assert (values["TRAIN_QUESTIONS"], values["NEGATIVES"], values["EPOCHS"], values["LEARNING_RATE"], values["BATCH_SIZE"],
            values["MAX_LENGTH"], values["STRIDE"], values["MAX_ANSWER_LEN"], values["TEST_PERCENT"]) == (
        cfg.train_questions, cfg.negatives, cfg.epochs, cfg.lr, cfg.batch_size, cfg.max_length, cfg.stride,
        cfg.max_answer_len, cfg.test_percent)


def test_verdicts_are_printed_from_the_numbers():
    import pandas as pd

    df = pd.DataFrame({"id": [f"q{i}" for i in range(40)], "answers": [("서울",)] * 40})
    good = {f"q{i}": "서울" for i in range(40)}
    bad = {f"q{i}": "부산" for i in range(40)}
    noisy = {f"q{i}": ("서울" if i % 2 else "부산") for i in range(40)}
    gap, se = qa.report.paired_gap(df, good, bad)
    assert gap == 100 and se == 0
    line, clear = qa.report.compare(df, {"a": good, "b": bad}, "b", "a")
    assert clear and line.startswith("F1: b 0.0, a 100.0 → b 쪽이 100.0 낮습니다 (이번 실행에서 더 나은 쪽: a).")
    almost = {**bad, "q0": "서울"}
    line, clear = qa.report.compare(df, {"a": almost, "b": bad}, "a", "b")
    assert not clear and "우연과 구별되지 않습니다" in line
    lines = qa.report.verdicts(df, {"base": good, "bert": noisy, "rand": bad}, baseline="base", pretrained="bert",
                               random_init="rand", parameters=1_500_000, model_name="tiny-ko-bert", train_questions=100)
    assert lines[0].startswith("이번 실행의 F1 1위: base 100.0") and "사전학습 (pretraining)에서 옵니다" in lines[2]
    assert any(line.startswith("솔직히 말하면") and "1.5 M" in line for line in lines)
    table = qa.report.results_table({"bert": {"exact_match": 1.234, "f1": 5.678}})
    assert table.loc["bert", "f1"] == 5.7 and len(table) == 1 + len(qa.report.PUBLISHED)
