"""Edge-safe means old runtimes load it: onnxruntime 1.17.3 (the oldest pyproject admits) runs the
exported and the bundled models, in a venv holding only onnxruntime==1.17.3 and numpy<2, with
labels identical to the pinned onnxruntime on the parity inputs."""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from fclf_edge.export.cli import main as export_main
from fclf_edge.export.parity import parity_inputs
from fclf_edge.runtime import DEFAULT_MODEL_PATH, Classifier

from .conftest import cli_env
from .test_export_torch import _spellings

OLD_ONNXRUNTIME = "onnxruntime==1.17.3"

RUN = """
import sys
import numpy as np
import onnxruntime as ort
assert ort.__version__ == "1.17.3", ort.__version__
x = np.load(sys.argv[1])
for model, out in zip(sys.argv[2::2], sys.argv[3::2]):
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    probability, label = session.run(["probability", "label"], {"fahrenheit": x})
    meta = session.get_modelmeta().custom_metadata_map
    np.savez(out, label=label, probability=probability, boundary=float(meta["boundary_fahrenheit"]))
"""


@pytest.fixture(scope="module")
def old_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with only onnxruntime 1.17.3 and numpy<2 (no fclf-edge, no torch)."""
    folder = tmp_path_factory.mktemp("ort117") / "venv"
    venv.EnvBuilder(with_pip=True).create(folder)
    python = folder / "bin" / "python"
    proc = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", OLD_ONNXRUNTIME, "numpy<2"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**cli_env(), "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return python


def test_onnxruntime_1_17_loads_every_export_with_identical_labels(
    tmp_path: Path, old_python: Path, onnx_path: Path
) -> None:
    models = {"bundled": DEFAULT_MODEL_PATH, "trained": onnx_path}
    for name, module in _spellings().items():  # the question's three state_dict spellings
        torch.save(module.state_dict(), tmp_path / f"{name}.pt")
        models[name] = tmp_path / f"{name}.onnx"
        result = CliRunner().invoke(
            export_main, [str(tmp_path / f"{name}.pt"), "--out", str(models[name])]
        )
        assert result.exit_code == 0, result.output
    boundaries = [Classifier(path).boundary or 0.0 for path in models.values()]
    x = np.concatenate([parity_inputs(b) for b in sorted(set(boundaries))])
    np.save(tmp_path / "x.npy", x)
    args = [str(old_python), "-c", RUN, str(tmp_path / "x.npy")]
    for name, path in models.items():
        args += [str(path), str(tmp_path / f"{name}.npz")]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300, env=cli_env())
    assert proc.returncode == 0, proc.stderr[-2000:]

    for name, path in models.items():
        old = np.load(tmp_path / f"{name}.npz")
        labels, probabilities = Classifier(path).predict_with_proba(x)
        assert np.array_equal(old["label"], labels), name
        assert np.max(np.abs(old["probability"] - probabilities)) <= 1e-6, name
        assert float(old["boundary"]) == Classifier(path).boundary
