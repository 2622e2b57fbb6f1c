"""`export-onnx --ort`: the ORT-format model that onnxruntime's minimal (mobile) builds read.

The conversion is onnxruntime's own (`onnxruntime.tools.convert_onnx_models_to_ort`, fixed
optimisation style), which also writes the required-operators config that a reduced build
takes with `--include_ops_by_config`. The converter optimises the graph while converting, so the
result goes through the same gate as the .onnx: identical labels on every parity input, and
probabilities within the ATOL.
"""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fclf_edge.runtime.errors import MismatchError, ModelError

from .parity import onnxruntime_runner

# What a reduced build needs: the config the converter writes beside the model.
CONFIG_SUFFIX = ".required_operators.config"


@dataclass
class OrtModel:
    """An ORT-format model and its required-operators config, as bytes."""

    model: bytes
    config: bytes


def to_ort(onnx_bytes: bytes, inputs: np.ndarray, atol: float, name: str) -> OrtModel:
    """Convert with onnxruntime's tool; MismatchError if the result labels any input differently.

    `name` is the .ort file's name, for the config's header (instead of a temp folder's path).
    """
    from onnxruntime.tools.convert_onnx_models_to_ort import (
        OptimizationStyle,
        convert_onnx_models_to_ort,
    )

    with tempfile.TemporaryDirectory(prefix="fclf-edge-ort-") as folder:
        source = Path(folder) / "model.onnx"
        source.write_bytes(onnx_bytes)
        try:
            # The tool prints and logs its progress; the export prints its own summary instead.
            with (
                contextlib.redirect_stdout(io.StringIO()),
                _silenced("ort_format_model.utils"),
                warnings.catch_warnings(),
            ):
                # The tool's config writer reads the .ort without closing it: collect the file
                # object here, where its ResourceWarning is ignored, not at a random later time.
                warnings.simplefilter("ignore", ResourceWarning)
                convert_onnx_models_to_ort(
                    source, output_dir=Path(folder), optimization_styles=[OptimizationStyle.Fixed]
                )
                gc.collect()
            config = (Path(folder) / f"model{CONFIG_SUFFIX}").read_text()
            converted = OrtModel(
                (Path(folder) / "model.ort").read_bytes(),
                config.replace(str(Path(folder) / "model.ort"), name).encode(),
            )
        except Exception as exc:  # the tool raises what onnxruntime raises
            raise ModelError(f"conversion to the ORT format failed: {exc}") from None
    _compare(onnx_bytes, converted.model, inputs, atol)
    return converted


@contextlib.contextmanager
def _silenced(logger: str) -> Iterator[None]:
    log = logging.getLogger(logger)
    saved = log.level
    log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(saved)


def _compare(onnx_bytes: bytes, ort_bytes: bytes, inputs: np.ndarray, atol: float) -> None:
    """The .ort must give the .onnx's labels exactly and its probabilities within `atol`."""
    want = onnxruntime_runner(onnx_bytes)(inputs)
    got = onnxruntime_runner(ort_bytes)(inputs)
    labels_differ = int(np.count_nonzero(got["label"] != want["label"]))
    diff = float(np.max(np.abs(got["probability"].astype(np.float64) - want["probability"])))
    if labels_differ or not diff <= atol:
        raise MismatchError(
            f"the ORT-format model differs from the ONNX model on {len(inputs):,} inputs: "
            f"{labels_differ} labels, probability by up to {diff:.3g} (ATOL {atol:g}); "
            "nothing written"
        )
