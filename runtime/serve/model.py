"""The one model a server serves: its name, its version and the protocol's metadata about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..metadata import INPUT_NAME, LABEL_OUTPUT, PROBABILITY_OUTPUT
from .protocol import INPUT_DATATYPE, OUTPUTS

if TYPE_CHECKING:
    import numpy.typing as npt

    from ..classifier import Classifier

# The version is the first 12 hex digits of the model file's sha256: it changes exactly when the
# file does, needs no field the exporter may not have written, and is what `fclf-edge info` shows.
VERSION_DIGITS = 12
PLATFORM = "onnxruntime_onnx"  # Triton's name for an ONNX model run by onnxruntime


@dataclass
class ServedModel:
    """A Classifier under a name and a version.

    Attributes:
        classifier: the loaded model (one onnxruntime session, safe to call from many threads).
        name: the name clients use in URLs (default: the model file's stem, `fahrenheit`).
        version: the first 12 hex digits of the model file's sha256.
    """

    classifier: Classifier
    name: str
    version: str = field(default="")

    def __post_init__(self) -> None:
        if not self.version:
            self.version = self.classifier.sha256[:VERSION_DIGITS]

    def metadata(self) -> dict[str, Any]:
        """The protocol's model metadata: name, versions, platform, inputs and outputs."""
        return {
            "name": self.name,
            "versions": [self.version],
            "platform": PLATFORM,
            "inputs": [{"name": INPUT_NAME, "datatype": INPUT_DATATYPE, "shape": [-1]}],
            "outputs": [
                {"name": name, "datatype": OUTPUTS[name][0], "shape": [-1]}
                for name in (LABEL_OUTPUT, PROBABILITY_OUTPUT)
            ],
            "parameters": {
                "sha256": self.classifier.sha256,
                "boundary_fahrenheit": self.classifier.boundary,
            },
        }

    def infer(
        self, values: npt.NDArray[np.float32], outputs: tuple[str, ...]
    ) -> dict[str, npt.NDArray[Any]]:
        """Run validated float32 values (shape (n,)); returns the named outputs, each shape (n,).

        Labels are int64 and probabilities float32: the arrays `Classifier` returns.
        """
        proba = PROBABILITY_OUTPUT in outputs
        labels, probabilities = self.classifier.predict_batch(values, proba=proba)
        results: dict[str, npt.NDArray[Any]] = {LABEL_OUTPUT: np.asarray(labels)}
        if probabilities is not None:
            results[PROBABILITY_OUTPUT] = np.asarray(probabilities)
        return results
