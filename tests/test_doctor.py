"""``python -m helpers doctor``: exit 0 on this machine, exit 1 with a Fix line (never a traceback) when a
lesson could not run: an impossible KO_BERT_DEVICE, a BERT_MODEL folder that does not exist."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def doctor(tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("KO_BERT_DEVICE", "KO_BERT_PRECISION", "BERT_MODEL")}
    environment.update(KO_BERT_CACHE=str(tmp_path / "cache"), HF_HUB_OFFLINE="1", **env)
    environment["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), environment.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "helpers", "doctor"], capture_output=True, text=True,
                          env=environment, timeout=300, cwd=tmp_path)


def test_doctor_passes_here(tmp_path, data_root):
    result = doctor(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for item in ("versions: Python", "torch", "transformers", "sentence-transformers", "runtime: cpu", "threads",
                 "model: BERT_MODEL unset -> tiny-ko-bert", "checksums verified", "data chatbot", "data nsmc_raw",
                 "font: NanumGothic", "cache:"):
        assert item in out, item
    assert "FAIL" not in out and "Traceback" not in out + result.stderr
    assert all(line.startswith(("helpers", "  ok", "  warn", "        Fix:", "Every lesson")) for line in out.splitlines())


def test_impossible_device_exits_1_with_a_fix(tmp_path, data_root):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: KO_BERT_DEVICE=cuda is possible here")
    result = doctor(tmp_path, KO_BERT_DEVICE="cuda")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "FAIL  runtime: KO_BERT_DEVICE=cuda" in out and "Fix: unset KO_BERT_DEVICE" in out
    assert "Traceback" not in out


def test_missing_model_folder_exits_1_with_a_fix(tmp_path, data_root):
    result = doctor(tmp_path, BERT_MODEL=str(tmp_path / "no-such-model"))
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "FAIL  model: BERT_MODEL=" in out and "Fix:" in out and "Traceback" not in out


def test_usage(tmp_path):
    result = subprocess.run([sys.executable, "-m", "helpers", "nonsense"], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, timeout=120)
    assert result.returncode == 2 and "python -m helpers doctor" in result.stderr


def test_a_gpu_index_the_trainer_cannot_use_fails_with_a_fix(monkeypatch):
    """KO_BERT_DEVICE=cuda:1 on a (mocked) two-GPU machine: the runtime line is fine, but the Trainer lessons
    could not run there, so the doctor fails with the CUDA_VISIBLE_DEVICES fix."""
    import torch

    from helpers import doctor

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "Tesla T4")
    monkeypatch.delenv("KO_BERT_PRECISION", raising=False)
    monkeypatch.setenv("KO_BERT_DEVICE", "cuda:1")
    ok, trainer = doctor.check_runtime()
    assert ok.status == doctor.OK and ok.detail.startswith("cuda:1 (Tesla T4), fp16")
    assert trainer.status == doctor.FAIL and "Trainer" in trainer.detail
    assert trainer.fix.startswith("Fix:") and "CUDA_VISIBLE_DEVICES=1" in trainer.fix
    monkeypatch.setenv("KO_BERT_DEVICE", "cuda")
    assert [c.status for c in doctor.check_runtime()] == [doctor.OK]
