"""``python -m helpers doctor``: one command to run when a lesson misbehaves.

One line per item: Python and library versions; the device, precision and threads that
:mod:`helpers.runtime` chooses; ``BERT_MODEL`` and what it resolves to (the shipped tiny-ko-bert
with its checksums verified, a local folder, or a hub id in the local cache); the shipped
Sentence-BERT; each data set of :mod:`helpers.data.registry` (found and verified, or missing); the
Hangul font; the cache folder. Every problem is followed by a ``Fix:`` line. Nothing is downloaded
or deleted. Exit status 1 when a lesson could not run (a ``FAIL`` line), else 0.
"""
from __future__ import annotations

import os
import platform
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

OK, WARN, FAIL = "ok", "warn", "FAIL"
LIBRARIES = ("torch", "transformers", "sentence-transformers", "accelerate")
REPORT = "Fix: this is unexpected; report it with the output of `python -m helpers doctor`."


@dataclass(frozen=True)
class Check:
    """One printed item: its status, one line of detail and (for a problem) the fix."""

    status: str
    item: str
    detail: str
    fix: str = ""


def _split_fix(message: str) -> tuple[str, str]:
    """``("what went wrong", "Fix: ...")`` from an error message of the suite."""
    text, sep, fix = str(message).partition("Fix:")
    return " ".join(text.split()), (f"Fix: {' '.join(fix.split())}" if sep else REPORT)


def _failed(item: str, exc: BaseException, status: str = FAIL) -> Check:
    detail, fix = _split_fix(exc)
    return Check(status, item, detail or type(exc).__name__, fix)


def check_versions() -> list[Check]:
    from importlib import metadata

    parts, out = [f"Python {platform.python_version()}"], []
    if not (3, 10) <= sys.version_info[:2] < (3, 14):
        out.append(Check(WARN, "python", f"Python {platform.python_version()} is outside the tested 3.10-3.13",
                         "Fix: create the virtual environment with Python 3.10-3.13 (`make lab PYTHON=python3.12`)."))
    try:
        pins = {r.split("==")[0].strip(): r.split("==")[1].split(";")[0].strip()
                for r in metadata.requires("ko-bert-lessons") or [] if "==" in r}
    except metadata.PackageNotFoundError:
        pins = {}
    for name in LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            out.append(Check(FAIL, name, f"{name} is not installed", "Fix: run `make lab` (or `pip install -e .`)."))
            continue
        parts.append(f"{name} {version}")
        if name in pins and version.split("+")[0] != pins[name]:
            out.append(Check(WARN, name, f"{name} {version} is installed; the suite is tested with {pins[name]}",
                             f"Fix: `pip install {name}=={pins[name]}` (or `pip install -e .`)."))
    return [Check(OK, "versions", " | ".join(parts))] + out


def check_runtime() -> list[Check]:
    from .runtime import RuntimeConfigError, describe, status_line, trainer_device_kwargs

    try:
        info = describe()
    except RuntimeConfigError as exc:
        return [_failed("runtime", exc)]
    cuda = ", ".join(info["cuda_devices"]) or ("none, CPU-only torch" if info["cuda_build"] is None else "none found")
    bf16 = {True: "yes", False: "no", None: "unknown"}[info["cpu_bf16"]]
    checks = [Check(OK, "runtime", f"{status_line(info)} (CUDA: {cuda} | MPS: {'yes' if info['mps_available'] else 'no'}"
                                   f" | CPU bf16: {bf16})")]
    try:  # a GPU index that transformers' Trainer cannot use (lessons 07 and 08 would stop)
        trainer_device_kwargs(info["device"])
    except RuntimeConfigError as exc:
        checks.append(_failed("runtime (Trainer)", exc))
    return checks


def _size(source: str) -> str:
    """`` (12 layers, hidden 768: 207x tiny-ko-bert's compute per token)`` for a readable config, else ``""``."""
    try:
        from transformers import AutoConfig

        from .runtime import REFERENCE_COMPUTE, non_embedding_params

        config = AutoConfig.from_pretrained(source, local_files_only=True)
        ratio = non_embedding_params(config) / REFERENCE_COMPUTE
        return (f" ({config.num_hidden_layers} layers, hidden {config.hidden_size}: "
                f"{ratio:,.1f}x tiny-ko-bert's compute per token)")
    except Exception:  # noqa: BLE001 (the size is a courtesy; loading problems are reported elsewhere)
        return ""


def check_model() -> Check:
    from .cache import CHECKSUMS, ArtifactError, verify_checksums
    from .models import ModelNotAvailableError, display_name, model_source, resolve_model_name
    from .reference import REFERENCE_NAME

    env = os.environ.get("BERT_MODEL")
    label = f"BERT_MODEL={env}" if env else "BERT_MODEL unset"
    try:
        name = resolve_model_name()
        source = model_source(name)  # verifies the shipped tiny-ko-bert; checks a folder for config.json
    except (ModelNotAvailableError, ArtifactError) as exc:
        detail, fix = _split_fix(exc)
        return Check(FAIL, "model", f"{label}: {detail}", fix)
    if name == REFERENCE_NAME:
        return Check(OK, "model", f"{label} -> tiny-ko-bert, shipped in {source}, checksums verified")
    if display_name(name).startswith("local:"):
        if (Path(source) / CHECKSUMS).is_file():
            try:
                verify_checksums(source, what="model", fix="Fix: restore or re-save the folder.")
            except ArtifactError as exc:
                detail, fix = _split_fix(exc)
                return Check(FAIL, "model", f"{label}: {detail}", fix)
        size = _size(source)
        if not size:
            return Check(FAIL, "model", f"{label}: the config.json in {source} cannot be read",
                         "Fix: re-save the checkpoint with save_pretrained, or use BERT_MODEL=tiny-ko-bert.")
        return Check(OK, "model", f"{label} -> local folder {source}{size}")
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(name, "config.json")
    if isinstance(cached, str):
        return Check(OK, "model", f"{label} -> hub id {name}, in the local Hugging Face cache{_size(name)}")
    fix = (f"Fix: connect to the internet once (the first lesson downloads {name}), or set BERT_MODEL to a folder "
           "saved with save_pretrained, or BERT_MODEL=tiny-ko-bert (shipped, offline).")
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        return Check(FAIL, "model", f"{label} -> hub id {name}: not in the local cache and HF_HUB_OFFLINE=1", fix)
    return Check(WARN, "model", f"{label} -> hub id {name}: not in the local cache yet (downloads on first use)", fix)


def check_sentence_model() -> Check:
    from .cache import ArtifactError
    from .models import SENTENCE_MODEL, ModelNotAvailableError, sentence_model_source

    try:
        source = sentence_model_source()
    except (ModelNotAvailableError, ArtifactError) as exc:
        return _failed("sentence model", exc)
    return Check(OK, "sentence model", f"{SENTENCE_MODEL}, shipped in {source}, checksums verified")


def check_dataset(name: str) -> Check:
    from .data.fetch import DataError, sha256_file, verified_tree_hash
    from .data.registry import DATA_ENV, DATASETS, data_cache, locate, verify_dataset

    spec = DATASETS[name]
    item = f"data {name}"
    files = [None] if spec.tree else spec.file_names()
    named = (spec.env and os.environ.get(spec.env) and spec.env) or (os.environ.get(DATA_ENV) and DATA_ENV)
    if named:  # a copy the user names: checked where it is, never downloaded
        try:
            found = [locate(name, f) for f in files]
        except DataError as exc:
            return _failed(item, exc)
        where = found[0].path if spec.tree or len(found) == 1 else found[0].path.parent
        if all(loc.official for loc in found):
            return Check(OK, item, f"{spec.title}: {where} (from {named}), verified")
        try:
            verify_dataset(name)
        except DataError as exc:  # an edited copy still loads (flagged official=False): a warning
            return _failed(item, exc, WARN)
    root = data_cache()
    rel = spec.local + "/" if spec.tree else (f"{spec.local}/{files[0]}" if spec.local else files[0])
    target = root / spec.local if spec.tree else [root / spec.local / f for f in files]
    offline = (f"Fix: none needed with internet access; offline, copy {rel} (github.com/{spec.repo}) into a folder "
               f"laid out like shared/data and set {DATA_ENV} to it.")
    present = target.is_dir() if spec.tree else all(p.is_file() for p in target)
    if not present:
        return Check(WARN, item, f"{spec.title}: not in the cache {root}; downloads on first use", offline)
    if spec.tree:
        good = verified_tree_hash(target, root) == spec.tree
    else:
        good = all(sha256_file(p) == spec.files[spec.upstream_path(p.name)] for p in target)
    if good:
        return Check(OK, item, f"{spec.title}: in the cache {root}, verified")
    return Check(WARN, item, f"{spec.title}: the cached copy in {root} fails its checksum; it is replaced on first use",
                 offline)


def check_font() -> Check:
    try:  # helpers.setup was renamed helpers.lesson during issue 19
        from .lesson import FONT_FAMILY, font_path
    except ImportError:
        from .setup import FONT_FAMILY, font_path

    fix = "Fix: pip install koreanize-matplotlib==0.1.1 (or `make lab`)."
    try:
        path = font_path()
    except ImportError:
        return Check(FAIL, "font", "koreanize-matplotlib (the Hangul font for plots) is not installed", fix)
    if not path.is_file():
        return Check(FAIL, "font", f"Hangul font not found at {path}", fix)
    return Check(OK, "font", f"{FONT_FAMILY} at {path}")


def check_cache() -> Check:
    from .paths import cache_dir

    fix = "Fix: set KO_BERT_CACHE to a folder you can write to (e.g. KO_BERT_CACHE=$HOME/ko-bert-cache)."
    try:
        root = cache_dir()
        with tempfile.NamedTemporaryFile(dir=root, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check(FAIL, "cache", f"the cache folder cannot be used: {exc}", fix)
    origin = "KO_BERT_CACHE" if os.environ.get("KO_BERT_CACHE") else "default; KO_BERT_CACHE moves it"
    return Check(OK, "cache", f"{root} (writable; {origin})")


def _guarded(item: str, check) -> list[Check]:
    try:
        result = check()
    except Exception as exc:  # noqa: BLE001 (the doctor reports, it never shows a traceback)
        return [Check(FAIL, item, f"{type(exc).__name__}: {' '.join(str(exc).split())}", REPORT)]
    return result if isinstance(result, list) else [result]


def run(out=print) -> int:
    """Print every check; return the exit status (1 if a lesson could not run)."""
    from . import __version__
    from .data.registry import DATASETS

    out(f"helpers {__version__} doctor")
    checks = [("versions", check_versions), ("runtime", check_runtime), ("model", check_model),
              ("sentence model", check_sentence_model)]
    checks += [(f"data {name}", lambda name=name: check_dataset(name)) for name in DATASETS]
    checks += [("font", check_font), ("cache", check_cache)]
    results = []
    for item, check in checks:
        for c in _guarded(item, check):
            results.append(c)
            out(f"  {c.status:<5} {c.item}: {c.detail}")
            if c.status != OK:
                out(f"        {c.fix or REPORT}")
    failed = sum(c.status == FAIL for c in results)
    warned = sum(c.status == WARN for c in results)
    if failed:
        extra = f" ({warned} warning(s))." if warned else "."
        out(f"{failed} problem(s) stop a lesson: fix the FAIL line(s) above{extra}")
    else:
        out("Every lesson can run here" + (f" ({warned} warning(s) above)." if warned else "."))
    return 1 if failed else 0


def main(argv=None) -> int:
    try:
        return run()
    except Exception as exc:  # noqa: BLE001
        print(f"  FAIL  doctor: {type(exc).__name__}: {exc}\n        {REPORT}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
