"""export-onnx: checkpoint -> validated, self-describing ONNX file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import onnx
import torch

from fclf_edge.runtime._atomic import atomic_write_bytes
from fclf_edge.runtime.errors import MismatchError, ModelError
from fclf_edge.runtime.metadata import METADATA_KEYS as K
from fclf_edge.train.checkpoint import Checkpoint, load_checkpoint

from .graph import DEFAULT_ONNX_OPSET, build_model, set_metadata
from .parity import (
    ATOL_FOR_VALIDATION,
    ParityReport,
    check_parity,
    onnxruntime_runner,
    parity_inputs,
)


@dataclass
class ExportResult:
    """The written file and the gate's findings."""

    path: Path
    parity: ParityReport
    metadata: dict[str, str]
    size: int


def _package_version() -> str:
    try:
        return version("fclf-edge")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def model_metadata(checkpoint: Checkpoint, opset: int) -> dict[str, str]:
    """Everything a device needs to know about the model, as strings (metadata_props)."""
    model, config, info = checkpoint.model, checkpoint.config, checkpoint.info
    threshold = float(model.threshold.item())
    scale = float(model.scale.item())
    if config.rule_threshold is None:
        meaning = "1 = above freezing: Celsius (F - 32) / 1.8 > 0; 0 = at or below freezing"
    else:
        meaning = f"1 = F > {config.rule_threshold:g}; 0 otherwise"
    summary = {
        key: checkpoint.metrics[key]
        for key in (
            "question_test_accuracy",
            "integers_accuracy",
            "grid_1m_accuracy",
            "train_accuracy",
        )
        if key in checkpoint.metrics
    }
    return {
        K.units: "input fahrenheit: degrees Fahrenheit, float32, shape [batch]",
        K.label_meaning: meaning,
        K.probability_meaning: "sigmoid(scale * (fahrenheit - threshold)); 0.5 at the boundary",
        K.boundary: repr(threshold),
        K.threshold: repr(threshold),
        K.scale: repr(scale),
        K.weight: repr(scale),
        K.bias: repr(-scale * threshold),
        K.seed: str(config.seed),
        K.training_data: str(info.get("training_data", "")),
        K.training_config: json.dumps(config.to_dict(), sort_keys=True),
        K.training_summary: json.dumps(
            {
                **summary,
                # Rounded: the last bits of a float64 fit depend on the CPU's summation order,
                # and the file should not (the bundled model is compared byte for byte).
                "fit_boundary": round(float(info.get("fit_boundary", float("nan"))), 6),
                "steps": info.get("steps"),
                "objective": config.objective,
                "device": info.get("device"),
            },
            sort_keys=True,
        ),
        K.opset: str(opset),
        K.torch_version: str(info.get("torch_version", torch.__version__)),
        K.onnx_version: onnx.__version__,
        K.fclf_edge_version: _package_version(),
    }


def export_checkpoint(
    checkpoint_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    opset: int = DEFAULT_ONNX_OPSET,
    atol: float = ATOL_FOR_VALIDATION,
    progress: Callable[[int], None] | None = None,
    onnx_transform: Callable[[onnx.ModelProto], None] | None = None,
) -> ExportResult:
    """Export a checkpoint to ONNX; write it only if it passes the checker and the parity gate.

    `onnx_transform` edits the graph before the gate; it exists so tests can show that a
    perturbed graph is caught. Raises MismatchError (nothing written) when parity fails.
    """
    checkpoint = load_checkpoint(checkpoint_path)
    torch_model = checkpoint.model.eval()
    metadata = model_metadata(checkpoint, opset)
    model = build_model(
        float(torch_model.scale.item()), float(torch_model.threshold.item()), metadata, opset
    )
    if onnx_transform is not None:
        onnx_transform(model)
    _check(model)

    inputs = parity_inputs(float(torch_model.threshold.item()))
    report = check_parity(
        torch_model, onnxruntime_runner(model.SerializeToString()), inputs, atol, progress
    )
    if not report.passed:
        raise MismatchError(
            "parity gate failed, nothing written: " + report.describe().replace("\n", "; ")
        )
    # Record the gate's result in the file. max diff at 2 significant digits: enough to read,
    # and stable across runs so the file stays byte-reproducible.
    metadata.update(
        {
            K.parity_inputs: str(report.inputs),
            K.parity_label_mismatches: str(report.label_mismatches),
            K.parity_max_abs_diff: f"{report.max_abs_diff:.1e}",
            K.parity_atol: f"{atol:g}",
        }
    )
    set_metadata(model, metadata)
    _check(model)
    data = model.SerializeToString()
    atomic_write_bytes(out_path, data)
    return ExportResult(Path(out_path), report, metadata, len(data))


def _check(model: onnx.ModelProto) -> None:
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ModelError(f"the exported graph fails onnx.checker: {first}") from None
