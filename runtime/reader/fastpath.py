"""Parse a whole block of short plain numbers with a few numpy passes, or decline.

The per-value readers call `float()` once per row: about 200 ns each, most of the time spent
reading a file. Here a block's values are parsed together: each value is split at its decimal
mark into an integer word and a fraction word of up to 8 ASCII digits, both loaded as 64-bit
integers straight from the bytes and converted eight digits at a time with three multiply-add
steps ("SWAR": the trick simdjson uses for its 8-digit runs).

It accepts only `[+-]?(digits[.digits]|.digits)`: no spaces, exponents or anything else, at
most 8 digits before and 8 after the mark, magnitude at most 2**53 / 10**8 (90,071,992.547...).
That is a strict subset of what the per-value path accepts, with the same value: the digits
form an integer M <= 2**53, exact in a float64, and the value is M / 10**8, one correctly
rounded division of exact operands (Clinger's fast path), so it is the float `float()` gives.
Any span outside that subset makes the whole block decline (None), and the caller parses it
value by value, with its messages.

Why not numpy's own parser (bench/read_files.py, 10M lines / 2M rows, whole processes, one run
on this project's 2-core machine under a load of 2.4): numpy.loadtxt alone reads plain lines at
5.18 M lines/s (its parse call 5.75 M/s) and a CSV column at 3.45 M rows/s; fclf-edge with this
path reads, validates and labels them at 10.5 M and 4.4 M/s. Plain lines through loadtxt would
leave ~4 M/s for the whole command after onnxruntime and the output, at the 4 M/s goal with no
margin. And loadtxt's grammar is wider than the kit's (it reads `nan`, `inf` and more kinds of
white space), so a loadtxt path would need the same guards as this one to stay the grammar's
subset, for no gain in code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    Positions = npt.NDArray[np.int64]

_PAD = 16  # bytes around the data, so every 8-byte load near its edges stays inside
_MAX_DIGITS = 8  # per word: one uint64 holds eight ASCII digits
_PART = 1 << 14  # spans per numpy pass (see parse_spans)
_ZEROS = np.uint64(0x3030303030303030)  # eight ASCII '0'
_HIGH_NIBBLES = np.uint64(0xF0F0F0F0F0F0F0F0)
_SIXES = np.uint64(0x0606060606060606)
_MASK_16 = np.uint64(0x00FF00FF00FF00FF)
_MASK_32 = np.uint64(0x0000FFFF0000FFFF)
_MASK_64 = np.uint64(0x00000000FFFFFFFF)
_TEN = np.uint64(10)
_HUNDRED = np.uint64(100)
_TEN_THOUSAND = np.uint64(10_000)
_SHIFT_8 = np.uint64(8)
_SHIFT_16 = np.uint64(16)
_SHIFT_32 = np.uint64(32)
_SCALE = np.uint64(10**_MAX_DIGITS)
_EXACT = np.uint64(2**53)  # every integer up to here is a float64
# _LOW[k]: the low k bytes of a word set; _HIGH[k]: the high k bytes.
_LOW = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
_HIGH = np.array([((1 << 64) - 1) ^ ((1 << (8 * (8 - k))) - 1) for k in range(9)], np.uint64)


def line_spans(body: bytes) -> tuple[Positions, Positions] | None:
    """(starts, ends) of each line of `body`, without its LF or CR LF; None for a stray CR.

    The last line may lack its newline. A CR anywhere but before a LF (or at the very end)
    declines: the per-value path decides what it means.
    """
    u = np.frombuffer(body, dtype=np.uint8)
    ends = np.flatnonzero(u == ord("\n"))
    if not body.endswith(b"\n"):
        ends = np.append(ends, len(body))
    starts = np.empty_like(ends)
    if len(ends):
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    crs = body.count(b"\r")
    if crs:
        has_cr = (ends > starts) & (u[np.maximum(ends - 1, 0)] == ord("\r"))
        if int(np.count_nonzero(has_cr)) != crs:
            return None
        ends = ends - has_cr
    return starts, ends


def table_spans(
    body: bytes, delimiter: str, columns: Sequence[int]
) -> list[tuple[Positions, Positions]] | None:
    """For each column index, (starts, ends) of its cell on every line of a CSV block.

    For a block without quote characters, where splitting at the delimiter is what the csv
    module does. Declines (None) unless every line has the same number of delimiters and
    enough of them, no line is empty, the block is valid UTF-8 and has no CR but before a LF.
    """
    if len(delimiter) != 1 or not delimiter.isascii():
        return None
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return None  # the per-row path names each line that is not UTF-8
    lines = line_spans(body)
    if lines is None:
        return None
    starts, ends = lines
    n = len(starts)
    found = np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == ord(delimiter))
    if n == 0 or len(found) % n:
        return None
    width = len(found) // n  # delimiters per line, if every line has as many
    if any(k > width for k in columns) or not bool((ends > starts).all()):
        return None  # a short row or an empty line: the per-row path names it
    grid = found.reshape(n, width)
    # Sorted positions, n * width of them: each line holds exactly `width` when each row of
    # the grid starts and ends inside its line.
    if width and not bool(((grid[:, 0] >= starts) & (grid[:, -1] < ends)).all()):
        return None
    return [
        (starts if k == 0 else grid[:, k - 1] + 1, ends if k == width else grid[:, k])
        for k in columns
    ]


def parse_lines(
    body: bytes, decimal_comma: bool = False
) -> tuple[npt.NDArray[np.float64], Positions, Positions] | None:
    """(values, starts, ends) of a block of one value per line, or None to decline it."""
    spans = line_spans(body)
    if spans is None:
        return None
    values = parse_spans(body, *spans, decimal_comma)
    return None if values is None else (values, *spans)


def parse_spans(
    data: bytes, starts: Positions, ends: Positions, decimal_comma: bool = False
) -> npt.NDArray[np.float64] | None:
    """The values of `data[starts[i]:ends[i]]` for every i, or None to decline the block.

    Declines when any span is not `[+-]?(\\d+(\\.\\d*)?|\\.\\d+)` (`,` for the mark with
    `decimal_comma`) with at most 8 digits on each side of the mark, or is too large (above).
    """
    values = np.empty(len(starts), dtype=np.float64)
    padded = bytes(_PAD) + data + bytes(_PAD)
    # The 8 bytes from each offset of the padded data, as little-endian integers.
    words = np.ndarray(shape=(len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
    u = np.frombuffer(data, dtype=np.uint8)
    mark = ord(",") if decimal_comma else ord(".")
    # Parts small enough for the temporaries to stay in cache and be reused; whole blocks
    # allocate megabytes per step and spend as long on page faults as on the arithmetic.
    for i in range(0, len(starts), _PART):
        j = i + _PART
        if not _parse_part(u, words, starts[i:j], ends[i:j], mark, values[i:j]):
            return None
    return values


def _parse_part(
    u: npt.NDArray[np.uint8],
    words: npt.NDArray[np.uint64],
    starts: Positions,
    ends: Positions,
    mark: int,
    out: npt.NDArray[np.float64],
) -> bool:
    """Parse spans into `out`; False when some span is not a plain short number."""
    lengths = ends - starts
    if int(lengths.min()) < 1 or int(lengths.max()) > 2 * _MAX_DIGITS + 2:
        return False
    marks = _marks(u, starts, ends, mark)
    if marks is None:
        return False
    anchor, has_mark = marks  # the mark's position, or the span's end when it has none
    first = u[starts]
    signed = (first == ord("-")) | (first == ord("+"))
    int_digits = anchor - starts - signed
    frac_digits = ends - anchor - 1
    if has_mark is not None:
        frac_digits[~has_mark] = 0
    if int(int_digits.max()) > _MAX_DIGITS or int(frac_digits.max()) > _MAX_DIGITS:
        return False
    if not bool(((int_digits + frac_digits) > 0).all()):
        return False  # a sign or a mark alone
    # Integer digits end at the mark: keep the word's high bytes, the rest become '0'.
    whole = _kept(words[anchor + (_PAD - 8)], _HIGH[int_digits])
    # Fraction digits start after the mark: keep the low bytes, pad with trailing '0's.
    fraction = _kept(words[anchor + (_PAD + 1)], _LOW[frac_digits])
    if not bool((_all_digits(whole) & _all_digits(fraction)).all()):
        return False  # some byte of a span is not a digit (a second sign, a space, a letter)
    mantissa = _eight_digits(whole) * _SCALE + _eight_digits(fraction)
    if int(mantissa.max()) > int(_EXACT):
        return False
    np.divide(mantissa, float(10**_MAX_DIGITS), out=out)
    negative = first == ord("-")
    if negative.any():
        # copysign, not negation: "-0" is -0.0, as float() gives.
        np.copysign(out, 0.5 - negative, out=out)
    return True


def _marks(
    u: npt.NDArray[np.uint8], starts: Positions, ends: Positions, mark: int
) -> tuple[Positions, npt.NDArray[np.bool_] | None] | None:
    """Each span's decimal mark position (its end when it has none) and which spans have
    one (None: all of them); None for a span with two marks."""
    low = int(starts[0])
    is_mark = u[low : int(ends[-1])] == mark
    found = np.flatnonzero(is_mark) + low
    n = len(starts)
    if len(found) == 0:
        return ends, np.zeros(n, dtype=bool)
    if len(found) == n and bool(((found >= starts) & (found < ends)).all()):
        return found, None  # the usual block: one mark in every span
    before = np.zeros(len(is_mark) + 1, dtype=np.int32)
    np.cumsum(is_mark, dtype=np.int32, out=before[1:])  # before[p - low]: marks in u[low:p]
    first_mark = before[starts - low]
    count = before[ends - low] - first_mark
    if int(count.max()) > 1:
        return None
    has_mark = count == 1
    anchor = ends.copy()
    anchor[has_mark] = found[first_mark[has_mark]]
    return anchor, has_mark


def _kept(words: npt.NDArray[np.uint64], keep: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """`words` with the bytes outside `keep` replaced by ASCII '0'."""
    kept: npt.NDArray[np.uint64] = ((words ^ _ZEROS) & keep) ^ _ZEROS
    return kept


def _all_digits(words: npt.NDArray[np.uint64]) -> npt.NDArray[np.bool_]:
    """Whether each word's 8 bytes are all ASCII digits."""
    # High nibble 3 means 0x30..0x3F; adding 6 keeps 0x30..0x39 there and moves 0x3A.. out.
    digits: npt.NDArray[np.bool_] = (words & _HIGH_NIBBLES) == _ZEROS
    digits &= ((words + _SIXES) & _HIGH_NIBBLES) == _ZEROS
    return digits


def _eight_digits(words: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Eight ASCII digits (first in the lowest byte) to their integer, pairs at a time."""
    v = words - _ZEROS
    v = (v * _TEN + (v >> _SHIFT_8)) & _MASK_16
    v = (v * _HUNDRED + (v >> _SHIFT_16)) & _MASK_32
    result: npt.NDArray[np.uint64] = (v * _TEN_THOUSAND + (v >> _SHIFT_32)) & _MASK_64
    return result
