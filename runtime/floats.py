"""Float32 helpers: the domain, and walking float32 values in order through their bit patterns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

# The physical domain: absolute zero upward. The lower end is float32(-459.67), the float32
# nearest to absolute zero (-459.670013...), so the domain is exactly what a float32 input can
# hold; 10,000 °F is the top of the verified range (hotter than any kitchen or furnace input).
ABSOLUTE_ZERO_F = -459.67
DOMAIN_LOW = np.float32(ABSOLUTE_ZERO_F)
DOMAIN_HIGH = np.float32(10_000.0)
FLOAT32_MAX = float(np.finfo(np.float32).max)  # 3.4028234663852886e38 = 2**128 - 2**104
# The smallest magnitude that rounds to infinity as float32 (round half to even: halfway between
# FLOAT32_MAX and 2**128 goes up, FLOAT32_MAX's last bit being odd). Anything smaller rounds to a
# finite float32, as numpy and Math.fround round it: 3.4028235e38 is FLOAT32_MAX, not overflow.
FLOAT32_OVERFLOW = 2.0**128 - 2.0**103  # 3.4028235677973366e38, exact in float64

_SIGN = np.int64(0x7FFFFFFF)
_NEG = 0x80000000


def to_ordinal(values: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Map float32 values to integers that sort as the floats do (-0.0 and +0.0 both map to 0)."""
    bits = np.asarray(values, dtype=np.float32).view(np.int32).astype(np.int64)
    return np.where(bits < 0, -(bits & _SIGN), bits)


def from_ordinal(ordinals: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Inverse of `to_ordinal` (ordinal 0 gives +0.0)."""
    o = np.asarray(ordinals, dtype=np.int64)
    bits = np.where(o < 0, (-o) | np.int64(0x80000000), o).astype(np.uint32)
    return bits.view(np.float32)


def count_floats(low: float, high: float) -> int:
    """How many distinct float32 values lie in [low, high], counting -0.0 and +0.0 separately."""
    lo, hi = (int(v) for v in to_ordinal([low, high]))
    if hi < lo:
        return 0
    return hi - lo + 1 + (1 if lo <= 0 <= hi else 0)


def float_range(low: float, high: float, chunk: int) -> Iterator[npt.NDArray[np.float32]]:
    """Yield every float32 in [low, high] in increasing order, at most `chunk` values at a time.

    Values come straight from bit patterns (one arange each), so generating them costs less
    than classifying them. Both zeros are yielded (-0.0 right before +0.0), so the count
    matches `count_floats`.
    """
    lo, hi = (int(v) for v in to_ordinal([low, high]))
    if hi < lo:
        return
    if lo <= 0:
        # Negative floats and -0.0: bit patterns 0x80000000 | -ordinal, walked downwards.
        first, last = _NEG | -lo, _NEG | max(-hi, 0)
        for top in range(first, last - 1, -chunk):
            bottom = max(top - chunk, last - 1)
            yield np.arange(top, bottom, -1, dtype=np.uint32).view(np.float32)
    if hi >= 0:
        # +0.0 and positive floats: bit patterns equal the ordinals, walked upwards.
        for start in range(max(lo, 0), hi + 1, chunk):
            stop = min(start + chunk, hi + 1)
            yield np.arange(start, stop, dtype=np.uint32).view(np.float32)


def next_up(value: float, steps: int = 1) -> np.float32:
    """The float32 `steps` positions above `value` (negative steps go down)."""
    return np.float32(from_ordinal(to_ordinal([value])[0] + steps)[()])
