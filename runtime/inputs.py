"""Read Fahrenheit values from arguments, lines, CSV or JSON Lines, in bounded-memory chunks.

Accepted number syntax: optional sign, decimal digits with an optional point, optional exponent
(`33`, `-40.5`, `+1e2`, `.5`), with surrounding spaces or tabs ignored; with `decimal_comma`,
a comma is the decimal mark instead (`32,5`) and a point is refused. Everything else is
invalid: words (`nan`, `inf`, `abc`), hex, underscores, thousands separators, empty values.

`open_input` is the entry point for files and streams: it undoes compression and encodings
(`sources`), splits lines with a bounded length (`lines`), detects the kind of input and
hands over to the line reader here or the CSV / JSON Lines readers (`tables`, `jsonlines`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Literal

import numpy as np

from .errors import InvalidInputError
from .validate import invalid_mask, problem_with

if TYPE_CHECKING:
    import numpy.typing as npt

    from .lines import LineBlock

NUMBER_SYNTAX = rb"[ \t]*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[ \t]*\r?"
InputFormat = Literal["auto", "lines", "csv", "jsonl"]
INPUT_FORMATS: tuple[InputFormat, ...] = ("auto", "lines", "csv", "jsonl")


@functools.cache
def _number() -> re.Pattern[bytes]:
    """The compiled NUMBER_SYNTAX, built on first use (the fast path never needs it)."""
    return re.compile(NUMBER_SYNTAX)


# Bytes that can appear in a valid value. A chunk made only of these takes the fast path: there,
# float() accepts exactly the NUMBER syntax (no letters means no nan/inf/hex; no '_').
_ALLOWED = b"0123456789+-.eE \t\r\n"
_ALLOWED_DECIMAL_COMMA = b"0123456789+-,eE \t\r\n"
# Lines per chunk: ~2 MB of text, ~30 MB of Python objects at peak; memory stays flat for any
# file size, and a chunk still amortises the per-call cost of onnxruntime.
CHUNK_LINES = 1 << 18


class Chunk:
    """Consecutive input rows: their 1-based line numbers, values, and the invalid ones.

    `extra` holds the raw text of other columns the caller asked for (None where a row lacks
    one); `records` the raw text of each row, when asked for (to write the rows back).
    A plain class rather than a dataclass: `dataclasses` would be one more import on the
    start-up path of every `fclf-edge predict`.
    """

    __slots__ = ("lines", "values", "invalid", "extra", "records")

    def __init__(
        self,
        lines: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],  # NaN where invalid
        invalid: dict[int, str],  # position in chunk -> reason
        extra: dict[str, list[str | None]] | None = None,  # column -> raw text per row
        records: list[bytes] | None = None,  # raw row text without its line ending
    ) -> None:
        self.lines = lines
        self.values = values
        self.invalid = invalid
        self.extra = {} if extra is None else extra
        self.records = records

    def __len__(self) -> int:
        return len(self.lines)


class Input:
    """An opened input: what kind it is, its layout (for writing rows back), and its chunks.

    Attributes:
        kind: "lines", "csv" or "jsonl".
        delimiter: the CSV delimiter (given or detected); None for other kinds.
        header: the CSV header cells; None without a header row.
        header_record: the header row's raw text, without its line ending.
        decimal_comma: values use a decimal comma.
        encoding: "utf-8", "utf-8-sig" (a BOM was skipped), "utf-16-le" or "utf-16-be".
        compression: "gzip", "bz2", "xz", or None.

    Iterating it reads the input: once, from where the stream is.
    """

    encoding = "utf-8"
    compression: str | None = None

    def __init__(
        self,
        chunks: Iterator[Chunk],
        kind: str = "lines",
        *,
        delimiter: str | None = None,
        header: list[str] | None = None,
        header_record: bytes | None = None,
        decimal_comma: bool = False,
    ) -> None:
        self._chunks = chunks
        self.kind = kind
        self.delimiter = delimiter
        self.header = header
        self.header_record = header_record
        self.decimal_comma = decimal_comma

    def __iter__(self) -> Iterator[Chunk]:
        return self._chunks


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


def _reason(token: bytes, empty: str, decimal_comma: bool) -> str:
    """Why a token that is not in the accepted syntax was refused."""
    if not token.strip(b" \t\r"):
        return empty
    try:
        token.decode("utf-8")
    except UnicodeDecodeError:
        return "not valid UTF-8 text"
    if decimal_comma and parse_number(token) is not None:
        return f"{describe(token)} has a decimal point; the decimal mark is set to a comma"
    if not decimal_comma and parse_number(token, decimal_comma=True) is not None:
        return f"{describe(token)} is not a number (a decimal comma? see --decimal-comma)"
    return f"{describe(token)} is not a number"


def parse_tokens(
    tokens: Sequence[bytes] | Sequence[str],
    first_line: int,
    *,
    lines: Sequence[int] | None = None,
    known: dict[int, str] | None = None,
    decimal_comma: bool = False,
    empty: str = "empty line",
    text: bytes | None = None,
) -> Chunk:
    """Parse one chunk of tokens (bytes or str).

    Line numbers run from `first_line` unless `lines` gives each row's; `known` marks rows
    already known to be invalid (position -> reason); `empty` is the reason for a blank token.
    `text`, when given, is the tokens joined by newlines (saves joining them again).
    """
    n = len(tokens)
    numbers = (
        np.arange(first_line, first_line + n, dtype=np.int64)
        if lines is None
        else np.array(lines, dtype=np.int64)
    )
    values: npt.NDArray[np.float64] | None = None
    if not known and n:
        if text is not None:
            joined = text
        elif isinstance(tokens[0], str):
            joined = "\n".join(tokens).encode("utf-8", "surrogateescape")  # type: ignore[arg-type]
        else:
            joined = b"\n".join(tokens)  # type: ignore[arg-type]
        allowed = _ALLOWED_DECIMAL_COMMA if decimal_comma else _ALLOWED
        if not joined.translate(None, allowed) and _line_ends_only(joined, n):
            try:
                plain: Sequence[bytes | str] = tokens
                if decimal_comma:
                    plain = [_as_bytes(t).replace(b",", b".") for t in tokens]
                values = np.array(list(map(float, plain)), dtype=np.float64)
            except ValueError:
                values = None  # some value is malformed or empty: find it on the slow path
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
                invalid[i] = _reason(raw, empty, decimal_comma)
            else:
                values[i] = value
    check_range(values, invalid, lambda i: describe(tokens[i]))
    return Chunk(numbers, values, invalid)


def _line_ends_only(joined: bytes, n: int) -> bool:
    """Whether `n` tokens joined by LF hold no LF of their own and a CR only at their end.

    float() strips CR and LF anywhere around a number; the accepted syntax allows one CR,
    last (a CR LF line ending). Without this check "\\r33" would parse on the fast path.
    """
    newlines = joined.count(b"\n")
    if newlines != n - 1 and not (newlines == n and joined.endswith(b"\n")):
        return False
    crs = joined.count(b"\r")
    return not crs or crs == joined.count(b"\r\n") + joined.endswith(b"\r")


def check_range(
    values: npt.NDArray[np.float64], invalid: dict[int, str], shown: Callable[[int], str]
) -> None:
    """Add to `invalid` each value that parsed but is no temperature (NaN, inf, too cold...).

    `shown(i)` gives the text of value i for the message.
    """
    mask = invalid_mask(values)  # NaN placeholders of unparsable values are in it, already named
    if mask.any():
        for i in np.flatnonzero(mask).tolist():
            if i not in invalid:
                invalid[i] = f"{shown(i)} {problem_with(float(values[i]))}"


def chunks_from_args(values: Iterable[str], *, decimal_comma: bool = False) -> Iterator[Chunk]:
    """Command-line values, numbered from 1 as 'argument N'."""
    tokens = [v.encode("utf-8", "surrogateescape") for v in values]
    chunk = parse_tokens(tokens, 1, decimal_comma=decimal_comma, empty="empty value")
    chunk.records = tokens
    yield chunk


def open_input(
    stream: IO[bytes],
    column: str | None = None,
    *,
    extra: Sequence[str] = (),
    input_format: InputFormat = "auto",
    delimiter: str | None = None,
    decimal_comma: bool = False,
    keep_records: bool = False,
    chunk_lines: int = CHUNK_LINES,
) -> Input:
    """Open a byte stream of temperatures: detect its compression, encoding and kind.

    Args:
        stream: a binary stream (a file opened "rb", `sys.stdin.buffer`); never closed here.
            gzip, bz2 and xz are decompressed; a UTF-8 BOM is skipped; UTF-16 with a BOM is
            decoded.
        column: the temperature column: a CSV header NAME or 0-based INDEX, or a JSON Lines
            field NAME. None for one value per line.
        extra: more columns / fields whose raw text each chunk carries in `Chunk.extra`.
        input_format: "auto" detects JSON Lines (first record starts with '{'), else CSV
            when `column` is given, else one value per line; or force "lines", "csv", "jsonl".
        delimiter: the CSV delimiter; by default the one of `,` `;` TAB `|` that occurs most
            often in the first line (outside quotes; ties go to the earlier in that list).
        decimal_comma: read `32,5` as 32.5 (refused with a comma delimiter).
        keep_records: fill `Chunk.records` with each row's raw text (for writing rows back).

    Raises:
        InvalidInputError: options that contradict each other or the input, a column not in
            the header, binary or undecodable input (naming the line).
    """
    from .lines import MAX_RECORD_BYTES, line_blocks
    from .sources import utf8_blocks

    if input_format not in INPUT_FORMATS:
        raise InvalidInputError(
            f"unknown input format {input_format!r}; use one of {INPUT_FORMATS}"
        )
    if input_format == "lines" and column is not None:
        raise InvalidInputError("a column needs CSV or JSON Lines input, not one value per line")
    if extra and column is None:
        raise InvalidInputError("extra columns need a column-based input (--column)")
    block_bytes = max(MAX_RECORD_BYTES, chunk_lines * 8)
    found: dict[str, str] = {}
    blocks = line_blocks(utf8_blocks(stream, block_bytes, found))
    first = next(blocks, None)
    opened = _open_kind(
        first,
        blocks,
        column,
        tuple(extra),
        input_format,
        delimiter,
        decimal_comma,
        keep_records,
        chunk_lines,
    )
    opened.encoding = found.get("encoding", "utf-8")
    opened.compression = found.get("compression")
    return opened


def _open_kind(
    first: LineBlock | None,
    blocks: Iterator[LineBlock],
    column: str | None,
    extra: tuple[str, ...],
    input_format: InputFormat,
    delimiter: str | None,
    decimal_comma: bool,
    keep_records: bool,
    chunk_lines: int,
) -> Input:
    """Detect the kind of input from its first block and open the reader for it."""
    kind = input_format
    if kind == "auto":
        if first is not None and first.body.lstrip().startswith(b"{"):
            kind = "jsonl"
        else:
            kind = "lines" if column is None else "csv"
    if kind != "csv" and delimiter is not None:
        raise InvalidInputError(f"a delimiter is for CSV input; this input is {kind}")
    if first is None:
        return Input(iter(()), kind, delimiter=delimiter, decimal_comma=decimal_comma)
    rest = _prepend(first, blocks)
    if kind == "lines":
        chunks = _line_chunks(rest, chunk_lines, decimal_comma, keep_records)
        return Input(chunks, "lines", decimal_comma=decimal_comma)
    if column is None:
        raise InvalidInputError(
            f"{'JSON Lines' if kind == 'jsonl' else 'CSV'} input needs --column "
            f"({'the field' if kind == 'jsonl' else 'header NAME or 0-based INDEX'} "
            "with the temperature)"
        )
    if kind == "jsonl":
        from .jsonlines import open_jsonl

        return open_jsonl(rest, column, extra, decimal_comma, keep_records, chunk_lines)
    from .tables import open_csv

    return open_csv(rest, column, extra, delimiter, decimal_comma, keep_records, chunk_lines)


def chunks_from_stream(
    stream: IO[bytes],
    column: str | None = None,
    *,
    extra: Sequence[str] = (),
    input_format: InputFormat = "auto",
    delimiter: str | None = None,
    decimal_comma: bool = False,
    chunk_lines: int = CHUNK_LINES,
) -> Iterator[Chunk]:
    """The chunks of `open_input(...)` (same arguments): values, invalid rows and `extra`."""
    yield from open_input(
        stream,
        column,
        extra=extra,
        input_format=input_format,
        delimiter=delimiter,
        decimal_comma=decimal_comma,
        chunk_lines=chunk_lines,
    )


def chunks_from_csv(
    stream: IO[bytes],
    column: str,
    extra: Sequence[str] = (),
    chunk_lines: int = CHUNK_LINES,
    *,
    delimiter: str | None = None,
    decimal_comma: bool = False,
) -> Iterator[Chunk]:
    """Read one CSV column as temperatures, and other columns as raw text, in chunks.

    Args:
        stream: a binary stream (a file opened "rb", `sys.stdin.buffer`); never closed here.
            Compression, BOM and UTF-16 are handled as in `open_input`.
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
    yield from open_input(
        stream,
        column,
        extra=extra,
        input_format="csv",
        delimiter=delimiter,
        decimal_comma=decimal_comma,
        chunk_lines=chunk_lines,
    )


def chunks_from_lines(
    stream: IO[bytes], chunk_lines: int = CHUNK_LINES, *, decimal_comma: bool = False
) -> Iterator[Chunk]:
    """One value per line. A trailing newline ends the last line; it adds no empty line."""
    yield from open_input(
        stream, input_format="lines", decimal_comma=decimal_comma, chunk_lines=chunk_lines
    )


def _prepend(first: LineBlock, rest: Iterator[LineBlock]) -> Iterator[LineBlock]:
    yield first
    yield from rest


def _line_chunks(
    blocks: Iterator[LineBlock], chunk_lines: int, decimal_comma: bool, keep_records: bool
) -> Iterator[Chunk]:
    from .blockparse import parse_lines

    checked = False
    for block in blocks:
        parsed = None if block.problems else parse_lines(block.body, decimal_comma)
        if parsed is not None:
            chunks: Iterator[Chunk] = _parsed_chunks(block, *parsed, chunk_lines, keep_records)
        else:
            chunks = _token_chunks(block, chunk_lines, decimal_comma, keep_records)
        for chunk in chunks:
            if not checked:
                _reject_table(chunk, block.body.split(b"\n", 1)[0], decimal_comma)
                checked = True
            yield chunk


def _parsed_chunks(
    block: LineBlock,
    values: npt.NDArray[np.float64],
    starts: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
    chunk_lines: int,
    keep_records: bool,
) -> Iterator[Chunk]:
    """Chunks of a block whose values `blockparse` read: only range checks are left."""
    body = block.body
    lines = block.lines() if keep_records else None
    for start in range(0, len(values), chunk_lines):
        part = values[start : start + chunk_lines]
        first = block.first + start
        chunk = Chunk(np.arange(first, first + len(part), dtype=np.int64), part, {})

        def shown(i: int, start: int = start) -> str:
            return describe(body[starts[start + i] : ends[start + i]])

        check_range(part, chunk.invalid, shown)
        if lines is not None:
            chunk.records = lines[start : start + chunk_lines]
        yield chunk


def _token_chunks(
    block: LineBlock, chunk_lines: int, decimal_comma: bool, keep_records: bool
) -> Iterator[Chunk]:
    """Chunks of a block parsed value by value: any syntax, each problem named."""
    lines = block.lines()
    for start in range(0, len(lines), chunk_lines):
        part = lines if len(lines) <= chunk_lines else lines[start : start + chunk_lines]
        first = block.first + start
        known = {
            number - first: reason
            for number, reason in block.problems.items()
            if 0 <= number - first < len(part)
        }
        whole = block.body if part is lines else None
        chunk = parse_tokens(part, first, known=known, decimal_comma=decimal_comma, text=whole)
        if keep_records:
            chunk.records = part
        yield chunk


def _reject_table(chunk: Chunk, token: bytes, decimal_comma: bool) -> None:
    """Line 1 with delimiters means CSV: say so once instead of reporting every line."""
    if 0 not in chunk.invalid or chunk.lines[0] != 1:
        return
    found = [d for d in ",;\t|" if d.encode() in token.strip(b" \t\r")]
    if decimal_comma and found == [","]:
        return
    if found:
        what = "commas" if found[0] == "," else f"{found[0]!r} separators"
        raise InvalidInputError(
            f"line 1: {describe(token)} has {what}; for CSV input pass "
            "--column NAME or --column INDEX",
            line=1,
        )
