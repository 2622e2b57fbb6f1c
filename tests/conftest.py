"""Shared fixtures (one default training run and its export, built once per session) and tiers.

Every test carries one tier marker, given here by its file (see docs/development.md):

- `unit`: the runtime alone (reader, CLI in-process, writes, Classifier on the bundled model).
  No torch is imported; `pytest -m unit` runs in well under a minute.
- `integration`: training, export, the bundled model's rebuild, whole-process CLIs, the
  benchmarks' smoke runs, ruff and mypy, a torch-free venv built from scratch.
- `interop`: other runtimes and machines: Node, the browser page, an old onnxruntime, devices,
  the server.

A test in a unit file that asks for a fixture that trains or exports (below) is integration.
Outside the unit tier a missing torch fails the test, never skips it.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from fclf_edge.train.fit import TrainResult

CUDA_SKIP_REASON = "CUDA is not available on this machine; the CPU path carries the proof"

# File name (a glob) -> tier. The first match wins; a file not listed is integration.
TIERS: dict[str, str] = {
    "test_bad_inputs.py": "unit",
    "test_inputs_append.py": "unit",
    "test_inputs_extra.py": "unit",
    "test_inputs_fastpath.py": "unit",
    "test_inputs_files.py": "unit",
    "test_inputs_memory.py": "unit",
    "test_inputs_stream.py": "unit",
    "test_runtime.py": "unit",
    "test_writes.py": "unit",
    "test_grammar.py": "unit",
    "test_messages.py": "unit",
    "test_bench.py": "integration",
    "test_bench_read_files.py": "integration",
    "test_checkpoint.py": "integration",
    "test_classifier_memory.py": "integration",
    "test_cli.py": "integration",
    "test_docs.py": "integration",
    "test_exact.py": "integration",
    "test_export.py": "integration",
    "test_export_torch.py": "integration",
    "test_field_reports.py": "integration",
    "test_fuzz.py": "integration",
    "test_imports.py": "integration",
    "test_lint.py": "integration",
    "test_repro.py": "integration",
    "test_train.py": "integration",
    "test_train_file.py": "integration",
    "test_watch.py": "integration",
    "test_node.py": "interop",
    "test_web.py": "interop",
    "test_old_onnxruntime.py": "interop",
    "test_options.py": "interop",
    "test_devices*.py": "interop",
    "test_serve*.py": "interop",
}
TIER_NAMES = ("unit", "integration", "interop")

# Fixtures that train or export with torch: a test asking for one is not a unit test.
TORCH_FIXTURES = frozenset({"trained", "checkpoint_path", "onnx_path", "export_rule", "ort_model"})

# Tests in unit files that run train-model or export-onnx themselves.
TORCH_TESTS = frozenset(
    {
        "test_writes.py::test_train_model_out_on_a_full_disk",
    }
)


def file_tier(name: str) -> str:
    """The tier TIERS gives a test file's name."""
    found = (tier for pattern, tier in TIERS.items() if fnmatch.fnmatch(name, pattern))
    return next(found, "integration")


def tier_of(item: pytest.Item) -> str:
    """The tier of one collected test: its file's, unless a unit test needs torch."""
    tier = file_tier(item.path.name)
    test = f"{item.path.name}::{item.name.split('[', 1)[0]}"
    if tier == "unit" and (
        set(getattr(item, "fixturenames", ())) & TORCH_FIXTURES or test in TORCH_TESTS
    ):
        return "integration"
    return tier


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """`-m unit` does not even import the other tiers' files: many import torch at the top."""
    if config.getoption("markexpr", "") != "unit" or collection_path.suffix != ".py":
        return None
    if collection_path.name.startswith("test_") and file_tier(collection_path.name) != "unit":
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(getattr(pytest.mark, tier_of(item)))


@pytest.fixture(scope="session")
def train_extra() -> None:
    """The 'train' extra (torch) is installed; a missing one fails the test, never skips it."""
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        pytest.fail(
            f"the integration and interop tiers need the 'train' extra ({exc}): "
            "pip install -c constraints.txt -e '.[train]', or run `pytest -m unit`",
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _tier_requirements(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("unit") is None:
        request.getfixturevalue("train_extra")


@pytest.fixture(scope="session")
def trained(train_extra: None) -> TrainResult:
    """The default CPU training run."""
    from fclf_edge.train.config import TrainConfig
    from fclf_edge.train.fit import train

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
def export_rule(
    tmp_path_factory: pytest.TempPathFactory, train_extra: None
) -> Callable[[float], Path]:
    """Train on `F > threshold` with defaults otherwise, export, return the .onnx path."""
    from fclf_edge.export.convert import export_checkpoint
    from fclf_edge.train.checkpoint import save_checkpoint
    from fclf_edge.train.config import TrainConfig
    from fclf_edge.train.fit import train
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
def ort_model(tmp_path_factory: pytest.TempPathFactory, train_extra: None) -> Path:
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
