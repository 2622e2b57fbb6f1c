"""The parity gate: PyTorch and onnxruntime must agree before an export is written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import torch

from fclf_edge.runtime.floats import DOMAIN_HIGH, DOMAIN_LOW, from_ordinal, to_ordinal
from fclf_edge.runtime.metadata import INPUT_NAME, LABEL_OUTPUT, PROBABILITY_OUTPUT

# Largest tolerated |p_torch − p_onnxruntime|. Both compute one float32 sigmoid of the same
# float32 logit; different sigmoid kernels differ by a few ulps (~1e-7) at most.
ATOL_FOR_VALIDATION = 1e-6
# Float32 neighbours checked on each side of the threshold.
BOUNDARY_NEIGHBOURS = 100_000
# Evenly spaced float32 points over the physical range.
GRID_POINTS = 1_000_000
_EXTREMES = 8
_INTEGERS = 10_460  # -459..10000
# How many inputs the gate compares (the length of parity_inputs(), whatever the threshold).
PARITY_INPUTS = GRID_POINTS + 2 * BOUNDARY_NEIGHBOURS + 1 + _EXTREMES + _INTEGERS
# Inputs per run in the gate: bounded memory, and steps for a progress bar.
PARITY_CHUNK = 131_072


@dataclass
class ParityReport:
    """What the gate compared and what it found."""

    inputs: int
    label_mismatches: int
    max_abs_diff: float
    atol: float
    failures: list[str] = field(default_factory=list)
    worst: list[tuple[float, float, float, int, int]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def describe(self) -> str:
        lines = [
            f"parity: {self.inputs:,} inputs, {self.label_mismatches} label mismatches, "
            f"max |p_torch - p_onnx| = {self.max_abs_diff:.3g} (ATOL {self.atol:g})"
        ]
        lines += [f"  {f}" for f in self.failures]
        if self.worst and self.failures:
            lines.append("  worst cases (fahrenheit, p_torch, p_onnx, label_torch, label_onnx):")
            lines += [f"    {w[0]!r}, {w[1]!r}, {w[2]!r}, {w[3]}, {w[4]}" for w in self.worst]
        return "\n".join(lines)


def parity_inputs(threshold: float) -> npt.NDArray[np.float32]:
    """≥ 1.1M float32 inputs: the grid, the boundary's neighbours, the extremes, the integers."""
    grid = np.linspace(float(DOMAIN_LOW), 1000.0, GRID_POINTS, dtype=np.float64).astype(np.float32)
    centre = int(to_ordinal([threshold])[0])
    neighbours = from_ordinal(
        np.arange(centre - BOUNDARY_NEIGHBOURS, centre + BOUNDARY_NEIGHBOURS + 1)
    )
    extremes = np.array(
        [
            DOMAIN_LOW,
            np.nextafter(DOMAIN_LOW, np.float32(0)),
            -0.0,
            0.0,
            DOMAIN_HIGH,
            np.nextafter(DOMAIN_HIGH, np.float32(0)),
            1e30,
            np.finfo(np.float32).max,
        ],
        dtype=np.float32,
    )
    integers = np.arange(-459, 10_001, dtype=np.float32)
    inputs = np.concatenate([grid, neighbours, extremes, integers])
    assert len(extremes) == _EXTREMES and len(integers) == _INTEGERS
    return inputs


def check_parity(
    torch_model: torch.nn.Module,
    run_onnx: Callable[[npt.NDArray[np.float32]], dict[str, np.ndarray]],
    inputs: npt.NDArray[np.float32],
    atol: float = ATOL_FOR_VALIDATION,
    progress: Callable[[int], None] | None = None,
) -> ParityReport:
    """Compare output names, dtypes, shapes, labels (exactly) and probabilities (within atol).

    `progress` is called with the number of inputs done after each chunk.
    """
    torch_parts: list[tuple[np.ndarray, np.ndarray]] = []
    onnx_parts: list[dict[str, np.ndarray]] = []
    for start in range(0, len(inputs), PARITY_CHUNK):
        chunk = inputs[start : start + PARITY_CHUNK]
        with torch.no_grad():
            p, label = torch_model(torch.from_numpy(chunk))
        torch_parts.append((p.numpy(), label.numpy()))
        onnx_parts.append(run_onnx(chunk))
        if progress is not None:
            progress(len(chunk))
    p_ref = np.concatenate([part[0] for part in torch_parts])
    l_ref = np.concatenate([part[1] for part in torch_parts])
    outputs = {name: np.concatenate([part[name] for part in onnx_parts]) for name in onnx_parts[0]}
    failures: list[str] = []
    expected_names = {PROBABILITY_OUTPUT, LABEL_OUTPUT}
    if set(outputs) != expected_names:
        failures.append(f"output names {sorted(outputs)} != {sorted(expected_names)}")
        return ParityReport(len(inputs), -1, float("nan"), atol, failures)
    p_onnx, l_onnx = outputs[PROBABILITY_OUTPUT], outputs[LABEL_OUTPUT]
    for name, got, want in ((PROBABILITY_OUTPUT, p_onnx, p_ref), (LABEL_OUTPUT, l_onnx, l_ref)):
        if got.shape != want.shape:
            failures.append(f"{name}: shape {got.shape} != PyTorch {want.shape}")
        if got.dtype != want.dtype:
            failures.append(f"{name}: dtype {got.dtype} != PyTorch {want.dtype}")
    if failures:
        return ParityReport(len(inputs), -1, float("nan"), atol, failures)
    label_diff = l_onnx != l_ref
    mismatches = int(np.count_nonzero(label_diff))
    abs_diff = np.abs(p_onnx.astype(np.float64) - p_ref.astype(np.float64))
    max_diff = float(abs_diff.max()) if len(abs_diff) else 0.0
    if mismatches:
        failures.append(f"{mismatches} label mismatches")
    if not max_diff <= atol:
        failures.append(f"probability differs by up to {max_diff:.3g} > ATOL {atol:g}")
    # Worst cases first: label mismatches, then the largest probability differences.
    order = np.lexsort((-abs_diff, ~label_diff))[:5]
    worst = [
        (float(inputs[i]), float(p_ref[i]), float(p_onnx[i]), int(l_ref[i]), int(l_onnx[i]))
        for i in order
    ]
    return ParityReport(len(inputs), mismatches, max_diff, atol, failures, worst)


def onnxruntime_runner(
    model_bytes: bytes,
) -> Callable[[npt.NDArray[np.float32]], dict[str, np.ndarray]]:
    """Run serialised ONNX bytes in onnxruntime (imported here: export uses it only to validate)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]

    def run(x: npt.NDArray[np.float32]) -> dict[str, np.ndarray]:
        return dict(zip(names, session.run(None, {INPUT_NAME: x}), strict=True))

    return run
