"""helpers.data registry and corpora: real counts, git tree hashes, downloads over real HTTP, every bad input."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from helpers import data
from helpers.data import DataError, fetch, registry
from helpers.data import load_klue_ner, load_korsts, load_nsmc_raw, load_parakqc, load_question_pair

ROOT = Path(__file__).resolve().parents[1]
NSMC = registry.DATASETS["nsmc_raw"]
KORSTS_HEADER = "genre\tfilename\tyear\tid\tscore\tsentence1\tsentence2\n"


def shared(rel: str) -> Path:
    """A real local copy (``$KO_BERT_DATA`` else ``../shared/data``); skip when it is absent."""
    path = Path(os.environ.get("KO_BERT_DATA") or ROOT.parent / "shared" / "data") / rel
    if not path.exists():
        pytest.skip(f"no local copy of {rel}: set KO_BERT_DATA=/path/to/data (laid out like shared/data)")
    return path


@pytest.fixture()
def clean_env(monkeypatch, private_cache):
    """No data variable set (CI sets them) and an empty private cache: the cache/download path is used."""
    monkeypatch.delenv("KO_BERT_DATA", raising=False)
    monkeypatch.delenv("CHATBOT_DATA", raising=False)
    return private_cache


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# --------------------------------------------------------------------------- the real data sets
def test_korsts_real_counts(monkeypatch):
    monkeypatch.setenv("KO_BERT_DATA", str(shared("korsts").parent))
    frames = {s: load_korsts(s) for s in ("train", "dev", "test")}
    assert {s: len(df) for s, df in frames.items()} == {"train": 5_749, "dev": 1_500, "test": 1_379}
    for df in frames.values():
        assert list(df.columns) == ["score", "sentence1", "sentence2"]
        assert df["score"].between(0, 5).all() and df.attrs["official"] and df.attrs["origin"] == "KO_BERT_DATA"
    assert sum(df.attrs["quirks"]["rows_with_quotes"] for df in frames.values()) == 443  # the quoting quirk


def test_question_pair_real_counts():
    folder = shared("question_pair")
    train, test = load_question_pair("train", folder), load_question_pair("test", folder)
    assert (len(train), len(test)) == (6_888, 688)
    assert list(train.columns) == ["question1", "question2", "is_duplicate"]
    assert int((train["is_duplicate"] == 0).sum()) == 4_750 and set(train["is_duplicate"]) == {0, 1}
    assert train.attrs["official"] and test.attrs["official"]


def test_parakqc_real_counts():
    df = load_parakqc(shared("parakqc"))
    assert list(df.columns) == ["set_id", "topic", "type", "sentence"]
    assert len(df) == 10_000 and df["set_id"].nunique() == 1_000
    assert (df.groupby("set_id").size() == 10).all() and df.attrs["official"]


def test_klue_ner_real_counts():
    df = load_klue_ner(shared("klue/klue-ner-v1.1_dev.tsv"))  # a one-file entry also takes the file itself
    assert list(df.columns) == ["guid", "sentence", "chars", "tags"] and len(df) == 5_000
    assert all(len(c) == len(t) for c, t in zip(df["chars"], df["tags"]))
    assert df["guid"].str.startswith("klue-ner-v1_dev_").all() and df.attrs["official"]


def test_nsmc_real_folder_hash_counts_and_remembered_check(private_cache, monkeypatch):
    """The one slow test: hashes and parses the real 196 MB crawl, then reloads without re-hashing."""
    folder = shared("nsmc/raw")
    df = load_nsmc_raw(folder)
    assert df.attrs["checksum"] == NSMC.tree == "64d6947d33552b330d9d2ca1300eece444782e56"
    assert df.attrs["official"] and df.attrs["quirks"]["files"] == 14_730
    assert list(df.columns) == ["review_id", "movie_id", "author", "review", "rating", "date"]
    assert len(df) == 712_404 and df["rating"].dtype.kind == "i"
    assert df["rating"].value_counts().sort_index().tolist() == [
        73_242, 14_600, 15_538, 18_304, 30_689, 42_614, 60_426, 78_946, 72_189, 305_856]
    monkeypatch.setattr(fetch, "git_tree_hash", lambda *_: pytest.fail("re-hashed an unchanged folder"))
    assert registry.locate("nsmc_raw", path=folder).official


# --------------------------------------------------------------------------- registry
def test_registry_entries_are_complete():
    for name, spec in registry.DATASETS.items():
        assert spec.name == name and "/" in spec.repo and len(spec.commit) == 40 and spec.license and spec.quirks
        assert callable(getattr(data, spec.parser))
        assert bool(spec.files) != bool(spec.tree)  # a file entry or a folder entry
        assert all(len(h) == 64 for h in spec.files.values())
    korsts = registry.DATASETS["korsts"]
    assert korsts.file_url("KorSTS/sts-dev.tsv") == ("https://raw.githubusercontent.com/kakaobrain/kor-nlu-datasets/"
                                                     "0df0fe7d496eb61b092e022e238c2230b29f1cbc/KorSTS/sts-dev.tsv")
    assert NSMC.archive_url() == "https://github.com/e9t/nsmc/archive/cc0670e872d4ac27bfe36c87456783004b39ef6c.tar.gz"
    assert data.DATA_URL.endswith("/songys/Chatbot_data/4cf20d13fc46f5037fd1c531cd566e2dd9f72974/ChatbotData.csv")
    with pytest.raises(DataError, match="Unknown data set"):
        registry.locate("nope")
    with pytest.raises(ValueError, match="split"):
        load_korsts("validation")


# --------------------------------------------------------------------------- git tree hashes
def _git(*args, cwd=None, stdin: bytes | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=True).stdout.decode().strip()


def _small_folder(root: Path) -> Path:
    folder = root / "raw"
    folder.mkdir(parents=True)
    # names chosen so byte order matters: upper before lower, "a.json" < "a0.json", Hangul last
    for name, content in {"b.json": b'[{"x": 1}]\n', "B.json": b"", "a.json": b"a" * 3000, "a0.json": b"\0\1",
                          "\ub9ac\ubdf0.json": "리뷰".encode(), "a-b.json": b"x"}.items():
        (folder / name).write_bytes(content)
    return folder


def test_git_tree_hash_matches_git(tmp_path):
    folder = _small_folder(tmp_path)
    blobs = {p.name: _git("hash-object", str(p)) for p in folder.iterdir()}
    assert all(fetch.git_blob_hash(folder / n) == h for n, h in blobs.items())
    _git("init", "-q", str(tmp_path / "repo"))
    listing = b"".join(f"100644 blob {h}\t{n}".encode() + b"\0" for n, h in blobs.items())
    expected = _git("mktree", "-z", "--missing", cwd=tmp_path / "repo", stdin=listing)
    assert fetch.git_tree_hash(folder) == expected


def test_git_tree_hash_nested_folders_match_git(tmp_path):
    repo = tmp_path / "repo"
    _git("init", "-q", str(repo))
    for rel in ("a.txt", "a/x.txt", "a0", "z/y/deep.txt"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(rel)
    (repo / "empty").mkdir()  # git does not track empty folders
    _git("add", "-A", cwd=repo)
    expected = _git("write-tree", cwd=repo)
    shutil.rmtree(repo / ".git")
    assert fetch.git_tree_hash(repo) == expected


def test_tree_check_is_remembered_until_a_file_changes(tmp_path, monkeypatch):
    folder, cache = _small_folder(tmp_path), tmp_path / "cache"
    first = fetch.verified_tree_hash(folder, cache)
    real = fetch.git_tree_hash
    monkeypatch.setattr(fetch, "git_tree_hash", lambda *_: pytest.fail("re-hashed an unchanged folder"))
    assert fetch.verified_tree_hash(folder, cache) == first
    victim = folder / "b.json"
    st = victim.stat()
    time.sleep(0.05)  # file timestamps advance by clock ticks (a few ms)
    victim.write_bytes(b'[{"x": 2}]\n')  # same size; even with the old mtime restored, ctime changes
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    calls = []
    monkeypatch.setattr(fetch, "git_tree_hash", lambda f: calls.append(f) or real(f))
    assert fetch.verified_tree_hash(folder, cache) != first and calls == [folder]


# --------------------------------------------------------------------------- downloads over real HTTP
KORSTS_TEXT = (KORSTS_HEADER + 'main-news\tx\t2012\t0001\t4.500\t그는 "안녕"이라고 말했다.\t그가 인사했다.\n'
               "main-news\tx\t2012\t0002\t0.000\t비가 온다.\t고양이가 잔다.\n").encode()


@pytest.fixture()
def small_korsts(monkeypatch):
    """Point the korsts entry's train checksum at a small synthetic file (same layout as upstream)."""
    spec = registry.DATASETS["korsts"]
    files = dict(spec.files, **{"KorSTS/sts-train.tsv": hashlib.sha256(KORSTS_TEXT).hexdigest()})
    monkeypatch.setitem(registry.DATASETS, "korsts", dataclasses.replace(spec, files=files))
    return spec


def _serve_file(www: Path, spec, upstream: str, content: bytes) -> None:
    target = www / spec.repo / spec.commit / upstream
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)


def test_file_download_then_cache(http_root, clean_env, small_korsts, monkeypatch):
    www, base = http_root
    _serve_file(www, small_korsts, "KorSTS/sts-train.tsv", KORSTS_TEXT)
    df = load_korsts("train", base_url=base)
    assert df["sentence1"].tolist() == ['그는 "안녕"이라고 말했다.', "비가 온다."] and df["score"].tolist() == [4.5, 0.0]
    assert df.attrs["origin"] == "download" and df.attrs["official"]
    assert files_under(clean_env / "data") == ["korsts/sts-train.tsv"]
    monkeypatch.setattr(registry, "RAW_BASE", "http://127.0.0.1:9")  # module constant; unreachable now
    assert load_korsts("train").attrs["origin"] == "cache"


def test_module_constant_redirects_downloads(http_root, clean_env, small_korsts, monkeypatch):
    www, base = http_root
    _serve_file(www, small_korsts, "KorSTS/sts-train.tsv", KORSTS_TEXT)
    monkeypatch.setattr(registry, "RAW_BASE", base)
    assert len(load_korsts("train")) == 2


def test_file_download_mismatch_leaves_nothing(http_root, clean_env, small_korsts):
    www, base = http_root
    _serve_file(www, small_korsts, "KorSTS/sts-train.tsv", KORSTS_TEXT.replace(b"4.500", b"4.400"))
    with pytest.raises(DataError, match="Checksum mismatch") as info:
        load_korsts("train", base_url=base)
    assert "KO_BERT_DATA" in str(info.value)
    assert files_under(clean_env / "data") == [] and not (clean_env / "data" / "korsts").exists()


def test_file_download_404_and_no_network(http_root, clean_env, small_korsts):
    _, base = http_root
    for url in (base, "http://127.0.0.1:9"):
        with pytest.raises(DataError, match="Could not download") as info:
            load_korsts("train", base_url=url)
        assert "KO_BERT_DATA=/path/to/data" in str(info.value) and "korsts/sts-train.tsv" in str(info.value)
    assert files_under(clean_env / "data") == []


def test_corrupt_cached_file_is_replaced_or_removed(http_root, clean_env, small_korsts):
    www, base = http_root
    cached = clean_env / "data" / "korsts" / "sts-train.tsv"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(KORSTS_TEXT.replace(b"0.000", b"5.000"))
    with pytest.raises(DataError):  # nothing served: the bad copy is deleted, the download fails
        load_korsts("train", base_url="http://127.0.0.1:9")
    assert not cached.exists()
    cached.write_bytes(b"garbage")
    _serve_file(www, small_korsts, "KorSTS/sts-train.tsv", KORSTS_TEXT)
    df = load_korsts("train", base_url=base)
    assert df.attrs["origin"] == "download" and cached.read_bytes() == KORSTS_TEXT


REVIEWS = {"1.json": b'[{"review": " \\uc88b\\uc544\\uc694 ", "date": "15.08.25", "rating": "10", "author": "a***",'
                     b' "review_id": "1", "movie_id": "1"}]',
           "2.json": '[{"review": "별로", "date": "15.08.26", "rating": "1", "author": "b***", "review_id": "2",'
                     ' "movie_id": "2"}, {"review": "", "date": "15.08.26", "rating": "5", "author": "c***",'
                     ' "review_id": "3", "movie_id": "2"}]'.encode()}


def _nsmc_archive(www: Path, tmp_path: Path, members: dict[str, bytes] | None = None, prefix=None) -> str:
    """Serve a GitHub-style archive of the pinned commit; return the git tree hash of its raw/ folder."""
    prefix = prefix or f"nsmc-{NSMC.commit}/"
    members = members if members is not None else {f"raw/{n}": c for n, c in REVIEWS.items()}
    members = {**members, "README.md": b"not extracted", "code/crawl.py": b"print()"}
    out = www / NSMC.repo / "archive" / f"{NSMC.commit}.tar.gz"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(prefix + name)
            info.size, info.mode = len(content), 0o664
            tar.addfile(info, io.BytesIO(content))
    src = tmp_path / "expected"
    src.mkdir(exist_ok=True)
    _git("init", "-q", str(src))
    for name, content in members.items():
        if name.startswith("raw/") and ".." not in name:
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes(content)
    _git("add", "-A", cwd=src)
    return _git("rev-parse", f"{_git('write-tree', cwd=src)}:raw", cwd=src) if (src / "raw").exists() else "0" * 40


def _pin_tree(monkeypatch, tree: str) -> None:
    monkeypatch.setitem(registry.DATASETS, "nsmc_raw", dataclasses.replace(NSMC, tree=tree))


def test_nsmc_archive_download_then_cache(http_root, clean_env, tmp_path, monkeypatch):
    www, base = http_root
    _pin_tree(monkeypatch, _nsmc_archive(www, tmp_path))
    df = load_nsmc_raw(base_url=base)
    assert df["review"].tolist() == ["좋아요", "별로", ""] and df["rating"].tolist() == [10, 1, 5]
    assert df.attrs["origin"] == "download" and df.attrs["quirks"]["empty_reviews"] == 1
    nsmc = clean_env / "data" / "nsmc"
    assert os.listdir(nsmc) == ["raw"] and sorted(os.listdir(nsmc / "raw")) == ["1.json", "2.json"]
    monkeypatch.setattr(fetch, "git_tree_hash", lambda *_: pytest.fail("re-hashed a verified download"))
    assert load_nsmc_raw(base_url="http://127.0.0.1:9").attrs["origin"] == "cache"


@pytest.mark.parametrize("case, message", [
    ("mismatch", "Checksum mismatch"),
    ("no raw folder", "holds no files under"),
    ("unsafe member", "unsafe path"),
    ("not an archive", "not a readable tar.gz"),
    ("404", "Could not download"),
])
def test_nsmc_archive_failures_leave_nothing(http_root, clean_env, tmp_path, monkeypatch, case, message):
    www, base = http_root
    tree = _nsmc_archive(www, tmp_path, {
        "no raw folder": {"other/1.json": b"[]"},
        "unsafe member": {"raw/../../evil.json": b"[]", "raw/1.json": REVIEWS["1.json"]},
    }.get(case))
    _pin_tree(monkeypatch, "1" * 40 if case == "mismatch" else tree)
    archive = www / NSMC.repo / "archive" / f"{NSMC.commit}.tar.gz"
    if case == "not an archive":
        archive.write_bytes(b"<html>rate limited</html>")
    if case == "404":
        archive.unlink()
    with pytest.raises(DataError, match=message) as info:
        load_nsmc_raw(base_url=base)
    assert "Fix:" in str(info.value) and "KO_BERT_DATA" in str(info.value)
    assert files_under(clean_env) == [] and not (clean_env / "data" / "nsmc").exists()
    assert not (clean_env / "evil.json").exists() and not (clean_env / "data" / "evil.json").exists()


def test_nsmc_corrupt_cache_is_downloaded_again(http_root, clean_env, tmp_path, monkeypatch):
    www, base = http_root
    _pin_tree(monkeypatch, _nsmc_archive(www, tmp_path))
    load_nsmc_raw(base_url=base)
    cached = clean_env / "data" / "nsmc" / "raw" / "2.json"
    cached.write_bytes(cached.read_bytes().replace("별로".encode(), "최고".encode()))
    (cached.parent / "extra.json").write_bytes(b"[]")
    df = load_nsmc_raw(base_url=base)
    assert df.attrs["origin"] == "download" and "별로" in df["review"].tolist()
    assert sorted(os.listdir(cached.parent)) == ["1.json", "2.json"]


# --------------------------------------------------------------------------- sources and bad inputs
def test_source_order_for_a_registry_entry(tmp_path, clean_env, monkeypatch):
    env_root, arg = tmp_path / "env", tmp_path / "arg"
    for root, score in ((env_root / "korsts", b"1.000"), (arg, b"2.000")):
        root.mkdir(parents=True)
        for split in ("train", "dev", "test"):
            (root / f"sts-{split}.tsv").write_bytes(KORSTS_TEXT.replace(b"4.500", score))
    monkeypatch.setenv("KO_BERT_DATA", str(env_root))
    assert load_korsts("dev", arg)["score"][0] == 2.0  # the argument wins
    df = load_korsts("dev")
    assert df["score"][0] == 1.0 and df.attrs["origin"] == "KO_BERT_DATA"
    assert df.attrs["official"] is False  # a copy you name is loaded and flagged, never refused...
    with pytest.raises(DataError, match="differ from upstream"):
        data.verify_dataset("korsts")  # ...unless you ask for verification
    (env_root / "korsts" / "sts-test.tsv").unlink()
    with pytest.raises(DataError, match="not found") as info:
        load_korsts("test")  # the env folder lacks this split: no silent fallback to a download
    assert "KO_BERT_DATA" in str(info.value)
    monkeypatch.setenv("KO_BERT_DATA", str(tmp_path / "missing"))
    with pytest.raises(DataError, match="KO_BERT_DATA=.* is not a folder"):
        load_korsts("dev")


def test_chatbot_is_a_registry_entry(tmp_path, clean_env, monkeypatch):
    root = tmp_path / "data"
    root.mkdir()
    (root / "ChatbotData.csv").write_text("Q,A,label\n안녕,반가워,0\n", encoding="utf-8")
    monkeypatch.setenv("KO_BERT_DATA", str(root))
    df = data.load_chatbot_data()
    assert len(df) == 1 and df.attrs["origin"] == "KO_BERT_DATA" and df.attrs["official"] is False
    other = tmp_path / "other.csv"
    other.write_text("Q,A,label\n하나,둘,1\n셋,넷,2\n", encoding="utf-8")
    monkeypatch.setenv("CHATBOT_DATA", str(other))
    assert len(data.load_chatbot_data()) == 2  # CHATBOT_DATA wins for the chatbot file
    assert data.load_dataset("chatbot", other).attrs["origin"] == "path argument"


def _folder(tmp_path: Path, name: str, content: bytes) -> Path:
    folder = tmp_path / "copy"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(content)
    return folder


BAD_INPUTS = [
    # (loader, file name, content, message)
    (lambda p: load_korsts("train", p), "sts-train.tsv", b"", "is empty"),
    (lambda p: load_korsts("train", p), "sts-train.tsv", KORSTS_TEXT.decode().encode("cp949"), "not UTF-8"),
    (lambda p: load_korsts("train", p), "sts-train.tsv", KORSTS_TEXT.replace(b"\t0002", b"0002"), "7 tab-separated"),
    (lambda p: load_korsts("train", p), "sts-train.tsv", KORSTS_TEXT.replace(b"score", b"label"), "has header"),
    (lambda p: load_korsts("train", p), "sts-train.tsv", KORSTS_TEXT.replace(b"0.000", b"high"), "scores must be"),
    (lambda p: load_korsts("train", p), "sts-train.tsv", KORSTS_HEADER.encode(), "no rows"),
    (lambda p: load_question_pair("train", p), "kor_pair_train.csv", "id,q1,q2\n1,가,나\n".encode(), "lacks"),
    (lambda p: load_question_pair("train", p), "kor_pair_train.csv",
     "question1,question2,is_duplicate\n가,나,2\n".encode(), "must be 0 or 1"),
    (lambda p: load_question_pair("test", p), "kor_Pair_test.csv", b"\xef\xbb\xbf  \r\n", "is empty"),
    (lambda p: load_parakqc(p), "paraKQC_v1.txt", "날씨\t질문\t비 와?\r\n".encode() * 9, "multiple of 10"),
    (lambda p: load_parakqc(p), "paraKQC_v1.txt", "날씨 질문 비 와?\r\n".encode() * 10, "3 tab-separated"),
    (lambda p: load_klue_ner(p), "klue-ner-v1.1_dev.tsv", "## klue-ner-1\t가\n가\tB-XX\n".encode(), "BIO tag"),
    (lambda p: load_klue_ner(p), "klue-ner-v1.1_dev.tsv", "## 주석만\n## 있음\n".encode(), "no sentences"),
    (lambda p: load_nsmc_raw(p), "1.json", b"[{", "not valid JSON"),
    (lambda p: load_nsmc_raw(p), "1.json", b'{"review": "x"}', "JSON list"),
    (lambda p: load_nsmc_raw(p), "1.json", b'[{"review": "x"}]', "missing 'review_id'"),
    (lambda p: load_nsmc_raw(p), "1.json", REVIEWS["1.json"].replace(b'"10"', b'"11"'), "ratings must be"),
    (lambda p: load_nsmc_raw(p), "1.json", "[]".encode("utf-16"), "not UTF-8"),
    (lambda p: load_nsmc_raw(p), "notes.txt", b"no json here", "holds no \\*.json"),
]


@pytest.mark.parametrize("load, name, content, message", BAD_INPUTS, ids=[f"{b[1]}:{b[3]}" for b in BAD_INPUTS])
def test_bad_inputs_have_clear_errors(tmp_path, clean_env, load, name, content, message):
    with pytest.raises(DataError, match=message) as info:
        load(_folder(tmp_path, name, content))
    assert "Fix: replace it with a fresh copy" in str(info.value) and "omit path=" in str(info.value)


@pytest.mark.parametrize("load", [lambda p: load_korsts("dev", p), lambda p: load_question_pair("train", p),
                                  load_parakqc, load_klue_ner, load_nsmc_raw])
def test_missing_folder(tmp_path, clean_env, load):
    with pytest.raises(DataError, match="not found") as info:
        load(tmp_path / "missing")
    assert "Fix:" in str(info.value)


def test_error_for_a_named_env_copy_says_which_variable(tmp_path, clean_env, monkeypatch):
    (tmp_path / "parakqc").mkdir()
    (tmp_path / "parakqc" / "paraKQC_v1.txt").write_bytes(b"")
    monkeypatch.setenv("KO_BERT_DATA", str(tmp_path))
    with pytest.raises(DataError, match="is empty.*unset KO_BERT_DATA"):
        load_parakqc()
