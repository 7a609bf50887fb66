"""Checksums and verified downloads for :mod:`helpers.data`.

- :func:`sha256_file` — the checksum of a file entry (from :mod:`helpers.cache`);
- :func:`git_tree_hash` — git's tree hash of a folder, recomputed from its files (what
  ``git rev-parse <commit>:<folder>`` prints in a clone), so a folder can be checked against a
  pinned commit without git and without trusting a download;
- :func:`verified_tree_hash` — the same, remembered in the user cache under a cheap fingerprint
  (relative names, sizes, mtime and ctime of every file), so a 196 MB folder is hashed once
  and re-hashed only when a file changes;
- :func:`download_file` / :func:`download_tree` — fetch a file (with :mod:`pooch`) or one folder
  of a GitHub archive, verify it, and only then move it into place: a failed or mismatched
  download leaves nothing behind.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from ..cache import sha256_file  # noqa: F401  (re-exported: helpers.data.sha256_file)

VERIFIED_TREES = "tree-hashes.json"  # in the data cache: {fingerprint: tree hash}
_MAX_REMEMBERED = 32


class DataError(ValueError):
    """A data set could not be found, verified or parsed; the message says how to fix it."""


def git_blob_hash(path: str | os.PathLike) -> str:
    """git's object id of a file's content: sha1 of ``b"blob <size>\\0" + content``."""
    with open(path, "rb") as fh:
        digest = hashlib.sha1(b"blob %d\0" % os.fstat(fh.fileno()).st_size)
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tree_entries(folder: Path) -> list[tuple[bytes, bytes]]:
    """(sort key, raw entry) for each tracked item of ``folder``; git sorts a folder as ``name/``."""
    entries = []
    for entry in os.scandir(folder):
        name = key = os.fsencode(entry.name)
        if entry.is_symlink():
            target = os.fsencode(os.readlink(entry.path))
            mode, oid = b"120000", hashlib.sha1(b"blob %d\0" % len(target) + target).hexdigest()
        elif entry.is_dir():
            oid = _tree_hash(Path(entry.path))
            if oid is None:  # git does not track empty folders
                continue
            mode, key = b"40000", name + b"/"
        elif entry.is_file():
            executable = entry.stat().st_mode & stat.S_IXUSR
            mode, oid = (b"100755" if executable else b"100644"), git_blob_hash(entry.path)
        else:
            raise DataError(f"{entry.path} is neither a file nor a folder; a data folder holds only files.")
        entries.append((key, mode + b" " + name + b"\0" + bytes.fromhex(oid)))
    return entries


def _tree_hash(folder: Path) -> str | None:
    entries = _tree_entries(folder)
    if not entries:
        return None
    body = b"".join(raw for _, raw in sorted(entries))
    return hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()


def git_tree_hash(folder: str | os.PathLike) -> str:
    """git's tree hash of ``folder`` computed from its files (git's object format).

    A blob is ``sha1(b"blob <size>\\0" + content)``; a tree is ``sha1(b"tree <size>\\0" + entries)``
    with entries ``b"<mode> <name>\\0" + <20-byte id>`` sorted by byte name (a sub-folder sorts as
    ``name/``). Modes follow git: 100644 file, 100755 executable, 120000 symlink, 40000 folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder.")
    return _tree_hash(folder) or hashlib.sha1(b"tree 0\0").hexdigest()


def folder_fingerprint(folder: str | os.PathLike) -> str:
    """A cheap identity of a folder's state: its absolute path and every file's name, size, mode,
    mtime and ctime (no content is read). Writing to any file changes it (its ctime moves on;
    like git's index, an edit within the same clock tick as the check could go unseen)."""
    folder = Path(folder).resolve()
    items = []
    for root, _, files in os.walk(folder):
        for name in files:
            full = os.path.join(root, name)
            st = os.lstat(full)
            items.append((os.path.relpath(full, folder), st.st_size, st.st_mode, st.st_mtime_ns, st.st_ctime_ns))
    blob = json.dumps([str(folder), sorted(items)], ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()


def _remembered(cache_root: Path) -> dict:
    try:
        return json.loads((cache_root / VERIFIED_TREES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _remember(cache_root: Path, fingerprint: str, tree: str) -> None:
    known = _remembered(cache_root)
    known.pop(fingerprint, None)
    known[fingerprint] = tree
    known = dict(list(known.items())[-_MAX_REMEMBERED:])
    tmp = None
    try:
        cache_root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tree-hashes-", dir=cache_root)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(known, fh)
        os.replace(tmp, cache_root / VERIFIED_TREES)
    except OSError:  # a read-only cache only costs a re-hash next time
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def verified_tree_hash(folder: str | os.PathLike, cache_root: str | os.PathLike) -> str:
    """:func:`git_tree_hash` of ``folder``, remembered in ``cache_root`` under :func:`folder_fingerprint`.

    The result is reused while no file in the folder changes (size, mode, mtime or ctime), so
    loading the same folder again does not re-read it.
    """
    cache_root = Path(cache_root)
    fingerprint = folder_fingerprint(folder)
    tree = _remembered(cache_root).get(fingerprint)
    if tree is None:
        tree = git_tree_hash(folder)
        _remember(cache_root, fingerprint, tree)
    return tree


def _missing_dirs(path: Path) -> list[Path]:
    """``path`` and its ancestors that do not exist yet (deepest first)."""
    out = []
    while not path.exists():
        out.append(path)
        path = path.parent
    return out


def _remove_empty(dirs: list[Path]) -> None:
    for d in dirs:  # deepest first
        with contextlib.suppress(OSError):
            d.rmdir()


def download_file(url: str, sha256: str, target: Path, *, what: str, fix: str, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``target`` with :mod:`pooch`, keeping it only if its sha256 matches.

    pooch writes to a temporary file beside ``target`` and moves it into place once the checksum
    matches; on any failure the temporary file and any folder created here are removed, and a
    :class:`DataError` ending in ``fix`` is raised.
    """
    import pooch
    import requests

    created = _missing_dirs(target.parent)
    try:
        fetched = pooch.retrieve(url, known_hash=f"sha256:{sha256}", fname=target.name, path=target.parent,
                                 progressbar=False, downloader=pooch.HTTPDownloader(timeout=timeout, progressbar=False))
    except ValueError as exc:  # pooch raises ValueError on a hash mismatch
        _remove_empty(created)
        raise DataError(f"Checksum mismatch for {url}: the downloaded file is not the expected {what} "
                        f"(sha256 {sha256[:12]}…), so nothing was saved. Fix: try again later; {fix}") from exc
    except (requests.exceptions.RequestException, OSError) as exc:
        _remove_empty(created)
        raise DataError(f"Could not download {what} from {url} ({type(exc).__name__}) and no local copy "
                        f"was found. Fix: connect to the internet and run again, or {fix}") from exc
    return Path(fetched)


@contextlib.contextmanager
def _quiet(logger: logging.Logger):
    """Drop the logger's records below WARNING (a filter: pooch's logger caches its level checks)."""
    def keep(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING

    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def _extract_folder(archive: Path, prefix: str, out: Path) -> int:
    """Extract the members under ``prefix`` (e.g. ``nsmc-<commit>/raw/``) into ``out``; return the file count."""
    count = 0
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            if not member.name.startswith(prefix):
                continue
            rel = PurePosixPath(member.name[len(prefix):])
            if rel.is_absolute() or ".." in rel.parts:
                raise DataError(f"unsafe path {member.name!r} in the archive")
            dest = out.joinpath(*rel.parts)
            if member.isdir():
                dest.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                dest.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(dest, "wb") as fh:
                    shutil.copyfileobj(src, fh)
                os.chmod(dest, 0o755 if member.mode & stat.S_IXUSR else 0o644)
                count += 1
            else:
                raise DataError(f"unexpected member {member.name!r} (not a file) in the archive")
    return count


def download_tree(url: str, prefix: str, tree: str, target: Path, *, what: str, fix: str,
                  cache_root: Path, timeout: float = 120.0) -> Path:
    """Download the archive ``url``, extract the folder ``prefix`` from it and keep it at ``target``.

    Everything happens in a temporary folder beside ``target``: the archive is downloaded there
    (pooch), the folder extracted, its :func:`git_tree_hash` compared with ``tree``, and only a
    matching folder is renamed (atomically) to ``target``. A failure or mismatch removes the
    temporary folder and any folder created here, then raises :class:`DataError`.
    """
    import pooch
    import requests

    created = _missing_dirs(target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-download-", dir=target.parent))
    try:
        pooch.get_logger().info("Downloading %s from '%s' (the archive of the pinned commit).", what, url)
        with _quiet(pooch.get_logger()):
            archive = pooch.retrieve(url, known_hash=None, fname="archive.tar.gz", path=tmp, progressbar=False,
                                     downloader=pooch.HTTPDownloader(timeout=timeout, progressbar=False))
        out = tmp / target.name
        out.mkdir()
        try:
            count = _extract_folder(Path(archive), prefix, out)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise DataError(f"{url} is not a readable tar.gz archive ({exc}). Fix: try again later; {fix}") from exc
        except DataError as exc:
            raise DataError(f"Refused the archive {url}: {exc}. Nothing was saved. Fix: {fix}") from exc
        if count == 0:
            raise DataError(f"The archive {url} holds no files under {prefix}. Nothing was saved. Fix: {fix}")
        got = git_tree_hash(out)
        if got != tree:
            raise DataError(f"Checksum mismatch for {url}: the folder {prefix} has git tree hash {got[:12]}…, "
                            f"not {tree[:12]}…, so nothing was saved. Fix: try again later; {fix}")
        try:
            os.rename(out, target)
        except OSError:  # another process published it first: keep theirs if it verifies
            if not (target.is_dir() and git_tree_hash(target) == tree):
                raise
        _remember(cache_root, folder_fingerprint(target), tree)
        return target
    except (requests.exceptions.RequestException, OSError) as exc:
        _remove_on_failure(tmp, created)
        raise DataError(f"Could not download {what} from {url} ({type(exc).__name__}) and no local copy was "
                        f"found. Fix: connect to the internet and run again, or {fix}") from exc
    except BaseException:
        _remove_on_failure(tmp, created)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _remove_on_failure(tmp: Path, created: list[Path]) -> None:
    shutil.rmtree(tmp, ignore_errors=True)
    _remove_empty(created)
