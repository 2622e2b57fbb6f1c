"""Training configuration: one dataclass, every default explained; CLI options map onto it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import PurePath
from typing import Any, Literal

from fclf_edge.runtime.errors import InvalidInputError
from fclf_edge.runtime.floats import ABSOLUTE_ZERO_F

# "seed" is the old spelling of "question" (it read like a random seed); both are accepted.
DataKind = Literal["range", "question", "seed", "file"]
Objective = Literal["logistic", "celsius"]
DeviceChoice = Literal["auto", "cpu", "cuda"]
OnInvalid = Literal["error", "skip"]


@dataclass(frozen=True)
class TrainConfig:
    # "range": real-valued samples over the physical range; "question": the question's integers
    # -100..99, kept for comparison with the original pipeline; "file": labelled readings from
    # `data_file` (set automatically when `data_file` is given).
    data: DataKind = "range"
    # 2**18 uniform samples over [low, high] are ~0.006 °F apart: the fit lands within a few
    # hundredths of a degree in 16 Newton steps; the refinement step then makes it exact.
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
    # Newton step cap. Two parameters converge in 7-16 steps; the cap only stops a runaway fit.
    max_steps: int = 200
    # Bisect between the last negative and first positive float32, asking the labeller, so the
    # decision is exact for every float32 input rather than within the fit's ~0.01 °F. A data
    # file has no labeller to ask, so it is never refined.
    refine: bool = True
    # Seeds the sampling of the training set and the --holdout split (the fit is deterministic).
    seed: int = 0
    # "auto" takes CUDA when present and says so; "cuda" without CUDA is an error, never a fallback.
    device: DeviceChoice = "auto"
    # Label with `F > rule_threshold` instead of the Celsius formula; shows the boundary is learned.
    rule_threshold: float | None = None
    # A CSV of observed readings and labels (header row). Only its file name is recorded in the
    # checkpoint (see `to_dict`): a path says where a file was, not what it held.
    data_file: str | None = None
    # The temperature column of the data file, by header NAME or 0-based INDEX.
    input_column: str = "fahrenheit"
    # The label column (0 or 1; 1 = above the boundary), by header NAME or 0-based INDEX.
    label_column: str = "label"
    # Fraction of the file's rows held out of the fit (seeded) to measure accuracy on unseen rows.
    # 0 by default: small files need every row, and training accuracy is always reported.
    holdout: float = 0.0
    # As `fclf-edge predict --on-invalid`: "error" stops at the first bad row (exit 2), "skip"
    # leaves bad rows out and counts them.
    on_invalid: OnInvalid = "error"
    # As `fclf-edge predict --delimiter`: None detects it among , ; TAB | from the header row.
    delimiter: str | None = None
    # As `fclf-edge predict --decimal-comma`: European exports write 32,5 for 32.5.
    decimal_comma: bool = False
    # As `fclf-edge predict --encoding`: None reads UTF-8 (or UTF-16 by its byte-order mark);
    # loggers and spreadsheets on Windows often write cp1252.
    encoding: str | None = None

    def __post_init__(self) -> None:
        if self.data == "seed":
            object.__setattr__(self, "data", "question")  # frozen: normalise the old spelling
        if self.data_file is not None and self.data == "range":
            object.__setattr__(self, "data", "file")  # a data file is the data
        if self.data == "file":
            object.__setattr__(self, "refine", False)  # no labeller to ask: say so in the record
            if self.data_file is None:
                raise InvalidInputError("--data file needs --data-file PATH")
            if self.rule_threshold is not None:
                raise InvalidInputError(
                    "--rule-threshold labels generated samples; a data file brings its own labels"
                )
            if self.objective != "logistic":
                raise InvalidInputError(
                    "--objective celsius needs the formula's Celsius values; a data file has "
                    "only labels (use --objective logistic)"
                )
        elif self.data_file is not None:
            raise InvalidInputError(f"--data-file conflicts with --data {self.data}")
        if not 0.0 <= self.holdout < 1.0:
            raise InvalidInputError(f"--holdout must be in [0, 1), got {self.holdout}")
        if self.holdout > 0.0 and self.data != "file":
            raise InvalidInputError(
                "--holdout needs --data-file: generated samples are labelled by the formula, "
                "and accuracy on them is measured on the integers and a 1M-point grid"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the checkpoint and the ONNX metadata (the data file by name only)."""
        data = asdict(self)
        if self.data_file is not None:
            data["data_file"] = PurePath(self.data_file).name
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Rebuild from `to_dict` output, ignoring unknown keys from other versions."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
