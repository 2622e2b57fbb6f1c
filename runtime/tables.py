"""CSV and JSON Lines records: one column parsed as temperatures, others kept as raw text.

Both read `LineBlock`s (whole lines of bounded length, see `lines`), so a record can never
make memory grow: a CSV record whose quoted fields run on over many lines is refused once it
passes the record limit, and a too-long line is an invalid row.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator

import numpy as np

from .errors import InvalidInputError
from .inputs import Chunk, Input, check_range, describe, parse_number, parse_tokens
from .lines import MAX_RECORD_BYTES, LineBlock

DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "TAB", "|": "'|'"}


def detect_delimiter(line: str, decimal_comma: bool = False) -> str:
    """The one of `, ; TAB |` that occurs most often in `line` outside quotes.

    Ties go to the earlier in that list. With a decimal comma, ',' is the delimiter only when
    no other one occurs (and is then refused by the caller). A line with none of them is a
    single column.
    """
    import re

    bare = re.sub(r'"[^"]*"', "", line)
    counts = {d: bare.count(d) for d in DELIMITERS}
    found = [d for d in DELIMITERS if counts[d] and not (decimal_comma and d == ",")]
    if found:
        return max(found, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    return ";" if decimal_comma and not counts[","] else ","


def _is_index(spec: str) -> bool:
    return spec.lstrip("-").isdigit()


def _column_index(spec: str, first: list[str], header: list[str], what: str) -> int:
    """The position of column `spec` (NAME or 0-based INDEX) given the first row."""
    if _is_index(spec):
        index = int(spec)
        if not 0 <= index < len(first):
            raise InvalidInputError(
                f"{what} {spec}: line 1 has {len(first)} columns (indexes are 0-based)"
            )
        return index
    if spec not in header:
        raise InvalidInputError(f"{what} {spec!r}: not in the header row {header}")
    return header.index(spec)


def open_csv(
    blocks: Iterator[LineBlock],
    column: str,
    extra: tuple[str, ...],
    delimiter: str | None,
    decimal_comma: bool,
    keep_records: bool,
    chunk_lines: int,
) -> Input:
    """Read the header (or detect there is none) and return the rows as an `Input`."""
    reader = _CsvReader(blocks, column, extra, delimiter, decimal_comma, keep_records)
    return Input(
        reader.chunks(chunk_lines),
        "csv",
        delimiter=reader.delimiter,
        header=reader.header,
        header_record=reader.header_record,
        decimal_comma=decimal_comma,
    )


class _CsvReader:
    """csv.reader over bounded lines, tracking each record's lines and raw text."""

    def __init__(
        self,
        blocks: Iterator[LineBlock],
        column: str,
        extra: tuple[str, ...],
        delimiter: str | None,
        decimal_comma: bool,
        keep_records: bool,
    ) -> None:
        first_block = next(blocks)
        if delimiter is None:
            head = first_block.body[: first_block.body.find(b"\n")]
            delimiter = detect_delimiter(head.decode("utf-8", "replace"), decimal_comma)
        if len(delimiter) != 1 or delimiter in '"\r\n':
            raise InvalidInputError(f"delimiter {delimiter!r}: use one character (not a quote)")
        if decimal_comma and delimiter == ",":
            raise InvalidInputError(
                "a decimal comma needs a delimiter other than ',' (e.g. ';'): "
                "'32,5,Oslo' cannot be split"
            )
        self.delimiter = delimiter
        self.column = column
        self.extra = extra
        self.decimal_comma = decimal_comma
        self.keep_records = keep_records
        self.problems: dict[int, str] = {}  # line number -> why it was emptied
        self.window: list[tuple[int, list[bytes]]] = []  # blocks a pending record may span
        self.last_end = 0  # last line of the last complete record
        self.reader = csv.reader(
            itertools.chain.from_iterable(self._texts(itertools.chain([first_block], blocks))),
            delimiter=delimiter,
        )
        first = self._next()
        self.header: list[str] | None = None
        self.header_record: bytes | None = None
        self.first_row: list[str] | None = None
        if first is None:
            self.index, self.extra_index = 0, []
            return
        cells = [cell.strip() for cell in first]
        self.index = _column_index(column, first, cells, "--column")
        # By index, a header is a first row whose cell in that column is not a number.
        has_header = (
            not _is_index(column) or parse_number(first[self.index].encode(), decimal_comma) is None
        )
        if not has_header and not all(_is_index(name) for name in extra):
            raise InvalidInputError(
                f"columns {list(extra)}: the input has no header row; name columns by INDEX"
            )
        self.extra_index = [_column_index(name, first, cells, "column") for name in extra]
        if has_header:
            self.header = cells
            self.header_record = self._raw(1, self.reader.line_num) if keep_records else None
            self.last_end = self.reader.line_num
        else:
            self.first_row = first

    def _next(self) -> list[str] | None:
        try:
            return next(self.reader, None)
        except csv.Error as exc:
            raise InvalidInputError(f"line 1: {_csv_problem(exc)}") from None

    def _texts(self, blocks: Iterator[LineBlock]) -> Iterator[io.StringIO]:
        """Each block as lines of text; csv.reader takes them through a C-level chain."""
        pending = 0  # bytes of a record still open since before the last block
        previous: LineBlock | None = None
        for block in blocks:
            if previous is not None:
                # A record open across a whole block is longer than it: stop it from growing
                # (an unclosed quote would otherwise read the rest of the input into memory).
                pending = pending + len(previous.body) if self.last_end < previous.first else 0
                if pending > MAX_RECORD_BYTES:
                    raise InvalidInputError(
                        f"line {self.last_end + 1}: a record runs on past "
                        f"{MAX_RECORD_BYTES:,} bytes (a quote left open?)",
                        line=self.last_end + 1,
                    )
            previous = block
            self.problems.update(block.problems)
            if self.keep_records:
                start = self.last_end + 1
                self.window = [w for w in self.window if w[0] + len(w[1]) > start]
                self.window.append((block.first, block.lines()))
            try:
                text = block.body.decode("utf-8")
            except UnicodeDecodeError:
                text = self._decode_lines(block)
            # newline="\n": split at LF only (CR LF ends in CR, which csv strips), so csv's
            # line count stays the file's line count.
            yield io.StringIO(text, newline="\n")

    def _decode_lines(self, block: LineBlock) -> str:
        """Decode a block that has bad UTF-8: each bad line becomes an invalid row."""
        out = []
        for i, line in enumerate(block.lines()):
            try:
                out.append(line.decode("utf-8"))
            except UnicodeDecodeError:
                self.problems[block.first + i] = "not valid UTF-8 text"
                out.append("")
        text = "\n".join(out)
        return text + "\n" if block.body.endswith(b"\n") else text

    def _raw(self, start: int, end: int) -> bytes:
        """The raw text of lines start..end (a record), joined by b"\\n"."""
        first, lines = self.window[-1]
        if start == end and start >= first:
            return lines[start - first]
        parts: list[bytes] = []
        for first, lines in self.window:
            lo, hi = max(start, first), min(end, first + len(lines) - 1)
            parts.extend(lines[lo - first : hi - first + 1])
        return b"\n".join(parts)

    def chunks(self, chunk_lines: int) -> Iterator[Chunk]:
        index, extra_index, keep = self.index, self.extra_index, self.keep_records
        problems = self.problems
        missing = f"the row has no column {self.column!r}"
        tokens: list[str] = []
        lines: list[int] = []
        known: dict[int, str] = {}
        extras: list[list[str | None]] = [[] for _ in extra_index]
        records: list[bytes] = []
        reader = self.reader
        rows = reader if self.first_row is None else itertools.chain([self.first_row], reader)
        prev = self.last_end
        try:
            for record in rows:
                end = reader.line_num
                start = prev + 1
                prev = self.last_end = end
                lines.append(start)
                try:
                    tokens.append(record[index])
                except IndexError:
                    known[len(tokens)] = missing if record else "empty line"
                    tokens.append("")
                for values, i in zip(extras, extra_index, strict=True):
                    values.append(record[i] if i < len(record) else None)
                if problems or end != start:
                    self._check_record(record, start, end, known, len(tokens) - 1)
                if keep:
                    records.append(self._raw(start, end))
                if len(tokens) >= chunk_lines:
                    yield self._chunk(tokens, lines, known, extras, records)
                    tokens, lines, known, records = [], [], {}, []
                    extras = [[] for _ in extra_index]
        except csv.Error as exc:
            raise InvalidInputError(f"line {prev + 1}: {_csv_problem(exc)}") from None
        if tokens:
            yield self._chunk(tokens, lines, known, extras, records)

    def _check_record(
        self, record: list[str], start: int, end: int, known: dict[int, str], pos: int
    ) -> None:
        for number in range(start, end + 1):
            reason = self.problems.pop(number, None)
            if reason is not None:
                known[pos] = f"line {number} of the record: {reason}" if end != start else reason
                return
        if sum(map(len, record)) > MAX_RECORD_BYTES:
            known[pos] = f"the record is longer than {MAX_RECORD_BYTES:,} bytes"

    def _chunk(
        self,
        tokens: list[str],
        lines: list[int],
        known: dict[int, str],
        extras: list[list[str | None]],
        records: list[bytes],
    ) -> Chunk:
        chunk = parse_tokens(
            tokens,
            lines[0],
            lines=lines,
            known=known,
            decimal_comma=self.decimal_comma,
            empty=f"the {self.column!r} cell is empty",
        )
        chunk.extra = dict(zip(self.extra, extras, strict=True))
        if self.keep_records:
            chunk.records = records
        return chunk


def _csv_problem(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        # csv's own bound on one field (128 KiB): reached by a quote that is never closed.
        return f"a field runs on past {csv.field_size_limit():,} bytes (a quote left open?)"
    return f"cannot read CSV ({exc})"


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
    for block in blocks:
        lines = block.lines()
        for start in range(0, len(lines), chunk_lines):
            part = lines[start : start + chunk_lines]
            chunk = _jsonl_chunk(
                part, block.first + start, block.problems, column, extra, decimal_comma
            )
            if keep_records:
                chunk.records = part
            yield chunk


def _jsonl_chunk(
    part: list[bytes],
    first: int,
    problems: dict[int, str],
    column: str,
    extra: tuple[str, ...],
    decimal_comma: bool,
) -> Chunk:
    import json

    n = len(part)
    values = np.full(n, np.nan, dtype=np.float64)
    invalid: dict[int, str] = {}
    extras: list[list[str | None]] = [[None] * n for _ in extra]
    shown: dict[int, str] = {}
    for i, line in enumerate(part):
        if problems and first + i in problems:
            invalid[i] = problems[first + i]
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            invalid[i] = _json_problem(line, exc)
            continue
        if type(obj) is not dict:
            invalid[i] = f"not a JSON object ({describe(line)})"
            continue
        for values_of, name in zip(extras, extra, strict=True):
            values_of[i] = _raw_value(obj.get(name))
        value = obj.get(column, _MISSING)
        kind = type(value)
        if kind is float or kind is int:
            try:
                values[i] = float(value)
            except OverflowError:  # an integer beyond any float
                values[i] = np.inf
            shown[i] = f"field {column!r}: {value!r}"
        elif kind is str:
            number = parse_number(value.encode("utf-8", "surrogatepass"), decimal_comma)
            if number is None:
                invalid[i] = f"field {column!r} is {describe(value)}, not a number"
            else:
                values[i] = number
                shown[i] = f"field {column!r}: {describe(value)}"
        else:
            invalid[i] = _field_problem(column, value)
    check_range(values, invalid, shown.__getitem__)
    lines = np.arange(first, first + n, dtype=np.int64)
    return Chunk(lines, values, invalid, dict(zip(extra, extras, strict=True)))


_MISSING = object()


def _json_problem(line: bytes, exc: ValueError) -> str:
    if not line.strip(b" \t\r"):
        return "empty line"
    if isinstance(exc, UnicodeDecodeError):
        return "not valid UTF-8 text"
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
