"""The number grammar: which text is a Fahrenheit value, its value, and why text is refused.

Accepted: optional sign, decimal digits with an optional point, optional exponent (`33`,
`-40.5`, `+1e2`, `.5`), with surrounding spaces or tabs ignored and one CR at the very end
(a CR LF line ending); with `decimal_comma`, a comma is the decimal mark instead (`32,5`) and
a point is refused. Everything else is invalid: words (`nan`, `inf`, `abc`), hex, underscores,
thousands separators, empty values. The table tests/data/number-grammar.json holds the cases
that every parser (this one, the Node package and the page) is tested against.

A parsed value is then range-checked (`check_range`, the rules of `validate.problem_with`).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..messages import text
from ..validate import invalid_mask, problem_with
from .types import Chunk

if TYPE_CHECKING:
    import numpy.typing as npt

NUMBER_SYNTAX = rb"[ \t]*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[ \t]*\r?"
# A number written with thousands separators: 1,234 or 1.234.567 (either mark).
_GROUPED = re.compile(rb"[ \t]*[+-]?\d{1,3}(?:([,.])\d{3})+(?:(?!\1)[,.]\d*)?[ \t]*\r?")


@functools.cache
def _number() -> re.Pattern[bytes]:
    """The compiled NUMBER_SYNTAX, built on first use (the fast paths never need it)."""
    return re.compile(NUMBER_SYNTAX)


# Bytes that can appear in a valid value. A chunk made only of these may take float() at once:
# there, float() accepts exactly the NUMBER syntax (no letters means no nan/inf/hex; no '_').
_ALLOWED = b"0123456789+-.eE \t\r\n"
_ALLOWED_DECIMAL_COMMA = b"0123456789+-,eE \t\r\n"


def describe(token: bytes | str) -> str:
    """A short quoted form of a bad value for messages."""
    text = token.decode("utf-8", "replace") if isinstance(token, bytes) else token
    text = text.strip("\r")
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _as_bytes(token: bytes | str) -> bytes:
    return token if isinstance(token, bytes) else token.encode("utf-8", "surrogateescape")


def parse_number(token: bytes, decimal_comma: bool = False) -> float | None:
    """The value of one token in the accepted syntax, or None (not range-checked)."""
    if decimal_comma:
        if b"." in token:
            return None
        token = token.replace(b",", b".")
    return float(token) if _number().fullmatch(token) else None


def refusal(token: bytes, empty: str, decimal_comma: bool) -> str:
    """Why a token that is not in the accepted syntax was refused (catalogue messages)."""
    if not token.strip(b" \t\r"):
        return text(empty) if empty.startswith("reason.") else empty  # type: ignore[arg-type]
    try:
        token.decode("utf-8")
    except UnicodeDecodeError:
        return text("reason.not_utf8")
    shown = describe(token)
    grouped = _GROUPED.fullmatch(token)
    if grouped is not None:
        # 1,234 is 1.234 with a decimal comma and 1234 with a thousands separator: the kit
        # cannot know which the writer meant, so the message names both readings.
        mark = grouped.group(1).decode()
        plain = token.strip(b" \t\r").decode()
        whole = plain.replace(mark, "").replace(",", ".")
        if plain.count(mark) == 1 and ("," if mark == "." else ".") not in plain:
            return text(
                "reason.grouped_ambiguous",
                value=shown,
                decimal=plain.replace(",", "."),
                mark="comma" if mark == "," else "point",
                flag="--decimal-comma" if mark == "," else "no --decimal-comma",
                whole=whole,
            )
        return text("reason.grouped", value=shown, whole=whole)
    if decimal_comma and parse_number(token) is not None:
        return text("reason.decimal_point_refused", value=shown)
    if not decimal_comma and parse_number(token, decimal_comma=True) is not None:
        return text("reason.decimal_comma_hint", value=shown)
    return text("reason.not_a_number", value=shown)


def parse_tokens(
    tokens: Sequence[bytes] | Sequence[str],
    first_line: int,
    *,
    lines: Sequence[int] | None = None,
    known: dict[int, str] | None = None,
    decimal_comma: bool = False,
    empty: str = "reason.empty_line",
    text: bytes | None = None,
) -> Chunk:
    """Parse one chunk of tokens (bytes or str), value by value, naming each problem.

    Line numbers run from `first_line` unless `lines` gives each row's; `known` marks rows
    already known to be invalid (position -> reason); `empty` is the reason for a blank token
    (a message catalogue key such as "reason.empty_value", or the message itself).
    `text`, when given, is the tokens joined by newlines (saves joining them again).
    """
    n = len(tokens)
    numbers = (
        np.arange(first_line, first_line + n, dtype=np.int64)
        if lines is None
        else np.array(lines, dtype=np.int64)
    )
    values = None if known else _all_at_once(tokens, decimal_comma, text)
    invalid: dict[int, str] = {}
    if values is None:
        values = np.empty(n, dtype=np.float64)
        items: Sequence[bytes | str] = tokens
        for i, token in enumerate(items):
            if known and i in known:
                values[i] = np.nan
                invalid[i] = known[i]
                continue
            raw = _as_bytes(token)
            value = parse_number(raw, decimal_comma)
            if value is None:
                values[i] = np.nan
                invalid[i] = refusal(raw, empty, decimal_comma)
            else:
                values[i] = value
    check_range(values, invalid, lambda i: describe(tokens[i]))
    return Chunk(numbers, values, invalid)


def _all_at_once(
    tokens: Sequence[bytes] | Sequence[str], decimal_comma: bool, text: bytes | None
) -> npt.NDArray[np.float64] | None:
    """Every token's value from float() in one pass, when that provably follows the grammar;
    None when some token needs the value-by-value path (then nothing is decided here)."""
    n = len(tokens)
    if not n:
        return None
    if text is not None:
        joined = text
    elif isinstance(tokens[0], str):
        joined = "\n".join(tokens).encode("utf-8", "surrogateescape")  # type: ignore[arg-type]
    else:
        joined = b"\n".join(tokens)  # type: ignore[arg-type]
    allowed = _ALLOWED_DECIMAL_COMMA if decimal_comma else _ALLOWED
    # Tokens we joined hold no LF of their own; a block's text may end in one (its last line's).
    if joined.translate(None, allowed) or not _line_ends_only(joined, n, text is not None):
        return None
    plain: Sequence[bytes | str] = tokens
    if decimal_comma:
        plain = [_as_bytes(t).replace(b",", b".") for t in tokens]
    try:
        return np.array(list(map(float, plain)), dtype=np.float64)
    except ValueError:
        return None  # some value is malformed or empty: the slow path names it


def _line_ends_only(joined: bytes, n: int, final_newline: bool) -> bool:
    """Whether `n` tokens joined by LF (and ending in one, if `final_newline` allows it) hold
    no LF of their own and a CR only at their end.

    float() strips CR and LF anywhere around a number; the accepted syntax allows one CR,
    last (a CR LF line ending). Without this check "\\r33" or "33\\n" would parse here.
    """
    newlines = joined.count(b"\n")
    ends = final_newline and newlines == n and joined.endswith(b"\n")
    if newlines != n - 1 and not ends:
        return False
    crs = joined.count(b"\r")
    return not crs or crs == joined.count(b"\r\n") + joined.endswith(b"\r")


def check_range(
    values: npt.NDArray[np.float64],
    invalid: dict[int, str],
    shown: Callable[[int], str],
    *,
    text_values: bool = True,
) -> None:
    """Add to `invalid` each value that parsed but is no temperature (too big, too cold...).

    `shown(i)` gives the text of value i for the message. The grammar has no words for NaN or
    infinity, so an infinity parsed from text (`text_values`) is a number too big for float64
    (`1e999`): it overflows. (JSON Lines values are not text: JSON has `Infinity`.)
    """
    mask = invalid_mask(values)  # NaN placeholders of unparsable values are in it, already named
    if mask.any():
        for i in np.flatnonzero(mask).tolist():
            if i not in invalid:
                value = float(values[i])
                overflow = text_values and math.isinf(value)
                reason = text("reason.overflow") if overflow else problem_with(value)
                invalid[i] = text("reason.shown", value=shown(i), reason=reason)


def span_chunks(
    body: bytes,
    first: int,
    values: npt.NDArray[np.float64],
    starts: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
    chunk_lines: int,
) -> Iterator[tuple[int, Chunk]]:
    """Chunks of values a fast path read from `body` (value i spans starts[i]:ends[i]), one
    row per line from line `first`: only the range checks are left. Yields (offset, chunk)."""
    for start in range(0, len(values), chunk_lines):
        part = values[start : start + chunk_lines]
        line = first + start
        chunk = Chunk(np.arange(line, line + len(part), dtype=np.int64), part, {})

        def shown(i: int, start: int = start) -> str:
            return describe(body[starts[start + i] : ends[start + i]])

        check_range(part, chunk.invalid, shown)
        yield start, chunk
