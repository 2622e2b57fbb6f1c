"""Refinement: place the threshold between the last negative and the first positive float32.

Gradient training pins the boundary to within the spacing of its samples (hundredths of a
degree). For a label that is exact for every float32 input we ask the labeller about float32
points near the learned boundary: a 1-D active-learning step, bisecting over the ordered bit
patterns, ~30 queries. The labeller is a black box here; its constants are never read.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from fclf_edge.runtime.errors import FclfError
from fclf_edge.runtime.floats import from_ordinal, to_ordinal

Labeller = Callable[[npt.ArrayLike], npt.NDArray[np.int64]]


def refine_threshold(labeller: Labeller, start: float, low: float, high: float) -> float:
    """Return the largest float32 t in [low, high) with label(t) == 0 and label(next_up(t)) == 1.

    Assumes the labels are monotone (0 below the boundary, 1 above), which a threshold rule is.
    Raises FclfError when [low, high] holds no such boundary.
    """

    def label_at(ordinal: int) -> int:
        return int(labeller(from_ordinal([ordinal]))[0])

    lo_end, hi_end = (int(v) for v in to_ordinal([low, high]))
    if label_at(lo_end) != 0 or label_at(hi_end) != 1:
        raise FclfError(
            f"no boundary to refine in [{low}, {high}]: the labeller gives "
            f"{label_at(lo_end)} at the low end and {label_at(hi_end)} at the high end"
        )
    start = min(max(start, float(np.float32(low))), float(np.float32(high)))
    centre = int(to_ordinal([start])[0])
    # Grow a bracket around the learned boundary, doubling the step, until the labels differ.
    step = 1
    lo, hi = centre, centre
    while label_at(lo) != 0:
        lo = max(lo_end, lo - step)
        step *= 2
    step = 1
    while label_at(hi) != 1:
        hi = min(hi_end, hi + step)
        step *= 2
    # Invariant: label(lo) == 0, label(hi) == 1. Bisect over ordinals (i.e. float32 neighbours).
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if label_at(mid) == 0:
            lo = mid
        else:
            hi = mid
    return float(from_ordinal([lo])[0])
