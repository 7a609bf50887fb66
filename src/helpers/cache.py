"""Artifacts on disk, verified: checksum listings for shipped models, manifests for cache folders.

One module for everything the suite writes and later trusts, so that the model loaders
(:mod:`helpers.models`, :mod:`helpers.sbert`) and the chatbot index (:mod:`helpers.chatbot`)
check files the same way:

- a **shipped model folder** (``models/tiny-ko-sbert``) carries ``checksums.sha256`` in
  ``sha256sum`` format (sub-folders included, the model card left out because it may be
  edited): :func:`write_checksums` / :func:`verify_checksums`;
- a **cache folder** (``<cache>/chatbot/index-...``) carries ``manifest.json``: its key (a hash
  of everything it was built from) and the sha256 of every file. :func:`publish` creates it
  atomically (a temporary folder, then one rename), :func:`is_verified` says whether it may be
  used. A folder that fails is rebuilt, never used.

Used by lessons 02 and 04 through :mod:`helpers.sbert` and :mod:`helpers.chatbot`.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from .paths import cache_dir

CHECKSUMS = "checksums.sha256"
MANIFEST = "manifest.json"
CARD = "README.md"


class ArtifactError(OSError):
    """A shipped or cached folder is missing files or fails its checksums; the message says how to fix it."""


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file (streamed)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def key_of(payload) -> str:
    """A short stable key (16 hex digits) for a JSON-serialisable ``payload``."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def code_digest(*modules) -> str:
    """sha256 (16 hex digits) of the source files of ``modules``: a cache key part that changes
    whenever the code that builds the cached content changes, with no version number to forget."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def cache_root(kind: str) -> Path:
    """``<cache>/<kind>`` (created), e.g. ``cache_root("chatbot")``."""
    path = cache_dir() / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------- shipped folders
def _listed_files(directory: Path) -> list[Path]:
    return [p for p in sorted(directory.rglob("*"))
            if p.is_file() and p.relative_to(directory).as_posix() not in (CHECKSUMS, CARD)]


def write_checksums(directory: str | os.PathLike) -> Path:
    """Write ``checksums.sha256`` for every file under ``directory`` (sub-folders too) but the card."""
    directory = Path(directory)
    lines = [f"{sha256_file(p)}  {p.relative_to(directory).as_posix()}" for p in _listed_files(directory)]
    out = directory / CHECKSUMS
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def verify_checksums(directory: str | os.PathLike, required=(), *, what: str = "model", fix: str = "") -> None:
    """Raise :class:`ArtifactError` unless ``checksums.sha256`` lists ``required`` and every listed file matches."""
    directory = Path(directory)
    listing = directory / CHECKSUMS
    if not listing.is_file():
        raise ArtifactError(f"{directory} has no {CHECKSUMS}: not a complete {what}. {fix}".strip())
    expected = {}
    for line in listing.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, _, name = line.partition("  ")
            expected[name.strip()] = digest.strip()
    missing = [n for n in required if n not in expected]
    if missing:
        raise ArtifactError(f"{listing} does not list {missing}. {fix}".strip())
    for name, digest in expected.items():
        path = directory / name
        if not path.is_file():
            raise ArtifactError(f"{what} file {name} is missing from {directory}. {fix}".strip())
        if sha256_file(path) != digest:
            raise ArtifactError(f"{what} file {name} in {directory} does not match its checksum "
                                f"(damaged or changed). {fix}".strip())


def listing_digest(directory: str | os.PathLike) -> str | None:
    """sha256 of a folder's checksum listing (``checksums.sha256`` or ``manifest.json``), else ``None``.

    A cheap identity of a verified folder: cache keys use it to notice that a model changed.
    """
    for name in (CHECKSUMS, MANIFEST):
        path = Path(directory) / name
        if path.is_file():
            return sha256_file(path)
    return None


# --------------------------------------------------------------------------- cache folders
def write_manifest(directory: Path, key: str) -> None:
    """Write ``manifest.json``: ``key`` and the sha256 of every file in ``directory`` (sub-folders too)."""
    files = {p.relative_to(directory).as_posix(): sha256_file(p) for p in sorted(directory.rglob("*"))
             if p.is_file() and p.name != MANIFEST}
    (directory / MANIFEST).write_text(json.dumps({"key": key, "files": files}), encoding="utf-8")


def is_verified(directory: Path, key: str, required: str = "meta.json") -> bool:
    """True if ``directory`` has a manifest for ``key`` that lists ``required`` and every file matches."""
    try:
        manifest = json.loads((Path(directory) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("key") != key or required not in manifest.get("files", {}):
        return False
    return all((Path(directory) / n).is_file() and sha256_file(Path(directory) / n) == d
               for n, d in manifest["files"].items())


def publish(target: Path, key: str, write, required: str = "meta.json") -> Path:
    """Create the cache folder ``target`` atomically and return it.

    ``write(folder)`` fills a temporary folder next to ``target``; a manifest is added; then one
    rename. A failure leaves no partial folder. If another process published ``target`` first,
    its copy is kept when it verifies.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name.split('-')[0]}-", dir=target.parent))
    try:
        out = tmp / "new"
        out.mkdir()
        write(out)
        write_manifest(out, key)
        try:
            os.replace(out, target)
        except OSError:  # another process published it first
            if not is_verified(target, key, required=required):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def publish_model(target: Path, model, tokenizer, meta: dict, meta_name: str = "meta.json") -> Path:
    """Save a trained model folder atomically (weights, tokenizer and ``meta`` as JSON in ``meta_name``),
    replacing an earlier one at ``target``; :func:`publish` adds the manifest. Used by ``helpers.classify``
    and ``helpers.qa`` (``train`` commands)."""
    def write(folder: Path) -> None:
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        (folder / meta_name).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")

    target = Path(target)
    if target.exists():
        discard(target)
    return publish(target, key_of(meta), write, required=meta_name)


def discard(target: Path) -> None:
    """Remove a cache folder that failed verification (it is rebuilt by the caller)."""
    shutil.rmtree(target, ignore_errors=True)
