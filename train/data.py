"""Training sets: samples over the physical range, the question's integers, or a data file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from fclf_edge.runtime.errors import InvalidInputError

from .config import TrainConfig


@dataclass
class TrainingData:
    """Inputs in °F (float32) and their 0/1 labels; held-out rows and the file record if any."""

    x: npt.NDArray[np.float32]
    labels: npt.NDArray[np.integer[Any]]
    holdout_x: npt.NDArray[np.float32] | None = None
    holdout_labels: npt.NDArray[np.integer[Any]] | None = None
    # What `read_labelled_csv` read (name, sha256, rows, columns), for a data file.
    file: dict[str, Any] = field(default_factory=dict)


def make_inputs(config: TrainConfig) -> npt.NDArray[np.float32]:
    """The training inputs in °F, as float32 (the precision the deployed model sees)."""
    if config.data == "question":
        # The question's set: every integer from -100 to 99.
        return np.arange(-100, 100, dtype=np.float32)
    if not config.low < config.high:
        raise InvalidInputError(f"training range is empty: low {config.low} >= high {config.high}")
    if config.samples < 2:
        raise InvalidInputError(f"--samples must be at least 2, got {config.samples}")
    rng = np.random.default_rng(config.seed)
    x = rng.uniform(config.low, config.high, size=config.samples).astype(np.float32)
    # Keep the ends of the range in the set: the fit should see the extremes it will be asked about.
    x[:2] = np.float32(config.low), np.float32(config.high)
    return x


def split_holdout(
    x: npt.NDArray[np.float32], labels: npt.NDArray[np.integer[Any]], fraction: float, seed: int
) -> TrainingData:
    """Hold out round(fraction · n) rows chosen by `seed`; both parts keep the file's order."""
    if fraction <= 0.0:
        return TrainingData(x, labels)
    n = len(x)
    held = int(round(fraction * n))
    if held < 1 or n - held < 2:
        raise InvalidInputError(
            f"--holdout {fraction:g} of {n} rows leaves {held} held out and {n - held} to train "
            "on: each side needs rows (train on at least 2)"
        )
    mask = np.zeros(n, dtype=bool)
    mask[np.random.default_rng(seed).permutation(n)[:held]] = True
    return TrainingData(x[~mask], labels[~mask], x[mask], labels[mask])


def integer_grid(low: int = -459, high: int = 10_000) -> npt.NDArray[np.float32]:
    """Every integer °F in [low, high]: evaluation set (b)."""
    return np.arange(low, high + 1, dtype=np.float32)


def uniform_grid(
    low: float = -459.67, high: float = 1000.0, n: int = 1_000_000
) -> npt.NDArray[np.float32]:
    """`n` evenly spaced float32 points over [low, high]: evaluation set (c)."""
    return np.linspace(low, high, n, dtype=np.float64).astype(np.float32)
