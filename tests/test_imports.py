"""The runtime needs numpy, onnxruntime and click only: no torch, no onnx, ever."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from .conftest import cli_env

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "onnx", "onnxscript", "sklearn", "matplotlib")

PROBE = """
import json, sys
import fclf_edge.runtime
import fclf_edge.runtime.cli
from fclf_edge.runtime import Classifier
labels = Classifier().predict([33.0, 32.0]).tolist()
print(json.dumps({"labels": labels, "modules": sorted(sys.modules)}))
"""


def test_runtime_imports_no_torch_or_onnx() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=cli_env(), timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["labels"] == [1, 0]
    loaded = {m.split(".")[0] for m in data["modules"]}
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    assert "onnxruntime" in loaded and "numpy" in loaded


def test_predict_command_imports_no_torch_or_onnx() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['fclf-edge', 'predict', '33']\n"
        "from fclf_edge.runtime.cli import main\n"
        "try:\n    main()\n"
        "except SystemExit:\n    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    first, modules = proc.stdout.split("\n", 1)
    assert first == "1"
    assert not set(eval(modules)) & set(HEAVY)  # noqa: S307 - our own printed list


@pytest.mark.slow
def test_torch_free_venv(tmp_path: Path) -> None:
    """`pip install .` with no extras gives a working fclf-edge and no torch."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    env = {k: v for k, v in cli_env().items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-c", str(ROOT / "constraints.txt"), str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        cwd=tmp_path,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    run = subprocess.run(
        [str(env_dir / "bin" / "fclf-edge"), "predict", "33", "32"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert (run.returncode, run.stdout) == (0, "1\n0\n"), run.stderr
    for module in ("torch", "onnx"):
        probe = subprocess.run(
            [str(python), "-c", f"import {module}"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            cwd=tmp_path,
        )
        assert probe.returncode != 0 and "ModuleNotFoundError" in probe.stderr
    freeze = subprocess.run(
        [str(python), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    names = {p["name"].lower() for p in json.loads(freeze.stdout)}
    assert {"numpy", "onnxruntime", "click", "fclf-edge"} <= names
    assert not names & {"torch", "onnx", "onnxscript"}
    info = subprocess.run(
        [str(env_dir / "bin" / "fclf-edge"), "verify", "--samples", "100000"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert info.returncode == 0 and "mismatches 0" in info.stdout, info.stderr
    assert os.path.exists(env_dir / "bin" / "train-model")  # installed, needs the extra to run
    no_torch = subprocess.run(
        [str(env_dir / "bin" / "train-model"), "--out", str(tmp_path / "m.pt")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert no_torch.returncode == 5, no_torch.stderr
    assert "pip install 'fclf-edge[train]'" in no_torch.stderr
