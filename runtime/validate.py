"""Turn user values into a float32 batch, or say exactly which value is wrong and why."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .errors import InvalidInputError
from .floats import ABSOLUTE_ZERO_F, DOMAIN_LOW, FLOAT32_OVERFLOW
from .messages import text

if TYPE_CHECKING:
    import numpy.typing as npt

    Values = float | int | Sequence[float] | npt.NDArray[np.generic]


def problem_with(value: float) -> str | None:
    """Why one float is not a valid °F input, or None if it is.

    The value is rounded to float32 first, as the model sees it: it overflows only when that
    rounding gives infinity (|value| >= 2**128 - 2**103), so 3.4028235e38 is float32's largest
    value, and -459.67 °F is valid because float32(-459.67) is the domain's low end.
    """
    if math.isnan(value):
        return text("reason.nan")
    if math.isinf(value):
        return text("reason.infinity")
    if abs(value) >= FLOAT32_OVERFLOW:
        return text("reason.overflow")
    if np.float32(value) < DOMAIN_LOW:
        return text("reason.below_absolute_zero", absolute_zero=ABSOLUTE_ZERO_F)
    return None


def invalid_mask(values: npt.NDArray[np.floating]) -> npt.NDArray[np.bool_]:
    """True where a float (any float dtype) is not a valid °F input; `problem_with` says why."""
    with np.errstate(over="ignore", invalid="ignore"):
        ok: npt.NDArray[np.bool_] = np.isfinite(values) & (np.abs(values) < FLOAT32_OVERFLOW)
        ok &= values.astype(np.float32) >= DOMAIN_LOW
    return ~ok


def first_invalid(values: npt.NDArray[np.floating]) -> int | None:
    """Index of the first invalid value in a float array (any float dtype), or None."""
    bad = invalid_mask(values)
    return int(np.argmax(bad)) if bad.any() else None


def as_batch(values: Values) -> tuple[npt.NDArray[np.float32], bool]:
    """Validate `values` and return (a contiguous 1-D float32 array, whether it was a scalar).

    Accepts a Python int/float, a numpy scalar, a sequence of numbers, or an array of any real
    dtype with shape (), (n,) or (n, 1). Raises InvalidInputError naming the first bad element.
    """
    if isinstance(values, (float, int)) and not isinstance(values, bool):
        # Fast path for the common single-value call: no array round trip for the checks.
        try:
            reason = problem_with(float(values))
        except OverflowError:  # an int beyond any float
            reason = text("reason.overflow")
        if reason is not None:
            message = text("api.value", value=repr(values), reason=reason)
            raise InvalidInputError(message, index=0, value=values)
        return np.array([values], dtype=np.float32), True
    if isinstance(values, (str, bytes)):
        raise InvalidInputError(
            text("api.text", value=repr(values), parse="float(text)"), value=values
        )
    if isinstance(values, (list, tuple)):
        # Check items before numpy coerces a mix like [1.0, "a"] into an array of strings.
        index = _first_non_number(values)
        if index is not None:
            raise InvalidInputError(
                text("api.not_real_at", value=repr(values[index]), index=index), index=index
            )
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"cannot read the values as numbers: {exc}") from None
    scalar = array.ndim == 0
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    elif array.ndim > 1:
        raise InvalidInputError(f"expected shape (n,) or (n, 1), got {array.shape}")
    array = array.reshape(-1)
    if array.dtype.kind == "O" and _first_non_number(array) is None:
        # All real numbers, yet numpy kept objects: ints beyond int64. Convert one by one.
        converted = []
        for i, item in enumerate(array.tolist()):
            try:
                converted.append(float(item))
            except OverflowError:
                raise InvalidInputError(
                    text("api.at", index=i, reason=text("reason.overflow")), index=i
                ) from None
        array = np.array(converted, dtype=np.float64)
    if array.dtype.kind not in "iuf":
        index = _first_non_number(array)
        shown = array[index] if index is not None else array.dtype
        raise InvalidInputError(
            f"expected real numbers, got {shown!r} (dtype {array.dtype})"
            + (f" at index {index}" if index is not None else ""),
            index=index,
        )
    as_float = array.astype(np.float64) if array.dtype.kind in "iu" else array
    bad = first_invalid(as_float)
    if bad is not None:
        value = as_float[bad].item()
        reason = problem_with(value)
        raise InvalidInputError(
            text("api.value_at", value=repr(value), index=bad, reason=reason),
            index=bad,
            value=value,
        )
    return np.ascontiguousarray(array, dtype=np.float32), scalar


def _first_non_number(items: Sequence[object] | npt.NDArray[np.generic]) -> int | None:
    seq = items.tolist() if isinstance(items, np.ndarray) else items
    for i, item in enumerate(seq):
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Real):
            if isinstance(item, (list, tuple)) and len(item) == 1:
                continue  # a (n, 1) nested list: numpy checks its items
            return i
    return None
