"""Device, precision, threads and determinism: the decisions of :mod:`helpers.runtime`.

Read by the doctor (``python -m helpers doctor``) and, from phase 2 of issue 19, by every module
that runs a model. Nothing here needs a GPU to be tested: the decisions read
``torch.cuda.is_available()`` and ``torch.backends.mps.is_available()`` each time they are made.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys

DEVICE_ENV = "KO_BERT_DEVICE"
PRECISION_ENV = "KO_BERT_PRECISION"
DEVICE_VALUES = "auto, cpu, cuda, cuda:N or mps"
PRECISIONS = ("fp32", "bf16", "fp16")
_PRECISION_ALIASES = {"float32": "fp32", "fp32": "fp32", "32": "fp32", "no": "fp32", "bf16": "bf16",
                      "bfloat16": "bf16", "fp16": "fp16", "float16": "fp16", "half": "fp16"}
# cuBLAS needs a fixed workspace for deterministic matrix products (else it raises under
# torch.use_deterministic_algorithms(True)); set before the first CUDA call of the process
CUBLAS_WORKSPACE = ":4096:8"


class RuntimeConfigError(RuntimeError, ValueError):
    """An impossible or unknown device / precision choice; the message ends with the fix."""


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _mps_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _source(requested, env: str) -> tuple[str, str, str]:
    """(value, how to name it in a message, how to fix it) for an argument or an environment variable."""
    if requested is not None:
        value = str(requested)
        return value, f"the argument {value!r}", "pass None (choose automatically) or 'cpu'"
    value = os.environ.get(env, "")
    return value, f"{env}={value}", f"unset {env} (or set {env}=cpu)"


def choose_device(requested=None):
    """The ``torch.device`` every lesson runs on: CUDA, then MPS (Apple GPU), then the CPU.

    ``requested`` (a string or ``torch.device``) wins over ``$KO_BERT_DEVICE``; both accept
    ``auto``, ``cpu``, ``cuda``, ``cuda:N`` and ``mps``. A choice this machine cannot honour (``cuda``
    without a CUDA GPU or with a CPU-only torch, ``mps`` off Apple silicon) raises
    :class:`RuntimeConfigError` naming the fix; nothing falls back silently.
    """
    import torch

    raw, what, undo = _source(requested, DEVICE_ENV)
    value = raw.strip().lower()
    if value in ("", "auto"):
        if _cuda_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    match = re.fullmatch(r"(cpu|cuda|mps)(?::(\d+))?", value)
    if match is None or (match.group(2) is not None and match.group(1) != "cuda"):
        raise RuntimeConfigError(f"Unknown device {what}. Fix: use one of {DEVICE_VALUES}, or {undo}.")
    kind, index = match.group(1), match.group(2)
    if kind == "cuda":
        if not _cuda_available():
            why = ("this torch is a CPU-only build" if getattr(torch.version, "cuda", None) is None
                   else "torch finds no CUDA GPU (no NVIDIA GPU visible, or its driver is missing)")
            raise RuntimeConfigError(
                f"{what} asks for a CUDA GPU, but {why}. Fix: {undo} to run on the CPU, or install a CUDA "
                "build of torch (https://pytorch.org/get-started/locally/) on a machine with an NVIDIA GPU.")
        count = torch.cuda.device_count()
        if index is not None and int(index) >= count:
            raise RuntimeConfigError(f"{what} asks for GPU {index}, but torch sees {count} GPU(s) "
                                     f"(numbered from 0). Fix: use cuda:0 .. cuda:{count - 1}, or {undo}.")
        return torch.device(value)
    if kind == "mps" and not _mps_available():
        raise RuntimeConfigError(f"{what} asks for the Apple GPU (MPS), which this machine or torch build does "
                                 f"not offer (it needs Apple silicon and macOS 12.3+). Fix: {undo}.")
    return torch.device(kind)


def _as_device(device):
    import torch

    return device if isinstance(device, torch.device) else choose_device(device)


def _default_precision(kind: str) -> str:
    if kind == "cuda":
        import torch

        # bf16 has fp32's range (no loss scaling); a T4 (Colab's free GPU) has no bf16 units: fp16
        return "bf16" if _cuda_available() and torch.cuda.is_bf16_supported() else "fp16"
    # MPS: fp32. Autocast covers fewer operators there and fp16 training needs loss scaling, which a
    # plain loop does not do; the Apple GPU's gain from fp16 on models this size is small.
    # CPU: fp32 until bf16 is measured on the lessons' real runs (their stored outputs are fp32).
    return "fp32"


def choose_precision(device=None, requested=None) -> str:
    """``"fp32"``, ``"bf16"`` or ``"fp16"`` for ``device`` (default: :func:`choose_device`).

    Default: CUDA bf16 where the GPU supports it, else fp16; MPS and CPU fp32. ``requested`` (or
    ``$KO_BERT_PRECISION``) overrides with ``fp32``, ``bf16`` or ``fp16`` (``auto`` = the default);
    bf16 on a GPU without it and fp16 on the CPU are refused with a fix.
    """
    device = _as_device(device)
    raw, what, _ = _source(requested, PRECISION_ENV)
    value = raw.strip().lower()
    if value in ("", "auto"):
        return _default_precision(device.type)
    undo = f"unset {PRECISION_ENV}" if requested is None else "pass None"
    if value not in _PRECISION_ALIASES:
        raise RuntimeConfigError(f"Unknown precision {what}. Fix: use fp32, bf16 or fp16, or {undo} (automatic).")
    precision = _PRECISION_ALIASES[value]
    if device.type == "cuda" and precision == "bf16" and _cuda_available():
        import torch

        if not torch.cuda.is_bf16_supported():
            raise RuntimeConfigError(f"{what}: this GPU has no bfloat16 support (e.g. a T4). Fix: use fp16, or {undo}.")
    if device.type == "cpu" and precision == "fp16":
        raise RuntimeConfigError(f"{what}: fp16 on the CPU is slower than fp32 and the Trainer cannot scale its "
                                 f"loss there. Fix: use bf16 (fast on CPUs with avx512_bf16 or AMX) or fp32, or {undo}.")
    return precision


def _check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise RuntimeConfigError(f"precision must be one of {PRECISIONS}; got {precision!r}. Fix: use choose_precision().")
    return precision


def torch_dtype(precision: str):
    """The ``torch`` dtype of a precision name."""
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[_check_precision(precision)]


def autocast(device=None, precision: str | None = None):
    """A context manager running its block in ``precision`` on ``device`` (``torch.autocast``; fp32: a no-op)."""
    import torch

    device = _as_device(device)
    precision = _check_precision(precision) if precision is not None else choose_precision(device)
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch_dtype(precision))


def trainer_precision_kwargs(precision: str) -> dict:
    """``TrainingArguments`` keywords for ``precision``: ``{"bf16": True}``, ``{"fp16": True}`` or ``{}``."""
    return {} if _check_precision(precision) == "fp32" else {precision: True}


def accelerate_mixed_precision(precision: str) -> str:
    """``Accelerator(mixed_precision=...)`` for ``precision``: ``"no"``, ``"bf16"`` or ``"fp16"``."""
    return "no" if _check_precision(precision) == "fp32" else precision


ENGINES = ("accelerate", "trainer")


def engine_device(device=None, engine: str = "accelerate"):
    """Make ``device`` (default :func:`choose_device`) the one a training engine uses in this process; return it.

    Called by :func:`accelerator_kwargs` and :func:`trainer_device_kwargs`, so every trainer of the suite
    goes through it before its ``Accelerator`` or ``Trainer`` exists. The CPU and MPS need nothing
    (the engine is told ``cpu``/``use_cpu``, or finds the Apple GPU itself); for ``cuda:N``:

    - ``engine="accelerate"``: in a single process Accelerate puts everything on ``torch.device("cuda")``
      with no index (``PartialState.default_device``), i.e. on the *current* CUDA device, so this sets it
      with ``torch.cuda.set_device(N)``. Under ``accelerate launch`` (``LOCAL_RANK`` set) each process takes
      the GPU of its rank, and an index is refused.
    - ``engine="trainer"``: transformers' ``Trainer`` (``TrainingArguments._setup_devices``) always
      trains on ``cuda:0`` in a single process, and on every visible GPU at once (``nn.DataParallel``)
      when it sees several; no argument points it elsewhere. So ``cuda:N`` is honoured only when it is
      what the Trainer will do anyway (``cuda:0`` with one GPU visible); otherwise
      :class:`RuntimeConfigError` says to start Python with ``CUDA_VISIBLE_DEVICES=N`` (torch then sees
      that GPU alone, as ``cuda:0``). Plain ``cuda`` keeps the Trainer's own choice.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}; got {engine!r}.")
    device = _as_device(device)
    if device.type != "cuda" or device.index is None:
        return device
    import torch

    fix = (f"Fix: start Python (or Jupyter) with CUDA_VISIBLE_DEVICES={device.index} and {DEVICE_ENV}=cuda, so that "
           f"torch sees that GPU alone (as cuda:0).")
    if engine == "trainer":
        count = torch.cuda.device_count()
        if device.index != 0 or count > 1:
            raise RuntimeConfigError(
                f"{device} was asked for, but transformers' Trainer (lessons 07, 08, the Sentence-BERT build) trains "
                f"on cuda:0, and on all {count} visible GPUs at once (DataParallel) when it sees several. {fix}")
        return device
    if int(os.environ.get("LOCAL_RANK", -1)) != -1:
        raise RuntimeConfigError(f"{device} was asked for inside `accelerate launch`, where each process takes the GPU "
                                 f"of its rank. Fix: unset {DEVICE_ENV} (or set {DEVICE_ENV}=cuda) when launching.")
    torch.cuda.set_device(device)
    return device


def accelerator_kwargs(device=None, precision: str | None = None) -> dict:
    """``accelerate.Accelerator`` keywords for ``device`` and ``precision`` (defaults: the runtime's choice):
    ``cpu`` (True on the CPU, so that Accelerate leaves a GPU alone when told to) and ``mixed_precision``.
    Call it before creating the ``Accelerator``: for ``cuda:N`` it makes GPU N the current CUDA device
    (:func:`engine_device`), which is where a single-process Accelerator puts the model and the batches."""
    device = engine_device(device, "accelerate")
    precision = _check_precision(precision) if precision is not None else choose_precision(device)
    return {"cpu": device.type == "cpu", "mixed_precision": accelerate_mixed_precision(precision)}


def trainer_device_kwargs(device=None) -> dict:
    """``TrainingArguments`` keywords for ``device``: ``{"use_cpu": True}`` on the CPU, else ``{}`` (the
    Trainer then takes the GPU). ``cuda:N`` that the Trainer cannot honour raises :class:`RuntimeConfigError`
    with the fix (``CUDA_VISIBLE_DEVICES``; see :func:`engine_device`)."""
    return {"use_cpu": True} if engine_device(device, "trainer").type == "cpu" else {}


def set_threads(n: int | None) -> int:
    """Set torch's thread count for the rest of the process (``None``: unchanged); return the previous one.

    For a lesson's opening call (:func:`helpers.setup`); a block that needs other threads for a while
    uses :func:`threads`, which restores them.
    """
    import torch

    if n is not None and int(n) < 1:
        raise ValueError(f"threads must be at least 1 (or None); got {n}.")
    old = torch.get_num_threads()
    if n is not None and int(n) != old:
        torch.set_num_threads(int(n))
    return old


@contextlib.contextmanager
def threads(n: int | None):
    """Run the block with ``n`` torch threads (``None``: unchanged); the previous count is restored."""
    old = set_threads(n)
    try:
        yield
    finally:
        set_threads(old)


_threads = threads  # execution() has a parameter of that name


@contextlib.contextmanager
def _deterministic(device):
    import torch

    on_gpu = _as_device(device).type != "cpu"
    previous = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
                torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    # on a GPU an operator without a deterministic kernel warns instead of stopping the lesson
    torch.use_deterministic_algorithms(True, warn_only=on_gpu)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = previous[2], previous[3]


@contextlib.contextmanager
def execution(threads: int | None = None, deterministic: bool = True, seed: int | None = None, device=None):
    """Threads, seeds and determinism for one block (a training run); everything is restored afterwards.

    ``threads``: torch threads (``None``: unchanged). ``seed``: ``transformers.set_seed`` (Python,
    NumPy, torch and every GPU). ``deterministic``: ``torch.use_deterministic_algorithms(True)``
    (warn-only on a GPU, with ``CUBLAS_WORKSPACE_CONFIG`` set so that cuBLAS complies) and cuDNN's
    deterministic mode. ``device`` (default :func:`choose_device`) only decides warn-only.
    """
    with contextlib.ExitStack() as stack:
        stack.enter_context(_threads(threads))
        if seed is not None:
            from transformers import set_seed

            set_seed(int(seed))
        if deterministic:
            stack.enter_context(_deterministic(device))
        yield


def cpu_has_bf16() -> bool | None:
    """True if the CPU has bfloat16 instructions (avx512_bf16 or AMX; Linux only, else ``None``)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            flags = next((line for line in fh if line.startswith("flags")), "").split()
    except OSError:
        return None
    return "avx512_bf16" in flags or "amx_bf16" in flags


def describe(device=None, precision=None) -> dict:
    """What the runtime chose and why it could: device, precision, threads, torch and its back-ends.

    Raises :class:`RuntimeConfigError` for an impossible ``$KO_BERT_DEVICE`` / ``$KO_BERT_PRECISION``.
    """
    import torch

    chosen = _as_device(device)
    cuda = _cuda_available()
    return {"device": str(chosen), "precision": choose_precision(chosen, precision),
            "threads": torch.get_num_threads(), "torch": torch.__version__,
            "cuda_build": getattr(torch.version, "cuda", None), "cuda_available": cuda,
            "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
            "mps_available": _mps_available(), "cpu_bf16": cpu_has_bf16()}


def status_line(info: dict | None = None) -> str:
    """One line for a lesson's status: ``cpu, fp32, 2 threads`` (``cuda (Tesla T4), fp16, 2 threads``)."""
    info = info or describe()
    index = int(info["device"].partition(":")[2] or 0)
    names = info.get("cuda_devices") or []
    gpu = f" ({names[index]})" if info["device"].startswith("cuda") and index < len(names) else ""
    return f"{info['device']}{gpu}, {info['precision']}, {info['threads']} threads"
