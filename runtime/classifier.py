"""Classifier: the ONNX model in onnxruntime, behind a small typed API."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import onnxruntime as ort

from .errors import ModelError
from .metadata import INPUT_NAME, LABEL_OUTPUT, PROBABILITY_OUTPUT
from .metadata import METADATA_KEYS as K
from .validate import as_batch

if TYPE_CHECKING:
    import numpy.typing as npt

    from .validate import Values

DEFAULT_MODEL_PATH = Path(__file__).parent / "models" / "fahrenheit.onnx"

# onnxruntime's process-wide logger writes warnings and errors to stderr by itself, in colour,
# before a session's own options apply (a model whose external data is missing, for one).
# Every failure reaches the user as one line from the kit instead; fatal only here.
ort.set_default_logger_severity(4)

_EXPECTED = (
    "an fclf-edge model has input 'fahrenheit' (float32 [batch]) and outputs "
    "'probability' (float32) and 'label' (int64)"
)


class Classifier:
    """Classify Fahrenheit temperatures as above freezing (1) or not (0).

    Args:
        model: path to an .onnx file from export-onnx; None loads the bundled default model.
        threads: onnxruntime intra-op threads. 1 suits a model this small: more threads cost
            more to wake than the work they share, except on batches of millions.
        providers: onnxruntime execution providers, in preference order (default: CPU).
        allow_spinning: let idle onnxruntime threads busy-wait. Off: spinning burns CPU on
            small devices for no gain with a 5-op graph.

    One onnxruntime session per Classifier; `predict*` are safe to call from many threads.

    Inputs are rounded to float32 first (the model's input type): 32.000001 becomes 32.0 and
    gets label 0, although the formula on the exact decimal says 1. Only decimals in
    (32, 32 + 2**-19] = (32, 32.0000019073486328125] round to 32.0; every float32 itself is
    labelled exactly as the formula labels it.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        threads: int = 1,
        providers: Sequence[str] | None = None,
        allow_spinning: bool = False,
    ) -> None:
        self.path = Path(model) if model is not None else DEFAULT_MODEL_PATH
        self._bytes = _read_model(self.path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # errors only: warnings would clutter a CLI's stderr
        # No CPU memory arena: the arena keeps the high-water mark of every batch for the
        # session's life (one 10M-value batch left ~256 MiB held after release). Without it the
        # big buffers go back to the OS on release; small calls are as fast (bench/memory.py).
        options.enable_cpu_mem_arena = False
        spin = "1" if allow_spinning else "0"
        options.add_session_config_entry("session.intra_op.allow_spinning", spin)
        options.add_session_config_entry("session.inter_op.allow_spinning", spin)
        try:
            # From the path, not the bytes: a model saved with external data (weights in a
            # .bin beside it) is resolved relative to its own folder; onnxruntime refuses
            # external paths that leave that folder.
            self._session = ort.InferenceSession(
                str(self.path), options, providers=list(providers or ["CPUExecutionProvider"])
            )
            self.metadata: dict[str, str] = dict(self._session.get_modelmeta().custom_metadata_map)
        except Exception as exc:  # onnxruntime raises its own pybind types, not a common base
            raise ModelError(_load_failure(self.path, exc)) from None
        self._batch = self._check_signature()

    def _check_signature(self) -> int | None:
        """Check names and types; return the model's fixed batch size, or None if dynamic."""
        inputs = {i.name: i.type for i in self._session.get_inputs()}
        outputs = {o.name: o.type for o in self._session.get_outputs()}
        wanted_outputs = {PROBABILITY_OUTPUT: "tensor(float)", LABEL_OUTPUT: "tensor(int64)"}
        if inputs != {INPUT_NAME: "tensor(float)"} or any(
            outputs.get(name) != kind for name, kind in wanted_outputs.items()
        ):
            raise ModelError(
                f"{self.path} is not an fclf-edge model: inputs {inputs}, outputs {outputs}; "
                f"{_EXPECTED}; use a model written by export-onnx"
            )
        shape = self._session.get_inputs()[0].shape
        if len(shape) != 1:
            raise ModelError(f"{self.path}: input shape {shape}, expected [batch]; {_EXPECTED}")
        batch = shape[0]
        if isinstance(batch, int) and batch >= 1:
            return batch  # a fixed batch size: values are fed that many at a time
        if isinstance(batch, int):
            raise ModelError(f"{self.path}: input shape {shape} takes no values; {_EXPECTED}")
        return None

    @property
    def boundary(self) -> float | None:
        """The learned boundary in °F (label 1 above it), from the model's metadata; None
        when the metadata has none, or none that is a finite number."""
        value = self.metadata.get(K.boundary)
        try:
            number = float(value) if value is not None else None
        except ValueError:
            return None
        return number if number is not None and math.isfinite(number) else None

    @property
    def sha256(self) -> str:
        """sha256 of the model file's bytes."""
        import hashlib  # only `info` asks; keep it off the start-up path

        return hashlib.sha256(self._bytes).hexdigest()

    @property
    def size(self) -> int:
        """Model file size in bytes."""
        return len(self._bytes)

    @property
    def session(self) -> ort.InferenceSession:
        """The underlying onnxruntime session (for inspection; prefer the predict methods)."""
        return self._session

    def _run(self, names: list[str], batch: npt.NDArray[np.float32]) -> list[Any]:
        """Run the model on a 1-D float32 batch: one flat output array per name.

        A model with a fixed batch size gets exactly that many values per run (the last run
        padded with 0 °F, its extra outputs dropped).
        Raises ModelError when onnxruntime cannot run the model on them.
        """
        size = self._batch
        if size is None or len(batch) == size:
            return self._run_once(names, batch)
        parts: list[list[Any]] = []
        for start in range(0, len(batch), size):
            part = batch[start : start + size]
            n = len(part)
            if n < size:
                part = np.concatenate([part, np.zeros(size - n, dtype=np.float32)])
            parts.append([out[:n] for out in self._run_once(names, part)])
        if not parts:
            return [
                np.empty(0, dtype=np.int64 if name == LABEL_OUTPUT else np.float32)
                for name in names
            ]
        return [np.concatenate([p[i] for p in parts]) for i in range(len(names))]

    def _run_once(self, names: list[str], batch: npt.NDArray[np.float32]) -> list[Any]:
        try:
            outputs = self._session.run(names, {INPUT_NAME: batch})
        except Exception as exc:  # onnxruntime raises its own pybind types, not a common base
            text = " ".join(str(exc).split())
            raise ModelError(
                f"{self.path}: onnxruntime could not run the model on {len(batch)} values "
                f"({_tail(text)}); {_EXPECTED}"
            ) from None
        return list(outputs)

    @overload
    def predict(self, values: float) -> int: ...
    @overload
    def predict(self, values: Sequence[float] | npt.NDArray[Any]) -> npt.NDArray[np.int64]: ...
    def predict(self, values: Values) -> int | npt.NDArray[np.int64]:
        """Labels: 1 = above freezing, 0 = at or below. A scalar in gives an int out.

        Raises:
            InvalidInputError: a value is NaN, infinite, beyond float32, below absolute zero,
                or not a number; `.index` is the first bad element's position.
        """
        batch, scalar = as_batch(values)
        (labels,) = self._run([LABEL_OUTPUT], batch)
        return int(labels[0]) if scalar else np.asarray(labels, dtype=np.int64)

    @overload
    def predict_proba(self, values: float) -> float: ...
    @overload
    def predict_proba(
        self, values: Sequence[float] | npt.NDArray[Any]
    ) -> npt.NDArray[np.float32]: ...
    def predict_proba(self, values: Values) -> float | npt.NDArray[np.float32]:
        """Probability of "above freezing" (float32; 0.5 at the boundary). Raises as `predict`."""
        batch, scalar = as_batch(values)
        (probabilities,) = self._run([PROBABILITY_OUTPUT], batch)
        return float(probabilities[0]) if scalar else np.asarray(probabilities)

    def predict_with_proba(
        self, values: Values
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """(labels, probabilities) from one run, always as arrays. Raises as `predict`."""
        batch, _ = as_batch(values)
        labels, probabilities = self._run([LABEL_OUTPUT, PROBABILITY_OUTPUT], batch)
        return np.asarray(labels), np.asarray(probabilities)

    def predict_batch(
        self, batch: npt.NDArray[np.float32], *, proba: bool = False
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32] | None]:
        """Run an already validated 1-D float32 batch (the CLI's streaming path; no checks)."""
        if proba:
            labels, probabilities = self._run([LABEL_OUTPUT, PROBABILITY_OUTPUT], batch)
            return labels, probabilities
        (labels,) = self._run([LABEL_OUTPUT], batch)
        return labels, None

    def __repr__(self) -> str:
        return f"Classifier({str(self.path)!r}, boundary={self.boundary!r})"


def _read_model(path: Path) -> bytes:
    if "\0" in str(path):  # no file system allows it; os calls would raise ValueError
        raise ModelError(f"model path {str(path)!r} contains a NUL byte")
    if not path.exists():
        raise ModelError(f"model file not found: {path}")
    if path.is_dir():
        raise ModelError(f"model path is a directory, not an .onnx file: {path}")
    try:
        data = path.read_bytes()
    except PermissionError:
        raise ModelError(f"cannot read model file {path}: permission denied") from None
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror}") from None
    if not data:
        raise ModelError(f"model file is empty: {path}; re-export it with export-onnx")
    return data


def _load_failure(path: Path, exc: Exception) -> str:
    """One line that says what is wrong with the file and what to do."""
    text = " ".join(str(exc).split())
    lowered = text.lower()
    if "opset" in lowered or "ir version" in lowered or "ir_version" in lowered:
        return (
            f"{path} needs a newer onnxruntime than the installed {ort.__version__} "
            f"({_tail(text)}); upgrade onnxruntime, or re-export with the default opset"
        )
    return f"{path} is not a valid ONNX model ({_tail(text)}); re-create it with export-onnx"


def _tail(text: str, limit: int = 160) -> str:
    # onnxruntime prefixes "[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : ..."; keep the message.
    message = text.split(" : ")[-1] if " : " in text else text
    return message if len(message) <= limit else message[: limit - 3] + "..."
