"""Training configuration: one dataclass, every default explained; CLI options map onto it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from fclf_edge.runtime.floats import ABSOLUTE_ZERO_F

DataKind = Literal["range", "seed"]
Objective = Literal["logistic", "celsius"]
DeviceChoice = Literal["auto", "cpu", "cuda"]


@dataclass(frozen=True)
class TrainConfig:
    # "range": real-valued samples over the physical range; "seed": the question's integers
    # -100..99, kept for comparison with the original pipeline.
    data: DataKind = "range"
    # 2**18 uniform samples over [low, high] are ~0.006 °F apart: the fit lands within a few
    # hundredths of a degree in ~30 L-BFGS steps; the refinement step then makes it exact.
    samples: int = 262_144
    # Absolute zero: nothing colder exists, so no input below it is valid.
    low: float = ABSOLUTE_ZERO_F
    # Ovens, not furnaces. The model is verified up to 10,000 °F; the linear form extrapolates.
    high: float = 1000.0
    # "logistic": BCE-with-logits on the labels (a classifier). "celsius": least squares of the
    # logit on the rule's score, which recovers the weights the question expected (5/9, -160/9).
    objective: Objective = "logistic"
    # Ridge penalty on the standardised slope. Separable data has no finite maximum-likelihood
    # optimum (the loss keeps falling as the slope grows); the penalty makes the optimum finite.
    # 1e-7 gives about 0.4 logit per °F: p(33 °F) ≈ 0.6, p(40 °F) ≈ 0.96.
    l2: float = 1e-7
    # L-BFGS iteration cap. The problem has two parameters and converges in ~30 steps.
    max_steps: int = 200
    # Bisect between the last negative and first positive float32, asking the labeller, so the
    # decision is exact for every float32 input rather than within the fit's ~0.01 °F.
    refine: bool = True
    # Seeds the sampling of the training set (the optimiser itself is deterministic).
    seed: int = 0
    # "auto" takes CUDA when present and says so; "cuda" without CUDA is an error, never a fallback.
    device: DeviceChoice = "auto"
    # Label with `F > rule_threshold` instead of the Celsius formula; shows the boundary is learned.
    rule_threshold: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the checkpoint and the ONNX metadata."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Rebuild from `to_dict` output, ignoring unknown keys from other versions."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
