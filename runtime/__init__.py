"""fclf_edge.runtime: classify Fahrenheit temperatures with the exported ONNX model.

Needs numpy, onnxruntime and click only; never imports torch or onnx.

    >>> from fclf_edge.runtime import Classifier
    >>> Classifier().predict([33.0, 32.0])
    array([1, 0])
"""

from __future__ import annotations

from .classifier import DEFAULT_MODEL_PATH, Classifier
from .errors import (
    DeviceUnavailableError,
    FclfError,
    InvalidInputError,
    MismatchError,
    MissingDependencyError,
    ModelError,
)
from .formula import above_freezing, celsius

__all__ = [
    "DEFAULT_MODEL_PATH",
    "Classifier",
    "DeviceUnavailableError",
    "FclfError",
    "InvalidInputError",
    "MismatchError",
    "MissingDependencyError",
    "ModelError",
    "above_freezing",
    "celsius",
]
