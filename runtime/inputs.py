"""Read Fahrenheit values from arguments, lines or a CSV column, in bounded-memory chunks.

Accepted number syntax: optional sign, decimal digits with an optional point, optional exponent
(`33`, `-40.5`, `+1e2`, `.5`), with surrounding spaces or tabs ignored. Everything else is
invalid: words (`nan`, `inf`, `abc`), hex, underscores, thousands separators, empty lines.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from .errors import InvalidInputError
from .validate import invalid_mask, problem_with

if TYPE_CHECKING:
    import numpy.typing as npt

NUMBER_SYNTAX = rb"[ \t]*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[ \t]*\r?"


@functools.cache
def _number() -> re.Pattern[bytes]:
    """The compiled NUMBER_SYNTAX, built on first use (the fast path never needs it)."""
    return re.compile(NUMBER_SYNTAX)


# Bytes that can appear in a valid line. A chunk made only of these takes the fast path: there,
# float() accepts exactly the NUMBER syntax (no letters means no nan/inf/hex; no '_').
_ALLOWED = b"0123456789+-.eE \t\r\n"
# Lines per chunk: ~2 MB of text, ~30 MB of Python objects at peak; memory stays flat for any
# file size, and a chunk still amortises the per-call cost of onnxruntime.
CHUNK_LINES = 1 << 18


class Chunk:
    """Consecutive input rows: their 1-based line numbers, values, and the invalid ones.

    A plain class rather than a dataclass: `dataclasses` would be one more import on the
    start-up path of every `fclf-edge predict`.
    """

    __slots__ = ("lines", "values", "invalid", "extra")

    def __init__(
        self,
        lines: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],  # NaN where invalid
        invalid: dict[int, str],  # position in chunk -> reason
        extra: dict[str, list[str | None]] | None = None,  # column -> raw text per row
    ) -> None:
        self.lines = lines
        self.values = values
        self.invalid = invalid
        self.extra = {} if extra is None else extra

    def __len__(self) -> int:
        return len(self.lines)


def _describe(token: bytes) -> str:
    text = token.decode("utf-8", "replace").strip("\r")
    return repr(text if len(text) <= 40 else text[:37] + "...")


def parse_tokens(tokens: list[bytes], first_line: int) -> Chunk:
    """Parse one chunk of tokens; line numbers start at `first_line`."""
    n = len(tokens)
    lines = np.arange(first_line, first_line + n, dtype=np.int64)
    values: npt.NDArray[np.float64] | None = None
    if not b"".join(tokens).translate(None, _ALLOWED):
        try:
            values = np.array(list(map(float, tokens)), dtype=np.float64)
        except ValueError:
            values = None  # some line is malformed or empty: find it on the slow path
    invalid: dict[int, str] = {}
    if values is None:
        values = np.empty(n, dtype=np.float64)
        for i, token in enumerate(tokens):
            if _number().fullmatch(token):
                values[i] = float(token)
            else:
                values[i] = np.nan
                stripped = token.strip(b" \t\r")
                invalid[i] = "empty line" if not stripped else f"{_describe(token)} is not a number"
    mask = invalid_mask(values)  # NaN placeholders of unparsable lines are in it, already named
    if mask.any():
        for i in np.flatnonzero(mask).tolist():
            if i not in invalid:
                invalid[i] = f"{_describe(tokens[i])} {problem_with(float(values[i]))}"
    return Chunk(lines, values, invalid)


def chunks_from_args(values: Iterable[str]) -> Iterator[Chunk]:
    """Command-line values, numbered from 1 as 'argument N'."""
    tokens = [v.encode("utf-8", "surrogateescape") for v in values]
    yield parse_tokens(tokens, 1)


def chunks_from_lines(stream: IO[bytes], chunk_lines: int = CHUNK_LINES) -> Iterator[Chunk]:
    """One value per line. A trailing newline ends the last line; it adds no empty line."""
    carry = b""
    next_line = 1
    # Read about as many bytes as a chunk of short lines holds: one block, one or two chunks,
    # so only one block's lines are ever alive at once.
    read_size = max(1 << 16, chunk_lines * 8)
    while True:
        block = stream.read(read_size)
        if not block:
            break
        data = carry + block
        lines = data.split(b"\n")
        carry = lines.pop()
        nul = b"\0" in block
        if nul:
            # Lines before the NUL come first, so an earlier bad line is the one reported.
            lines = lines[: data.count(b"\n", 0, data.index(b"\0"))]
        for start in range(0, len(lines), chunk_lines):
            head = lines[start : start + chunk_lines]
            _reject_csv(head, next_line)
            yield parse_tokens(head, next_line)
            next_line += len(head)
        if nul:
            raise InvalidInputError(
                f"line {next_line}: input is binary, not text (NUL byte); "
                "expected one number per line",
                line=next_line,
            )
    if carry:
        _reject_csv([carry], next_line)
        yield parse_tokens([carry], next_line)


def _reject_csv(tokens: list[bytes], first_line: int) -> None:
    """A comma means CSV: say so once instead of reporting every line as not a number."""
    for i, token in enumerate(tokens[:1]):
        if b"," in token:
            raise InvalidInputError(
                f"line {first_line + i}: {_describe(token)} has commas; for CSV input pass "
                "--column NAME or --column INDEX"
            )


def chunks_from_csv(
    stream: IO[bytes],
    column: str,
    extra: Sequence[str] = (),
    chunk_lines: int = CHUNK_LINES,
) -> Iterator[Chunk]:
    """Read one CSV column as temperatures, and other columns as raw text, in chunks.

    Args:
        stream: a binary stream (a file opened "rb", `sys.stdin.buffer`); never closed here.
        column: the temperature column, by header NAME or 0-based INDEX. By index, the first
            row is a header when its cell in that column is not a number.
        extra: more columns (NAME, or INDEX) whose raw text each chunk carries in
            `Chunk.extra[name]`, one entry per row; None where a row is too short to have it.

    Yields:
        `Chunk`s: `.lines` (1-based line numbers), `.values` (float64, NaN where invalid),
        `.invalid` (position in chunk -> reason), `.extra` (column -> list of str | None).

    Raises:
        InvalidInputError: the column or an extra column is not in the header row (or out of
            range), or the stream is not readable CSV (the message names the line).
    """
    import csv  # CSV input only: keep it off the start-up path
    import io

    text = io.TextIOWrapper(stream, encoding="utf-8", errors="strict", newline="")
    try:
        yield from _csv_chunks(csv.reader(text), column, tuple(extra), chunk_lines)
    finally:
        # Hand the byte stream back: the wrapper would otherwise close it (stdin included).
        text.detach()


def chunks_from_stream(
    stream: IO[bytes],
    column: str | None = None,
    *,
    extra: Sequence[str] = (),
    input_format: str = "auto",
    chunk_lines: int = CHUNK_LINES,
) -> Iterator[Chunk]:
    """Read temperatures (and raw `extra` columns) from any supported input, in chunks.

    The entry point for every file reader (predict, training): it picks the reader for the
    input's kind, so callers get each format the runtime learns to read.

    Args:
        stream: a binary stream; never closed here.
        column: the temperature column (NAME or 0-based INDEX); None for one value per line.
        extra: more columns whose raw text each chunk carries in `Chunk.extra` (needs `column`).
        input_format: "auto" (CSV when a column is given, else lines), "lines" or "csv".

    Raises:
        InvalidInputError: as `chunks_from_csv` and `chunks_from_lines`.
    """
    if input_format not in ("auto", "lines", "csv"):
        raise InvalidInputError(f"unknown input format {input_format!r}")
    if column is None or input_format == "lines":
        if extra:
            raise InvalidInputError("extra columns need a column-based input (--column)")
        return chunks_from_lines(stream, chunk_lines)
    return chunks_from_csv(stream, column, extra, chunk_lines)


def _column_index(spec: str, first: list[str], header: list[str], what: str) -> int:
    """The position of column `spec` (NAME or 0-based INDEX) given the first row."""
    if spec.lstrip("-").isdigit():
        index = int(spec)
        if not 0 <= index < len(first):
            raise InvalidInputError(
                f"{what} {spec}: line 1 has {len(first)} columns (indexes are 0-based)"
            )
        return index
    if spec not in header:
        raise InvalidInputError(f"{what} {spec!r}: not in the header row {header}")
    return header.index(spec)


def _csv_chunks(
    reader: Any, column: str, extra: tuple[str, ...], chunk_lines: int
) -> Iterator[Chunk]:
    import csv

    try:
        first = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInputError(f"line 1: cannot read CSV ({exc})") from None
    if first is None:
        return
    header = [cell.strip() for cell in first]
    index = _column_index(column, first, header, "--column")
    # A header is a first row whose cell in that column is not a number.
    has_header = (
        not column.lstrip("-").isdigit() or _number().fullmatch(first[index].encode()) is None
    )
    if not has_header and any(not name.lstrip("-").isdigit() for name in extra):
        raise InvalidInputError(
            f"columns {list(extra)}: the input has no header row; name columns by INDEX"
        )
    extra_index = [_column_index(name, first, header, "column") for name in extra]

    rows: list[bytes] = []
    extras: list[list[str | None]] = [[] for _ in extra]
    start_line = 2 if has_header else 1
    line = start_line - 1
    records = reader if has_header else _prepend(first, reader)
    if not has_header:
        line = 0
    try:
        for record in records:
            line += 1
            n = len(record)
            if n <= index:
                rows.append(b"\0missing")  # never parses: reported as a missing column
            else:
                rows.append(record[index].encode("utf-8"))
            for values, i in zip(extras, extra_index, strict=True):
                values.append(record[i] if i < n else None)
            if len(rows) >= chunk_lines:
                yield _csv_chunk(rows, start_line, extra, extras)
                start_line += len(rows)
                rows = []
                extras = [[] for _ in extra]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInputError(f"line {line + 1}: cannot read CSV ({exc})") from None
    if rows:
        yield _csv_chunk(rows, start_line, extra, extras)


def _prepend(first: list[str], rest: Iterator[list[str]]) -> Iterator[list[str]]:
    yield first
    yield from rest


def _csv_chunk(
    rows: list[bytes], start_line: int, extra: tuple[str, ...], extras: list[list[str | None]]
) -> Chunk:
    chunk = parse_tokens(rows, start_line)
    for i, token in enumerate(rows):
        if token == b"\0missing":
            chunk.invalid[i] = "the row has no such column"
    chunk.extra = dict(zip(extra, extras, strict=True))
    return chunk
