"""Registry of the public data sets (upstream, pinned commit, license, checksums) and where a copy is found.

Source order, the same for every entry:

1. an explicit ``path`` argument (the data set's folder, or for a one-file entry the file);
2. an environment variable: the entry's own (``CHATBOT_DATA``, the path of ``ChatbotData.csv``)
   if it has one and it is set, else ``KO_BERT_DATA``, a folder laid out like the project's
   ``shared/data`` (``$KO_BERT_DATA/korsts/sts-train.tsv``, ``$KO_BERT_DATA/nsmc/raw/*.json``,
   ``$KO_BERT_DATA/ChatbotData.csv``);
3. the user cache, ``<cache>/data/`` with the same layout (:func:`helpers.paths.cache_dir`);
4. a download from the pinned upstream commit into the cache, verified before it is kept.

Verification policy: a copy you name (steps 1–2) is used as it is and checked: ``official`` in
:class:`Located` (and in each loader's ``df.attrs``) says whether it matches upstream byte for
byte, so an edited or partial copy still loads, flagged ``official = False`` (call
:func:`verify_dataset` to refuse it instead). A copy the suite keeps itself (steps 3–4) is served
only when it verifies: a cached file or folder that fails is deleted and downloaded again.

The download bases are the module constants :data:`RAW_BASE` and :data:`ARCHIVE_BASE`; every
function also takes ``base_url=`` (tests point both at a local HTTP server).
"""
from __future__ import annotations

import importlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..paths import cache_dir
from .fetch import DataError, download_file, download_tree, sha256_file, verified_tree_hash

RAW_BASE = "https://raw.githubusercontent.com"  # files: <RAW_BASE>/<repo>/<commit>/<path>
ARCHIVE_BASE = "https://github.com"  # folders: <ARCHIVE_BASE>/<repo>/archive/<commit>.tar.gz
DATA_ENV = "KO_BERT_DATA"


@dataclass(frozen=True)
class DatasetSpec:
    """One public data set: where it comes from, how a copy is checked and which function parses it.

    ``files`` maps each upstream path to its sha256 (a file entry; the local copy is
    ``<local>/<basename>``); ``tree`` is the git tree hash of the upstream folder ``folder``
    (a folder entry, fetched from the commit's archive; the local copy is the folder ``<local>``).
    """

    name: str
    title: str
    repo: str  # GitHub owner/name
    commit: str
    license: str
    local: str  # path under $KO_BERT_DATA and <cache>/data ("" = the root)
    parser: str  # loader in helpers.data
    files: dict = field(default_factory=dict)  # upstream path -> sha256
    folder: str | None = None  # upstream folder of a tree entry
    tree: str | None = None  # its git tree hash
    env: str | None = None  # an extra variable naming the file itself (wins over KO_BERT_DATA)
    quirks: tuple = ()

    def file_url(self, upstream: str, base_url: str | None = None) -> str:
        """``<base>/<repo>/<commit>/<upstream path>`` (raw.githubusercontent.com by default)."""
        return f"{(base_url or RAW_BASE).rstrip('/')}/{self.repo}/{self.commit}/{upstream}"

    def archive_url(self, base_url: str | None = None) -> str:
        """``<base>/<repo>/archive/<commit>.tar.gz`` (github.com by default)."""
        return f"{(base_url or ARCHIVE_BASE).rstrip('/')}/{self.repo}/archive/{self.commit}.tar.gz"

    def upstream_path(self, file: str | None = None) -> str:
        """The upstream path of local file name ``file`` (``None``: the entry's only file)."""
        if not self.files:
            raise DataError(f"{self.name} is a folder entry (git tree {self.tree}); it has no single file.")
        if file is None:
            if len(self.files) != 1:
                raise DataError(f"{self.name} has several files; name one of {self.file_names()}.")
            return next(iter(self.files))
        for upstream in self.files:
            if PurePosixPath(upstream).name == file:
                return upstream
        raise DataError(f"{self.name} has no file {file!r}; it has {self.file_names()}.")

    def file_names(self) -> list[str]:
        return [PurePosixPath(p).name for p in self.files]

    def source(self) -> str:
        """One line: upstream repository and commit, license."""
        where = f"{self.folder}/" if self.folder else ", ".join(self.files)
        return f"{self.title}: github.com/{self.repo} @ {self.commit[:7]} ({where}), license {self.license}"


@dataclass(frozen=True)
class Located:
    """A local copy found by :func:`locate`: where it is, which source gave it, and whether it is upstream's."""

    path: Path
    origin: str  # "path argument", the variable's name, "cache" or "download"
    checksum: str  # sha256 of a file, git tree hash of a folder
    official: bool

    def attrs(self, spec: DatasetSpec) -> dict:
        """What every loader puts into ``df.attrs`` besides its quirks."""
        return {"dataset": spec.name, "source": str(self.path), "origin": self.origin, "checksum": self.checksum,
                "official": self.official, "license": spec.license, "upstream": spec.source()}


DATASETS: dict[str, DatasetSpec] = {
    "chatbot": DatasetSpec(
        name="chatbot", title="Chatbot_data", repo="songys/Chatbot_data",
        commit="4cf20d13fc46f5037fd1c531cd566e2dd9f72974", license="MIT", local="", parser="load_chatbot_data",
        files={"ChatbotData.csv": "287eb129695b577321c80ad397bb3c2279164d4ca577874d129fd3db5b30afe2"},
        env="CHATBOT_DATA",
        quirks=("one label written '2   ' (trailing spaces)", "repeated questions",
                "85 questions with more than one answer", "many questions share an answer"),
    ),
    "nsmc_raw": DatasetSpec(
        name="nsmc_raw", title="NSMC raw crawl", repo="e9t/nsmc", commit="cc0670e872d4ac27bfe36c87456783004b39ef6c",
        license="CC0-1.0", local="nsmc/raw", parser="load_nsmc_raw",
        folder="raw", tree="64d6947d33552b330d9d2ca1300eece444782e56",
        quirks=("empty or whitespace-only reviews", "reviews duplicated across users",
                "rating is a string '1'..'10'", "a movie's reviews share vocabulary: split by movie_id"),
    ),
    "korsts": DatasetSpec(
        name="korsts", title="KorSTS", repo="kakaobrain/kor-nlu-datasets",
        commit="0df0fe7d496eb61b092e022e238c2230b29f1cbc", license="CC-BY-SA-4.0", local="korsts",
        parser="load_korsts",
        files={
            "KorSTS/sts-train.tsv": "b5aaa7f957d6ff46f4b6834a8b0f024a9234a6eefe9289aed66746b4533da3b8",
            "KorSTS/sts-dev.tsv": "d835b65b424401fbcce6be28a78159df8d61f5b19977ea7a0b83b8cb6105f393",
            "KorSTS/sts-test.tsv": "13f83a3440d9db52d134eb40303ce021b03264aa338fbf2871c8786ce04d2105",
        },
        quirks=("443 lines hold double quotes: read with quoting off and check the column count",),
    ),
    "question_pair": DatasetSpec(
        name="question_pair", title="Question_pair v2", repo="songys/Question_pair",
        commit="e84b6f0e784c10c6a22cbbc7b1e415b901baa877", license="MIT", local="question_pair",
        parser="load_question_pair",
        files={
            "kor_pair_train.csv": "b0fa4fa4e6fccb9b77f4e4d69c97c558b32d1356ee9041f5faf68fc0446b6fd7",
            "kor_Pair_test.csv": "6e25fc564778bbec695ad3b1d0db7cb8956adabb2186e9c0d582c7346a90a073",
        },
        quirks=("UTF-8 with BOM", "the test file has a trailing empty column",
                "is_duplicate 0 = the same question, 1 = a different one"),
    ),
    "parakqc": DatasetSpec(
        name="parakqc", title="ParaKQC v1", repo="warnikchow/paraKQC",
        commit="c16270fe6c2e888af07e7cb043248ad31d8a6f9c", license="CC-BY-SA-4.0", local="parakqc",
        parser="load_parakqc",
        files={"data/paraKQC_v1.txt": "8a40f48c78c2710e5e64c1fa3a1c3dc720cb21a92f2ff375e3097973ad57e6d6"},
        quirks=("no header", "CRLF line ends", "blocks of 10 consecutive lines are one paraphrase set"),
    ),
    "klue_ner": DatasetSpec(
        name="klue_ner", title="KLUE-NER v1.1 dev", repo="KLUE-benchmark/KLUE",
        commit="3efd98708a40ff49251fddde35453f8fbb11f536", license="CC-BY-SA-4.0", local="klue",
        parser="load_klue_ner",
        files={"klue_benchmark/klue-ner-v1.1/klue-ner-v1.1_dev.tsv":
               "0f4d5e818f7b82d299c3a87856fc40a706f5943207580ddb252397e387050a54"},
        quirks=("one character per line with a BIO tag", "## comment lines hold the sentence with <text:TYPE> marks"),
    ),
    "korquad": DatasetSpec(
        name="korquad", title="KorQuAD 1.0 dev", repo="korquad/korquad.github.io",
        commit="61d7d6682948375dd8f06ef27e788fd19982af38", license="CC-BY-ND-2.0-KR", local="korquad",
        parser="load_korquad",
        files={"dataset/KorQuAD_v1.0_dev.json": "25ffeb51e6c51ec02c071b60a10188e10005c144110f0d876b26079d80a35bdf"},
        quirks=("SQuAD v1.1 JSON: data > paragraphs > qas > answers", "licence ND: keep the file verbatim, "
                "split in memory", "questions of one paragraph share its context: split by article (title)",
                "paragraphs up to 2,946 characters: longer than the model, so a document stride is needed"),
    ),
}


def get_spec(name: str) -> DatasetSpec:
    """The registry entry ``name`` (a clear error for an unknown name)."""
    if name not in DATASETS:
        raise DataError(f"Unknown data set {name!r}; choose one of {sorted(DATASETS)}.")
    return DATASETS[name]


def data_cache(cache: str | os.PathLike | None = None) -> Path:
    """The data cache root (created): ``cache`` if given, else ``<cache_dir()>/data``."""
    root = Path(cache).expanduser() if cache is not None else cache_dir() / "data"
    root.mkdir(parents=True, exist_ok=True)
    return root


def fix_hint(spec: DatasetSpec, rel: str) -> str:
    """The sentence that tells a user how to provide a copy by hand."""
    var = f"{spec.env}=/path/to/{rel} or " if spec.env else ""
    return (f"copy {spec.source()} to this machine and set {var}{DATA_ENV}=/path/to/data "
            f"(a folder holding {rel}), or pass path=... to the loader.")


def _named_source(spec: DatasetSpec, path) -> tuple[Path, str] | None:
    """(candidate, origin) from the path argument or an environment variable; ``None`` for the cache."""
    if path is not None:
        return Path(path).expanduser(), "path argument"
    if spec.env and os.environ.get(spec.env):
        return Path(os.environ[spec.env]).expanduser(), spec.env
    if os.environ.get(DATA_ENV):
        root = Path(os.environ[DATA_ENV]).expanduser()
        if not root.is_dir():
            raise DataError(f"{DATA_ENV}={root} is not a folder. Fix: point {DATA_ENV} at a folder laid out like "
                            f"shared/data (e.g. {root}/korsts/sts-train.tsv), or unset it to use the cache and "
                            "download from upstream.")
        return root / spec.local, DATA_ENV
    return None


def locate(name: str, file: str | None = None, path: str | os.PathLike | None = None, *,
           cache: str | os.PathLike | None = None, base_url: str | None = None,
           url: str | None = None, sha256: str | None = None) -> Located:
    """Find (and if needed download) one file of data set ``name``, or the folder of a folder entry.

    ``file`` is the local file name (``"sts-train.tsv"``; ``None`` for a one-file entry). ``path``
    may be the data set's folder or, for a one-file entry, the file. ``cache`` replaces the data
    cache root; ``base_url`` the download base; ``url``/``sha256`` the file's URL and checksum.
    """
    spec = get_spec(name)
    if spec.tree:
        return _locate_tree(spec, path, cache=cache, base_url=base_url)
    upstream = spec.upstream_path(file)
    base = PurePosixPath(upstream).name
    rel = f"{spec.local}/{base}" if spec.local else base
    expected = sha256 or spec.files[upstream]
    named = _named_source(spec, path)
    if named is not None:
        candidate, origin = named
        if candidate.is_dir():
            candidate = candidate / base
        if not candidate.is_file():
            var = spec.env or DATA_ENV
            raise DataError(f"{spec.title} file not found: {candidate} (from the {origin}). Fix: point it at a "
                            f"copy of {rel}, or unset {var} to use the cached/downloaded copy "
                            f"(download: {spec.file_url(upstream)}).")
        digest = sha256_file(candidate)
        return Located(candidate, origin, digest, digest == spec.files[upstream])
    target = data_cache(cache) / rel
    if target.is_file():
        if sha256_file(target) == expected:
            return Located(target, "cache", expected, expected == spec.files[upstream])
        target.unlink()  # a cached copy that fails verification is never served
    download_file(url or spec.file_url(upstream, base_url), expected, target, what=f"{spec.title} {base}",
                  fix=fix_hint(spec, rel))
    return Located(target, "download", expected, expected == spec.files[upstream])


def _locate_tree(spec: DatasetSpec, path, *, cache, base_url) -> Located:
    root = data_cache(cache)
    named = _named_source(spec, path)
    if named is not None:
        folder, origin = named
        if not folder.is_dir() or not any(folder.iterdir()):
            raise DataError(f"{spec.title} folder not found or empty: {folder} (from the {origin}). Fix: point it "
                            f"at a copy of {spec.local}/ ({spec.source()}), or unset {DATA_ENV} to download it.")
        tree = verified_tree_hash(folder, root)
        return Located(folder, origin, tree, tree == spec.tree)
    target = root / spec.local
    if target.exists():
        if target.is_dir() and verified_tree_hash(target, root) == spec.tree:
            return Located(target, "cache", spec.tree, True)
        shutil.rmtree(target) if target.is_dir() else target.unlink()  # never serve a failing copy
    prefix = f"{spec.repo.split('/')[1]}-{spec.commit}/{spec.folder}/"
    download_tree(spec.archive_url(base_url), prefix, spec.tree, target, what=spec.title,
                  fix=fix_hint(spec, spec.local + "/"), cache_root=root)
    return Located(target, "download", spec.tree, True)


def dataset_path(name: str, path: str | os.PathLike | None = None, *, cache: str | os.PathLike | None = None,
                 base_url: str | None = None) -> Path:
    """The local folder of data set ``name`` with every file present (downloaded if needed)."""
    spec = get_spec(name)
    if spec.tree:
        return locate(name, path=path, cache=cache, base_url=base_url).path
    found = [locate(name, f, path, cache=cache, base_url=base_url) for f in spec.file_names()]
    return found[0].path.parent


def verify_dataset(name: str, path: str | os.PathLike | None = None, *, cache: str | os.PathLike | None = None,
                   base_url: str | None = None) -> dict[str, str]:
    """Check every file (or the folder) of ``name`` against upstream; raise :class:`DataError` on a mismatch.

    Returns ``{local file or folder: checksum}``. Use it to refuse a copy the loaders would
    only flag (``official = False``).
    """
    spec = get_spec(name)
    names = [None] if spec.tree else spec.file_names()
    found = {f: locate(name, f, path, cache=cache, base_url=base_url) for f in names}
    bad = [str(loc.path) for loc in found.values() if not loc.official]
    if bad:
        what = f"{spec.local}/ (git tree {spec.tree})" if spec.tree else "the file(s) from the URLs in the registry"
        raise DataError(f"{spec.title}: {', '.join(bad)} differ from upstream ({spec.source()}). Fix: re-download "
                        f"{what}, or delete the copy and unset {spec.env or DATA_ENV} to let the loader fetch it.")
    return {str(loc.path): loc.checksum for loc in found.values()}


def load_dataset(name: str, *args, **kwargs):
    """Call the registry entry's parser, e.g. ``load_dataset("korsts", "dev")``."""
    spec = get_spec(name)
    return getattr(importlib.import_module(__package__), spec.parser)(*args, **kwargs)
