"""helpers.data: the real file, source order, every bad input, and downloads over real HTTP."""
from __future__ import annotations

import shutil

import pytest

from helpers import data
from helpers.data import DATA_SHA256, DataError, load_chatbot_data


def test_real_file_shape_and_quirks(csv_path):
    df = load_chatbot_data(csv_path)
    assert list(df.columns) == ["question", "answer", "label"]
    assert len(df) == 11_823
    assert df["label"].dtype.kind == "i"
    assert set(df["label"]) == {0, 1, 2}
    q = df.attrs["quirks"]
    assert q["label_counts"] == {0: 5290, 1: 3570, 2: 2963}
    assert list(q["padded_labels"].values()) == ["2   "]  # the one padded label, stripped and reported
    assert q["distinct_questions"] == 11_662
    assert q["questions_with_several_answers"] == 85
    assert q["distinct_answers"] == 7_779
    assert df.attrs["official"] and df.attrs["sha256"] == DATA_SHA256
    text = data.describe_quirks(df)
    assert "85 questions with more than one answer" in text and "'2   '" in text


def test_source_order_argument_beats_env(csv_path, tmp_path, monkeypatch):
    monkeypatch.setenv("CHATBOT_DATA", str(tmp_path / "nope.csv"))
    assert len(load_chatbot_data(csv_path)) == 11_823  # explicit argument wins
    with pytest.raises(DataError, match="CHATBOT_DATA"):
        load_chatbot_data()  # env var is used when no argument is given


def test_env_then_cache(csv_path, private_cache, monkeypatch):
    monkeypatch.setenv("CHATBOT_DATA", str(csv_path))
    assert data.resolve_data_path() == csv_path
    monkeypatch.delenv("CHATBOT_DATA")
    monkeypatch.delenv("KO_BERT_DATA", raising=False)  # it would win over the cache too
    cached = private_cache / "data" / "ChatbotData.csv"
    cached.parent.mkdir(parents=True)
    shutil.copy(csv_path, cached)
    # a verified cached copy is used without any network access
    assert data.resolve_data_path(url="http://127.0.0.1:9/unreachable") == cached


@pytest.fixture()
def no_env(monkeypatch):
    """Download tests: CHATBOT_DATA / KO_BERT_DATA (set in CI) would otherwise win over the cache/download path."""
    monkeypatch.delenv("CHATBOT_DATA", raising=False)
    monkeypatch.delenv("KO_BERT_DATA", raising=False)


def _write(tmp_path, name, content: bytes):
    p = tmp_path / name
    p.write_bytes(content)
    return p


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"   \n", "is empty"),
        ("Q,A,label\n".encode(), "no rows"),
        ("Q,A\n안녕,반가워\n".encode(), "lacks the column"),
        ("Q,A,label\n안녕,반가워,3\n".encode(), "unknown label"),
        ("Q,A,label\n안녕,반가워,x\n".encode(), "unknown label"),
        ("Q,A,label\n안녕,,0\n".encode(), "empty questions or answers"),
        ("Q,A,label\n안녕,반가워,0\n".encode("cp949"), "not UTF-8"),
    ],
)
def test_bad_inputs_have_clear_errors(tmp_path, content, message):
    path = _write(tmp_path, "bad.csv", content)
    with pytest.raises(DataError, match=message) as info:
        load_chatbot_data(path)
    assert "Fix:" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found") as info:
        load_chatbot_data(tmp_path / "missing.csv")
    assert "Fix:" in str(info.value)


def test_small_valid_file_with_padded_label(tmp_path):
    path = _write(tmp_path, "ok.csv", "Q,A,label\n안녕,반가워,0\n\"좋아, 정말\",나도,\"2   \"\n".encode())
    df = load_chatbot_data(path)
    assert df["label"].tolist() == [0, 2]
    assert df.loc[1, "question"] == "좋아, 정말"
    assert df.attrs["quirks"]["padded_labels"] == {1: "2   "}
    assert df.attrs["official"] is False


def test_download_over_http(csv_path, http_root, tmp_path, no_env):
    www, base = http_root
    shutil.copy(csv_path, www / "ChatbotData.csv")
    dest = tmp_path / "dl"
    df = load_chatbot_data(cache=dest, url=f"{base}/ChatbotData.csv")
    assert len(df) == 11_823
    assert sorted(p.name for p in dest.iterdir()) == ["ChatbotData.csv"]
    assert data.sha256_file(dest / "ChatbotData.csv") == DATA_SHA256


def test_download_checksum_mismatch_leaves_nothing(csv_path, http_root, tmp_path, no_env):
    www, base = http_root
    tampered = csv_path.read_bytes().replace("하루가 또 가네요.".encode(), "하루가 또 가네.".encode(), 1)
    (www / "ChatbotData.csv").write_bytes(tampered)
    dest = tmp_path / "dl"
    with pytest.raises(DataError, match="Checksum mismatch") as info:
        load_chatbot_data(cache=dest, url=f"{base}/ChatbotData.csv")
    assert "CHATBOT_DATA" in str(info.value)
    assert not dest.exists() or list(dest.iterdir()) == []


def test_download_404_and_no_network(http_root, tmp_path, no_env):
    _, base = http_root
    dest = tmp_path / "dl"
    with pytest.raises(DataError, match="Could not download"):
        load_chatbot_data(cache=dest, url=f"{base}/missing.csv")
    with pytest.raises(DataError, match="no local copy") as info:
        load_chatbot_data(cache=dest, url="http://127.0.0.1:9/ChatbotData.csv", )
    assert "CHATBOT_DATA" in str(info.value)
    assert list(dest.iterdir()) == []


def test_corrupt_cache_is_replaced_not_served(csv_path, http_root, tmp_path, no_env):
    www, base = http_root
    shutil.copy(csv_path, www / "ChatbotData.csv")
    dest = tmp_path / "dl"
    dest.mkdir()
    (dest / "ChatbotData.csv").write_text("Q,A,label\n가짜,데이터,0\n", encoding="utf-8")
    df = load_chatbot_data(cache=dest, url=f"{base}/ChatbotData.csv")
    assert len(df) == 11_823 and df.attrs["official"]


def test_corrupt_cache_without_network_is_removed(tmp_path, no_env):
    dest = tmp_path / "dl"
    dest.mkdir()
    (dest / "ChatbotData.csv").write_text("Q,A,label\n가짜,데이터,0\n", encoding="utf-8")
    with pytest.raises(DataError):
        load_chatbot_data(cache=dest, url="http://127.0.0.1:9/ChatbotData.csv")
    assert not (dest / "ChatbotData.csv").exists()
