"""fclf_edge.runtime: classify Fahrenheit temperatures with the exported ONNX model.

Needs numpy, onnxruntime and click only; never imports torch or onnx.

    >>> from fclf_edge.runtime import Classifier
    >>> Classifier().predict([33.0, 32.0])
    array([1, 0])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .classifier import DEFAULT_MODEL_PATH, Classifier
from .errors import (
    DeviceUnavailableError,
    FclfError,
    InvalidInputError,
    MismatchError,
    MissingDependencyError,
    ModelError,
    WriteError,
)

if TYPE_CHECKING:
    from .formula import above_freezing, celsius


def __getattr__(name: str) -> Any:
    # The formula is for checking, not predicting: load it on first use, off the start-up path.
    if name in ("above_freezing", "celsius"):
        from . import formula

        return getattr(formula, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_MODEL_PATH",
    "Classifier",
    "DeviceUnavailableError",
    "FclfError",
    "InvalidInputError",
    "MismatchError",
    "MissingDependencyError",
    "ModelError",
    "WriteError",
    "above_freezing",
    "celsius",
]
