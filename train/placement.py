"""Where the threshold goes when the labels come from a file and no labeller can be asked.

The model labels `F > threshold` as 1. Between two consecutive distinct readings every threshold
gets the same training rows wrong, so the labels can only choose an interval, never a point:
- separable labels: one interval gets no row wrong, the gap between the largest reading labelled
  0 and the smallest labelled 1, and the boundary lies somewhere in it;
- noisy labels: the intervals that get the fewest rows wrong. Counting errors directly is what
  keeps the boundary in place under label noise: a logistic fit is pulled by every flipped label
  in proportion to its distance from the boundary (with 3 % of labels flipped uniformly over
  [-459.67, 1000] °F it lands near 45.6 °F), while a flipped label far away costs one error
  wherever the threshold is.
In the chosen interval the threshold goes to the middle: the maximum-margin choice, as far from
the readings on both sides as the data allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from fclf_edge.runtime.floats import FLOAT32_MAX, next_up


@dataclass
class LabelCounts:
    """The training rows grouped by distinct reading: how many carry label 1 and label 0."""

    values: npt.NDArray[np.float32]  # distinct readings, ascending
    ones: npt.NDArray[np.int64]
    zeros: npt.NDArray[np.int64]

    @property
    def rows(self) -> int:
        return int(self.ones.sum() + self.zeros.sum())


@dataclass
class Interval:
    """Thresholds in [low, high) all get `errors` training rows wrong; `threshold` is chosen."""

    low: float  # a reading (or -inf): label(low) is 0
    high: float  # the next distinct reading (or +inf): label(high) is 1
    errors: int
    threshold: float


def count_labels(x: npt.NDArray[np.float32], labels: npt.NDArray[np.integer[Any]]) -> LabelCounts:
    """Group rows by distinct reading; -0.0 and 0.0 are one reading, as in the model."""
    # Two plain sorts (one per label) rather than one argsort: numpy sorts float32 in SIMD.
    is_1 = labels == 1
    v1, c1 = np.unique(x[is_1], return_counts=True)
    v0, c0 = np.unique(x[~is_1], return_counts=True)
    values = np.union1d(v1, v0)
    ones = np.zeros(len(values), dtype=np.int64)
    zeros = np.zeros(len(values), dtype=np.int64)
    ones[np.searchsorted(values, v1)] = c1
    zeros[np.searchsorted(values, v0)] = c0
    return LabelCounts(values, ones, zeros)


def fewest_errors(counts: LabelCounts, prefer: float) -> Interval:
    """The interval of thresholds that gets the fewest training rows wrong, and its middle.

    Ties between intervals (noisy labels near the boundary) go to the one nearest `prefer`
    (the logistic fit's boundary), so the choice is deterministic and agrees with the fit.
    """
    v = counts.values.astype(np.float64)
    # errors[k]: threshold between v[k-1] and v[k] (k = 0: below every reading; k = m: above):
    # the 1s at or below it plus the 0s above it.
    ones_below = np.concatenate([[0], np.cumsum(counts.ones)])
    zeros_above = int(counts.zeros.sum()) - np.concatenate([[0], np.cumsum(counts.zeros)])
    errors = ones_below + zeros_above
    best = np.flatnonzero(errors == errors.min())
    lows = np.concatenate([[-np.inf], v])[best]
    highs = np.concatenate([v, [np.inf]])[best]
    k = int(np.argmin(np.abs(np.clip(prefer, lows, highs) - prefer)))  # 0 inside an interval
    low, high = float(lows[k]), float(highs[k])
    if np.isinf(low):  # every reading is best labelled 1: keep the fit's boundary below them
        threshold = min(max(prefer, -FLOAT32_MAX), float(next_up(high, -1)))
    elif np.isinf(high):  # every reading is best labelled 0
        threshold = max(min(prefer, FLOAT32_MAX), low)
    else:
        threshold = middle_of_gap(low, high)
    return Interval(low, high, int(errors[best[k]]), threshold)


def middle_of_gap(low: float, high: float) -> float:
    """The float32 t nearest (low + high) / 2 with low ≤ t < high, so `F > t` splits them."""
    t = float(np.float32((low + high) / 2))
    if t >= high:  # a gap of one or two float32 steps: the middle rounds onto its top
        t = float(next_up(high, -1))
    return max(t, low)


def shown(value: float) -> str:
    """A float32 reading or threshold as its shortest text (33.1, not 33.099998474121094)."""
    return str(np.float32(value))
