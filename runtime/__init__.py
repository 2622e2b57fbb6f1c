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
    from .reader import open_input
    from .stream import InvalidRowError, iter_predictions, predict_stream

# Loaded on first use, off the start-up path of `import fclf_edge.runtime`: the formula is for
# checking, not predicting; the file readers are for apps that score files and streams.
_LAZY = {
    "above_freezing": "formula",
    "celsius": "formula",
    "open_input": "reader",
    "predict_stream": "stream",
    "iter_predictions": "stream",
    "InvalidRowError": "stream",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_MODEL_PATH",
    "Classifier",
    "DeviceUnavailableError",
    "FclfError",
    "InvalidInputError",
    "InvalidRowError",
    "MismatchError",
    "MissingDependencyError",
    "ModelError",
    "WriteError",
    "above_freezing",
    "celsius",
    "iter_predictions",
    "open_input",
    "predict_stream",
]
