"""The formula the kit learns: Celsius from Fahrenheit, and the label "above freezing".

This is the labeller. Training only ever calls it on sample points; it never reads its
constants, which is why a model trained on another rule (see `threshold_rule`) learns that one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    LabelArray = npt.NDArray[np.int64]


def celsius(fahrenheit: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """C = (F − 32) / 1.8, computed in float64."""
    return (np.asarray(fahrenheit, dtype=np.float64) - 32.0) / 1.8


@dataclass(frozen=True)
class Rule:
    """A labelling rule: a score in float64 and the label `score > 0` (1 = positive)."""

    name: str
    score: Callable[[npt.ArrayLike], npt.NDArray[np.float64]]

    def label(self, fahrenheit: npt.ArrayLike) -> LabelArray:
        """1 where the score is positive, else 0 (int64, like the model's `label` output)."""
        return (self.score(fahrenheit) > 0).astype(np.int64)


CELSIUS_RULE = Rule(name="celsius > 0", score=celsius)


def threshold_rule(threshold_f: float) -> Rule:
    """The rule `F > threshold_f` (score F − threshold_f), for models of other boundaries."""
    t = float(threshold_f)

    def score(fahrenheit: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return np.asarray(fahrenheit, dtype=np.float64) - t

    return Rule(name=f"fahrenheit > {t:g}", score=score)


def above_freezing(fahrenheit: npt.ArrayLike) -> LabelArray:
    """The formula's label: 1 when the Celsius value is positive (so 33 → 1, 32 → 0)."""
    return CELSIUS_RULE.label(fahrenheit)
