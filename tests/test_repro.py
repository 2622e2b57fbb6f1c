"""Reproducible artifacts: same command, same seed, same bytes; the bundled model is what the
documented command produces."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np

from fclf_edge.export.bundle import build_default_model
from fclf_edge.runtime import DEFAULT_MODEL_PATH, Classifier
from fclf_edge.train.data import uniform_grid

from .conftest import cli_env


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train_and_export(folder: Path, *extra: str) -> tuple[str, str]:
    folder.mkdir()
    bin_dir = Path(sys.executable).parent
    for command in (
        [str(bin_dir / "train-model"), "--device", "cpu", "-q", "--out", "m.pt", *extra],
        [str(bin_dir / "export-onnx"), "-q", "m.pt", "--out", "m.onnx"],
    ):
        proc = subprocess.run(
            command, cwd=folder, capture_output=True, text=True, env=cli_env(), timeout=300
        )
        assert proc.returncode == 0, proc.stderr
    return sha256(folder / "m.pt"), sha256(folder / "m.onnx")


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = train_and_export(tmp_path / "a")
    second = train_and_export(tmp_path / "b")
    assert first == second


def test_another_seed_gives_another_checkpoint(tmp_path: Path) -> None:
    a = train_and_export(tmp_path / "a", "--seed", "1")
    b = train_and_export(tmp_path / "b", "--seed", "2")
    assert a[0] != b[0]


def test_bundled_model_matches_the_documented_command(tmp_path: Path) -> None:
    out = tmp_path / "fahrenheit.onnx"
    digest = build_default_model(out)
    grid = uniform_grid()
    assert np.array_equal(Classifier(out).predict(grid), Classifier().predict(grid))
    assert digest == sha256(DEFAULT_MODEL_PATH), (
        "the committed bundled model differs from a fresh build: "
        "run `python -m fclf_edge.export.bundle` and commit the result"
    )
