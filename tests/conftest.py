"""Shared fixtures: one default training run and its export, built once per session."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

# The suite needs the 'train' extra: a missing torch fails here rather than skipping tests.
from fclf_edge.train.config import TrainConfig
from fclf_edge.train.fit import TrainResult, train

CUDA_SKIP_REASON = "CUDA is not available on this machine; the CPU path carries the proof"


@pytest.fixture(scope="session")
def trained() -> TrainResult:
    """The default CPU training run."""
    return train(TrainConfig(device="cpu"))


@pytest.fixture(scope="session")
def checkpoint_path(tmp_path_factory: pytest.TempPathFactory, trained: TrainResult) -> Path:
    from fclf_edge.train.checkpoint import save_checkpoint
    from fclf_edge.train.run import checkpoint_info

    path = tmp_path_factory.mktemp("train") / "model.pt"
    save_checkpoint(path, trained.model, trained.config, trained.metrics, checkpoint_info(trained))
    return path


@pytest.fixture(scope="session")
def onnx_path(tmp_path_factory: pytest.TempPathFactory, checkpoint_path: Path) -> Path:
    from fclf_edge.export.convert import export_checkpoint

    path = tmp_path_factory.mktemp("export") / "model.onnx"
    export_checkpoint(checkpoint_path, path)
    return path


@pytest.fixture(scope="session")
def export_rule(tmp_path_factory: pytest.TempPathFactory) -> Callable[[float], Path]:
    """Train on `F > threshold` with defaults otherwise, export, return the .onnx path."""
    from fclf_edge.export.convert import export_checkpoint
    from fclf_edge.train.checkpoint import save_checkpoint
    from fclf_edge.train.run import checkpoint_info

    cache: dict[float, Path] = {}

    def build(threshold: float) -> Path:
        if threshold not in cache:
            result = train(TrainConfig(device="cpu", rule_threshold=threshold))
            folder = tmp_path_factory.mktemp(f"rule{threshold:g}")
            save_checkpoint(
                folder / "m.pt",
                result.model,
                result.config,
                result.metrics,
                checkpoint_info(result),
            )
            export_checkpoint(folder / "m.pt", folder / "m.onnx")
            cache[threshold] = folder / "m.onnx"
        return cache[threshold]

    return build


@pytest.fixture(scope="session")
def ort_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled model in the ORT format, converted as `export-onnx --ort` converts it."""
    import numpy as np

    from fclf_edge.export.ort_format import to_ort
    from fclf_edge.runtime import DEFAULT_MODEL_PATH

    checks = np.array([33.0, 32.0, -40.0, -459.67, 10_000.0], dtype=np.float32)
    path = tmp_path_factory.mktemp("ort") / "fahrenheit.ort"
    path.write_bytes(to_ort(DEFAULT_MODEL_PATH.read_bytes(), checks, 1e-6, path.name).model)
    return path


def cli_env() -> dict[str, str]:
    """Environment for CLI subprocesses: no colour, unbuffered."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
