"""export-onnx: a checkpoint or a user's Linear state_dict -> validated, self-describing ONNX."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import onnx
import torch

from fclf_edge.runtime._atomic import atomic_write_bytes
from fclf_edge.runtime.errors import InvalidInputError, MismatchError, ModelError
from fclf_edge.runtime.floats import DOMAIN_HIGH, DOMAIN_LOW
from fclf_edge.runtime.metadata import METADATA_KEYS as K
from fclf_edge.train.checkpoint import Checkpoint, checkpoint_from_payload, read_payload

from .edge import DEFAULT_ONNX_OPSET, check, export_module, set_metadata
from .linear import LinearModel, is_linear_state_dict, linear_from_state_dict
from .parity import (
    ATOL_FOR_VALIDATION,
    ParityReport,
    check_parity,
    onnxruntime_runner,
    parity_inputs,
)


@dataclass
class ExportResult:
    """The written file(s) and the gate's findings."""

    path: Path
    parity: ParityReport
    metadata: dict[str, str]
    size: int
    ort_path: Path | None = None


@dataclass
class ExportSource:
    """What to export: the module, the gate's reference, its boundary and its metadata."""

    module: torch.nn.Module
    reference: torch.nn.Module
    boundary: float
    metadata: dict[str, str]


def _package_version() -> str:
    try:
        return version("fclf-edge")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def _versions() -> dict[str, str]:
    return {
        K.torch_version: str(torch.__version__),
        K.onnx_version: onnx.__version__,
        K.fclf_edge_version: _package_version(),
    }


def model_metadata(checkpoint: Checkpoint, opset: int) -> dict[str, str]:
    """Everything a device needs to know about the model, as strings (metadata_props)."""
    model, config, info = checkpoint.model, checkpoint.config, checkpoint.info
    threshold = float(model.threshold.item())
    scale = float(model.scale.item())
    if config.rule_threshold is None and not info.get("training_file"):
        meaning = "1 = above freezing: Celsius (F - 32) / 1.8 > 0; 0 = at or below freezing"
    elif config.rule_threshold is not None:
        meaning = f"1 = F > {config.rule_threshold:g}; 0 otherwise"
    else:
        meaning = f"1 = F > {threshold!r} (learned from labelled readings); 0 otherwise"
    summary = {
        key: checkpoint.metrics[key]
        for key in (
            "question_test_accuracy",
            "integers_accuracy",
            "grid_1m_accuracy",
            "train_accuracy",
            "holdout_accuracy",
        )
        if key in checkpoint.metrics
    }
    metadata = {
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
        **_versions(),
    }
    if info.get("torch_version"):
        metadata[K.torch_version] = str(info["torch_version"])
    if info.get("training_file"):
        # Which file it learned from: name (never a path), sha256, rows, columns.
        metadata[K.training_file] = json.dumps(info["training_file"], sort_keys=True)
    return metadata


def linear_metadata(linear: LinearModel, name: str, opset: int) -> dict[str, str]:
    """Metadata for a user's Linear model: its own weights, boundary and decision."""
    return {
        K.units: "input fahrenheit: degrees Fahrenheit, float32, shape [batch]",
        K.label_meaning: linear.label_meaning,
        K.probability_meaning: "sigmoid(weight * fahrenheit + bias), the model's own output",
        K.boundary: repr(linear.boundary),
        K.weight: repr(linear.weight),
        K.bias: repr(linear.bias),
        K.source_model: f"{linear.spelling}, state_dict {name}",
        K.training_data: "unknown: a user's Linear(1, 1) state_dict, exported as its author "
        "wrote it (not trained or refined by fclf-edge)",
        K.opset: str(opset),
        **_versions(),
    }


def load_source(path: str | os.PathLike[str], opset: int) -> ExportSource:
    """Read CHECKPOINT (never unpickling code) and say what will be exported."""
    p = Path(path)
    payload = read_payload(p)
    if is_linear_state_dict(payload):
        linear = linear_from_state_dict(payload, str(p))
        return ExportSource(
            linear.export, linear.reference, linear.boundary, linear_metadata(linear, p.name, opset)
        )
    if isinstance(payload, dict) and "format" not in payload and payload:
        raise ModelError(
            f"{p} is neither an fclf-edge checkpoint nor a state_dict of tensors "
            "(keys: " + ", ".join(sorted(map(str, payload))[:6]) + ")"
        )
    checkpoint = checkpoint_from_payload(payload, p)
    model = checkpoint.model.eval()
    return ExportSource(
        model, model, float(model.threshold.item()), model_metadata(checkpoint, opset)
    )


def export_checkpoint(
    checkpoint_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    opset: int = DEFAULT_ONNX_OPSET,
    atol: float = ATOL_FOR_VALIDATION,
    progress: Callable[[int], None] | None = None,
    onnx_transform: Callable[[onnx.ModelProto], None] | None = None,
    ort: bool = False,
) -> ExportResult:
    """Export a checkpoint to ONNX; write it only if it passes the checker and the parity gate.

    `onnx_transform` edits the graph before the gate; it exists so tests can show that a
    perturbed graph is caught. Raises MismatchError (nothing written) when parity fails.
    With `ort`, also writes the ORT-format model beside it (see `fclf_edge.export.ort_format`).
    """
    out = Path(out_path)
    beside = _companion_base(out) if ort else out  # refuse a bad --ort target before any work
    source = load_source(checkpoint_path, opset)
    model = export_module(source.module, opset)
    if onnx_transform is not None:
        onnx_transform(model)
    check(model)

    # Centre the boundary neighbours on the model's boundary, or on the nearer end of the
    # physical range when a user's model puts it outside (or beyond float32).
    centre = float(np.clip(source.boundary, float(DOMAIN_LOW), float(DOMAIN_HIGH)))
    inputs = parity_inputs(centre)
    report = check_parity(
        source.reference, onnxruntime_runner(model.SerializeToString()), inputs, atol, progress
    )
    if not report.passed:
        raise MismatchError(
            "parity gate failed, nothing written: " + report.describe().replace("\n", "; ")
        )
    metadata = source.metadata
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
    check(model)
    data = model.SerializeToString()
    converted = None
    if ort:
        from .ort_format import CONFIG_SUFFIX, to_ort

        # Converted and checked before anything is written: a failure leaves no half pair.
        converted = to_ort(data, inputs, atol, beside.with_suffix(".ort").name)
    atomic_write_bytes(out, data)
    if converted is not None:
        atomic_write_bytes(beside.with_suffix(".ort"), converted.model)
        atomic_write_bytes(beside.with_suffix(CONFIG_SUFFIX), converted.config)
    return ExportResult(
        out, report, metadata, len(data), beside.with_suffix(".ort") if converted else None
    )


def _companion_base(out: Path) -> Path:
    """Where the .ort goes: beside the .onnx file itself (a symlink's target, not the link).

    A FIFO, device or /dev/stdout has no "beside": --ort needs a file path.
    """
    import stat

    real = out.resolve() if out.is_symlink() else out
    if real.exists() and not stat.S_ISREG(real.stat().st_mode):
        raise InvalidInputError(
            f"--ort needs --out to be a file path, and {out} is not a regular file "
            "(a pipe, device or socket has no folder to put the .ort beside)"
        )
    return real
