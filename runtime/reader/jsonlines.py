"""JSON Lines records: one object per line, one field parsed as a temperature.

A field that is missing, null, a boolean, a list or an object, or a string that is not a
number, makes its row invalid. A string holding a number in the accepted syntax (`"33.5"`,
or `"33,5"` with a decimal comma) is read as that number: loggers often quote their numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any

import numpy as np

from ..messages import text
from .grammar import check_range, describe, parse_number
from .lines import LineBlock, decode_block
from .types import Chunk, Input

if TYPE_CHECKING:
    import numpy.typing as npt


def open_jsonl(
    blocks: Iterator[LineBlock],
    column: str,
    extra: tuple[str, ...],
    decimal_comma: bool,
    keep_records: bool,
    chunk_lines: int,
) -> Input:
    """JSON Lines: one object per line; `column` names the field with the temperature."""
    chunks = _jsonl_chunks(blocks, column, extra, decimal_comma, keep_records, chunk_lines)
    return Input(chunks, "jsonl", decimal_comma=decimal_comma)


def _jsonl_chunks(
    blocks: Iterator[LineBlock],
    column: str,
    extra: tuple[str, ...],
    decimal_comma: bool,
    keep_records: bool,
    chunk_lines: int,
) -> Iterator[Chunk]:
    import json
    import json.scanner

    # The C scanner behind json.loads, called directly: json.loads adds ~2 µs of Python per
    # line (encoding detection, whitespace handling) to a ~1 µs parse.
    scan: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(
        json.JSONDecoder()  # type: ignore[arg-type]  # typeshed types it as a class
    )
    for block in blocks:
        texts = decode_block(block).split("\n")
        if block.body.endswith(b"\n"):
            texts.pop()
        raw = block.lines() if keep_records else None
        numbers: Sequence[int] = range(block.first, block.first + len(texts))
        if "" in texts or any(map(str.isspace, texts)):
            # Blank lines are no records (as jq reads JSON Lines); they keep their numbers.
            keep = [
                i
                for i, text in enumerate(texts)
                if text.strip(" \t\r") or block.first + i in block.problems
            ]
            texts = [texts[i] for i in keep]
            numbers = [numbers[i] for i in keep]
            raw = [raw[i] for i in keep] if raw is not None else None
        for start in range(0, len(texts), chunk_lines):
            part = texts[start : start + chunk_lines]
            lines = numbers[start : start + chunk_lines]
            chunk = _jsonl_chunk(part, lines, block.problems, column, extra, decimal_comma, scan)
            if raw is not None:
                chunk.records = raw[start : start + len(part)]
            yield chunk


def _jsonl_chunk(
    part: list[str],
    lines: Sequence[int],
    problems: dict[int, str],
    column: str,
    extra: tuple[str, ...],
    decimal_comma: bool,
    scan: Callable[[str, int], tuple[Any, int]],
) -> Chunk:
    import json

    invalid: dict[int, str] = {}
    objects: list[dict[str, Any] | None] | None = None
    mine = (
        {i: problems[number] for i, number in enumerate(lines) if number in problems}
        if problems
        else {}
    )
    if not mine:
        objects = _objects_at_once(part)
    if objects is None:
        objects = _objects_one_by_one(part, mine, scan, invalid)
    array = _numbers(objects, column) if not invalid else None
    if array is None:
        array = _values(objects, column, decimal_comma, invalid)
    extras = {
        name: [None if obj is None else _raw_value(obj.get(name)) for obj in objects]
        for name in extra
    }

    def shown(i: int) -> str:
        value = json.loads(part[i]).get(column)
        return f"field {column!r}: {describe(value) if isinstance(value, str) else repr(value)}"

    check_range(array, invalid, shown, text_values=False)
    numbers = (
        np.arange(lines.start, lines.stop, dtype=np.int64)
        if isinstance(lines, range)
        else np.array(lines, dtype=np.int64)
    )
    return Chunk(numbers, array, invalid, extras)


def _objects_at_once(part: list[str]) -> list[dict[str, Any] | None] | None:
    """Every line's object, from one json.loads call over the lines as one array; or None
    when that could read the lines otherwise than one by one (then nothing is decided here).

    Lines joined by ",\n" give the same objects as parsing each line alone when: every line
    starts with '{' (a joining comma inside an object would need a key next, so each one sits
    between elements of the outer array), nothing opens an array (no '[' anywhere: a joining
    comma cannot land inside one), strings cannot run across lines (JSON refuses a raw newline
    in a string), and there are as many elements as lines (no line holds two).
    """
    import json

    text = ",\n".join(part)
    if not text.startswith("{") or text.count("\n{") != len(part) - 1 or "[" in text:
        return None
    try:
        objects = json.loads("[" + text + "]")
    except (ValueError, RecursionError):
        return None
    if len(objects) != len(part) or set(map(type, objects)) != {dict}:
        return None
    return objects  # type: ignore[no-any-return]


def _objects_one_by_one(
    part: list[str],
    problems: dict[int, str],
    scan: Callable[[str, int], tuple[Any, int]],
    invalid: dict[int, str],
) -> list[dict[str, Any] | None]:
    """Each line's object, or None with the reason in `invalid` (`problems`: position in
    `part` -> why the reader already emptied that line)."""
    import json

    objects: list[dict[str, Any] | None] = [None] * len(part)
    for i, line in enumerate(part):
        if i in problems:
            invalid[i] = problems[i]
            continue
        try:
            obj, end = scan(line, 0)
            whole = end == len(line) or not line[end:].strip()
        except (StopIteration, ValueError):  # ValueError: an integer of too many digits
            whole = False
        except RecursionError:
            invalid[i] = f"not valid JSON (nested too deeply): {describe(line)}"
            continue
        if not whole:  # leading space, trailing text, or not JSON: let json.loads tell
            try:
                obj = json.loads(line)
            except ValueError as exc:
                invalid[i] = _json_problem(line, exc)
                continue
            except RecursionError:
                invalid[i] = f"not valid JSON (nested too deeply): {describe(line)}"
                continue
        if type(obj) is not dict:
            invalid[i] = f"not a JSON object ({describe(line)})"
            continue
        objects[i] = obj
    return objects


def _numbers(objects: list[dict[str, Any] | None], column: str) -> npt.NDArray[np.float64] | None:
    """The field of every object at once when each one is a JSON number; else None."""
    # map over dict.get: no Python frame per row (none of the objects is None here).
    got = list(map(dict.get, objects, repeat(column, len(objects))))  # type: ignore[arg-type]
    if not set(map(type, got)) <= {float, int}:
        return None  # a string, a null, a boolean, a missing field...: row by row
    try:
        return np.array(got, dtype=np.float64)
    except OverflowError:  # an integer beyond any float: row by row makes it infinity
        return None


def _values(
    objects: list[dict[str, Any] | None],
    column: str,
    decimal_comma: bool,
    invalid: dict[int, str],
) -> npt.NDArray[np.float64]:
    """The field of each object as a float, row by row; each problem in `invalid`."""
    values: list[float] = [np.nan] * len(objects)
    for i, obj in enumerate(objects):
        if obj is None:
            continue
        value = obj.get(column, _MISSING)
        kind = type(value)
        if kind is float:
            values[i] = value
        elif kind is int:
            try:
                values[i] = float(value)
            except OverflowError:  # an integer beyond any float
                values[i] = np.inf
        elif kind is str:
            number = parse_number(value.encode("utf-8", "surrogatepass"), decimal_comma)
            if number is None:
                invalid[i] = f"field {column!r} is {describe(value)}, not a number"
            else:
                values[i] = number
        else:
            invalid[i] = _field_problem(column, value)
    return np.array(values, dtype=np.float64)


_MISSING = object()


def _json_problem(line: str, exc: ValueError) -> str:
    if not line.strip(" \t\r"):
        return text("reason.empty_line")
    if "integer string conversion" in str(exc):
        # Python refuses to read integers of more than sys.get_int_max_str_digits() digits
        # (4,300 by default: a guard against quadratic-time conversion).
        return f"a number in it has too many digits to read: {describe(line)}"
    return f"not valid JSON ({getattr(exc, 'msg', exc)}): {describe(line)}"


def _field_problem(column: str, value: object) -> str:
    if value is _MISSING:
        return f"no field {column!r}"
    if value is None:
        return f"field {column!r} is null"
    if type(value) is bool:
        return f"field {column!r} is {str(value).lower()}, a boolean, not a number"
    what = "an object" if isinstance(value, dict) else "a list"
    return f"field {column!r} is {what}, not a number"


def _raw_value(value: object) -> str | None:
    """A field's text: strings as they are, other values as JSON; None when null or absent."""
    if value is None or isinstance(value, str):
        return value
    import json

    return json.dumps(value)
