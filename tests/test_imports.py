"""The runtime needs numpy, onnxruntime and click only: no torch, no onnx, ever."""

from __future__ import annotations

import json
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
    bin_dir = env_dir / "bin"
    env = {k: v for k, v in cli_env().items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    def run(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bin_dir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            cwd=tmp_path,
        )

    install = run(
        "python",
        "-m",
        "pip",
        "install",
        "-q",
        "-c",
        str(ROOT / "constraints.txt"),
        str(ROOT),
        timeout=900,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    predict = run("fclf-edge", "predict", "33", "32")
    assert (predict.returncode, predict.stdout) == (0, "1\n0\n"), predict.stderr
    for module in ("torch", "onnx"):
        probe = run("python", "-c", f"import {module}")
        assert probe.returncode != 0 and "ModuleNotFoundError" in probe.stderr
    names = {
        p["name"].lower()
        for p in json.loads(run("python", "-m", "pip", "list", "--format", "json").stdout)
    }
    assert {"numpy", "onnxruntime", "click", "fclf-edge"} <= names
    assert not names & {"torch", "onnx", "onnxscript"}
    verify = run("fclf-edge", "verify", "--samples", "100000")
    assert verify.returncode == 0 and "mismatches 0" in verify.stdout, verify.stderr
    # train-model is installed too, but needs the 'train' extra: exit 5 and the install command.
    no_torch = run("train-model", "--out", str(tmp_path / "m.pt"))
    assert no_torch.returncode == 5, no_torch.stderr
    assert "pip install 'fclf-edge[train]'" in no_torch.stderr
