"""CSV records: one column parsed as temperatures, others kept as raw text.

The reader takes `LineBlock`s (whole lines of bounded length, see `lines`), so a record can
never make memory grow: a record whose quoted fields run on over many lines is refused once it
passes the record limit, and a too-long line is an invalid row. Dialects: the delimiter is
given or detected (`detect_delimiter`), quoting is the csv module's (RFC 4180, doubled quotes).
"""

from __future__ import annotations

import csv
import io
import operator
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidInputError
from ..messages import text
from .grammar import parse_number, parse_tokens, span_chunks
from .lines import MAX_RECORD_BYTES, LineBlock, decode_block
from .types import Chunk, Input

if TYPE_CHECKING:
    import numpy.typing as npt

DELIMITERS = (",", ";", "\t", "|")


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


def _column_index(spec: str, first: list[str], header: list[str], what: str, line: int) -> int:
    """The position of column `spec` (NAME or 0-based INDEX) given the first row."""
    if _is_index(spec):
        index = int(spec)
        if not 0 <= index < len(first):
            raise InvalidInputError(
                f"{what} {spec}: line {line} has {len(first)} columns (indexes are 0-based)"
            )
        return index
    if spec not in header:
        if not any(header):
            raise InvalidInputError(f"{what} {spec!r}: the header row (line {line}) is empty")
        near = [name for name in header if name.casefold() == spec.casefold()]
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise InvalidInputError(f"{what} {spec!r}: not in the header row {header}{hint}")
    places = [i for i, name in enumerate(header) if name == spec]
    if len(places) > 1:
        # Taking the first would read the wrong column without a word: make the user choose.
        where = ", ".join(map(str, places[:-1])) + f" and {places[-1]}"
        raise InvalidInputError(
            f"{what} {spec!r}: the header row (line {line}) names columns {where} (0-based) "
            f"{spec!r}; choose one by 0-based INDEX (e.g. {what} {places[0]})"
        )
    return places[0]


def _excel_sep_line(blocks: Iterator[LineBlock]) -> tuple[LineBlock, str | None]:
    """The first block, without an Excel `sep=;` first line; and the delimiter it names.

    Excel writes and honours `sep=X` as a file's first line: X is the delimiter, and the line
    is no record (the header, if any, is line 2).
    """
    block = next(blocks)
    newline = block.body.find(b"\n")
    line = block.body if newline < 0 else block.body[:newline]
    line = line.rstrip(b"\r")
    if block.first != 1 or not (len(line) == 5 and line.lower().startswith(b"sep=")):
        return block, None
    sep = line[4:].decode("utf-8", "replace")
    rest = LineBlock(
        2,
        block.body[newline + 1 :] if newline >= 0 else b"",
        block.count - 1,
        {n: r for n, r in block.problems.items() if n > 1},
    )
    while not rest.count:
        more = next(blocks, None)
        if more is None:
            break
        rest = more
    return rest, sep


def _width(header: list[str], reader: Iterator[list[str]]) -> int:
    """Fields per row for --append: the header's, or the first row's when its extra fields
    are all empty (a trailing delimiter on every row, as some loggers write)."""
    try:
        row = next(reader, None)
    except csv.Error:
        row = None
    if row is not None and len(row) > len(header) and not any(row[len(header) :]):
        return len(row)
    return len(header)


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
        width=reader.width,
        decimal_comma=decimal_comma,
    )


class _CsvReader:
    """csv.reader over bounded blocks of lines, one block at a time.

    A block without a quote character holds one record per line: it is parsed in one call
    and never looked at record by record (the fast path). Otherwise each record's lines are
    tracked, and a record still open at the end of a block (an odd number of quotes) is
    carried into the next block, up to the record limit.
    """

    def __init__(
        self,
        blocks: Iterator[LineBlock],
        column: str,
        extra: tuple[str, ...],
        delimiter: str | None,
        decimal_comma: bool,
        keep_records: bool,
    ) -> None:
        first_block, excel_sep = _excel_sep_line(blocks)
        if delimiter is None:
            if excel_sep is not None:
                delimiter = excel_sep
            else:
                head = first_block.body[: first_block.body.find(b"\n")]
                delimiter = detect_delimiter(head.decode("utf-8", "replace"), decimal_comma)
        if len(delimiter) != 1 or delimiter in '"\r\n':
            raise InvalidInputError(f"delimiter {delimiter!r}: use one character (not a quote)")
        if decimal_comma and delimiter == ",":
            raise InvalidInputError(
                "a decimal comma needs a delimiter other than ',' (e.g. ';'): "
                "'32,5,Oslo' cannot be split"
            )
        self.blocks = blocks
        self.delimiter = delimiter
        self.column = column
        self.extra = extra
        self.decimal_comma = decimal_comma
        self.keep_records = keep_records
        self.missing = f"the row has no column {column!r}"
        self.header: list[str] | None = None
        self.header_record: bytes | None = None
        self.width = 0  # fields per row that --append lines labels up with (0: no header)
        self.rest: LineBlock | None = first_block  # what is left of the first block

        text = decode_block(first_block)
        if first_block.first in first_block.problems:
            # The header (or first row) is unreadable: every column name would be wrong.
            raise InvalidInputError(_unreadable_header(first_block), line=first_block.first)
        reader = csv.reader(io.StringIO(text, newline="\n"), delimiter=delimiter)
        try:
            first = next(reader, None)
        except csv.Error as exc:
            raise InvalidInputError(f"line {first_block.first}: {_csv_problem(exc)}") from None
        if first is None:
            self.index, self.extra_index, self.rest = 0, [], None
            self._getter: Callable[[list[str]], Any] = operator.itemgetter(0)
            return
        cells = [cell.strip() for cell in first]
        line = first_block.first
        self.index = _column_index(column, first, cells, "--column", line)
        # By index, a header is a first row whose cell in that column is not a number.
        has_header = not _is_index(column) or (
            parse_number(first[self.index].encode(), decimal_comma) is None
        )
        if not has_header and not all(_is_index(name) for name in extra):
            raise InvalidInputError(
                f"columns {list(extra)}: the input has no header row; name columns by INDEX"
            )
        self.extra_index = [_column_index(name, first, cells, "column", line) for name in extra]
        # Picks the value cell, or a tuple (value, *extra cells), from each row.
        self._getter = operator.itemgetter(self.index, *self.extra_index)
        if has_header:
            used = reader.line_num
            self.width = _width(first, reader)
            lines = first_block.body.split(b"\n", used)
            header = b"\n".join(lines[:used])
            if header.count(b'"') % 2 and len(lines) <= used:
                raise InvalidInputError(
                    f"line {line}: the header row runs on past its block (a quote left open?)"
                )
            self.header = cells
            self.header_record = header
            body = lines[used] if len(lines) > used else b""
            count = first_block.count - used
            self.rest = LineBlock(first_block.first + used, body, count, first_block.problems)
        elif keep_records:
            self.width = len(first)

    def _pieces(self) -> Iterator[LineBlock]:
        """Blocks to parse, each as soon as it has arrived (a live pipe is answered at once)."""
        rest, self.rest = self.rest, None
        if rest is not None and rest.count:
            yield rest
        yield from self.blocks

    def chunks(self, chunk_lines: int) -> Iterator[Chunk]:
        carry: LineBlock | None = None  # the start of a record still open at a block's end
        for block in self._pieces():
            if carry is not None:
                block = _joined(carry, block)
                carry = None
            if b'"' not in block.body:
                yield from self._simple(block, chunk_lines)
            else:
                carry = yield from self._quoted(block, False, chunk_lines)
        if carry is not None:
            yield from self._quoted(carry, True, chunk_lines)

    def _simple(self, block: LineBlock, chunk_lines: int) -> Iterator[Chunk]:
        """One record per line: cells found and parsed by `fastpath` when it can; else
        picked in one C-level pass of the csv module and parsed value by value."""
        from .fastpath import parse_spans, table_spans

        if not block.problems:
            columns = [self.index, *self.extra_index]
            spans = table_spans(block.body, self.delimiter, columns)
            if spans is not None:
                values = parse_spans(block.body, *spans[0], self.decimal_comma)
                if values is not None:
                    yield from self._parsed(block, values, spans, chunk_lines)
                    return
        texts = decode_block(block).split("\n")
        if block.body.endswith(b"\n"):
            texts.pop()
        known: dict[int, str] = {}
        try:
            # map + itemgetter: no Python frame per row, and no row list kept alive (a list
            # per row would wake the garbage collector again and again).
            picked = list(map(self._getter, csv.reader(texts, delimiter=self.delimiter)))
        except IndexError:  # a short row: pick row by row
            picked, known = self._pick(csv.reader(texts, delimiter=self.delimiter))
        except csv.Error as exc:
            raise InvalidInputError(f"line {block.first}: {_csv_problem(exc)}") from None
        raw = block.lines() if self.keep_records else None
        for start in range(0, len(picked), chunk_lines):
            part = picked[start : start + chunk_lines] if len(picked) > chunk_lines else picked
            first = block.first + start
            lines = range(first, first + len(part))
            records = raw[start : start + len(part)] if raw is not None else None
            part_known = {i - start: r for i, r in known.items() if start <= i < start + len(part)}
            yield self._chunk(part, part_known, lines, block.problems, records)

    def _parsed(
        self,
        block: LineBlock,
        values: npt.NDArray[np.float64],
        spans: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]],
        chunk_lines: int,
    ) -> Iterator[Chunk]:
        """Chunks of a block whose values the fast path read: only range checks are left."""
        body = block.body
        (starts, ends), extra_spans = spans[0], spans[1:]
        raw = block.lines() if self.keep_records else None
        for start, chunk in span_chunks(body, block.first, values, starts, ends, chunk_lines):
            stop = start + chunk_lines
            chunk.extra = {
                name: _cells(body, begins[start:stop], stops[start:stop])
                for name, (begins, stops) in zip(self.extra, extra_spans, strict=True)
            }
            if raw is not None:
                chunk.records = raw[start:stop]
                # The fast path takes only blocks whose every line has the same cell count.
                width = chunk.records[0].count(self.delimiter.encode()) + 1 if len(chunk) else 0
                self._fit(chunk, [width] * len(chunk))
            yield chunk

    def _pick(self, rows: Iterable[list[str]]) -> tuple[list[Any], dict[int, str]]:
        """What `_getter` picks from each row, row by row: a short row gets "" for its value
        (and None for a missing extra cell) and is reported as invalid."""
        getter, index, extra_index = self._getter, self.index, self.extra_index
        out: list[Any] = []
        known: dict[int, str] = {}
        for row in rows:
            try:
                out.append(getter(row))
            except IndexError:
                n = len(row)
                if n <= index:
                    known[len(out)] = self.missing if row else text("reason.empty_line")
                value = row[index] if n > index else ""
                out.append((value, *[row[i] if i < n else None for i in extra_index]))
        if not extra_index:
            out = [p[0] if type(p) is tuple else p for p in out] if known else out
        return out, known

    def _quoted(
        self, block: LineBlock, last: bool, chunk_lines: int
    ) -> Generator[Chunk, None, LineBlock | None]:
        """Records that may span lines; returns the open record at the end, if any."""
        reader = csv.reader(
            io.StringIO(decode_block(block), newline="\n"), delimiter=self.delimiter
        )
        raw = block.lines()
        rows: list[list[str]] = []
        spans: list[tuple[int, int]] = []
        prev = 0
        try:
            for record in reader:
                end = reader.line_num
                rows.append(record)
                spans.append((prev, end))
                prev = end
        except csv.Error as exc:
            raise InvalidInputError(f"line {block.first + prev}: {_csv_problem(exc)}") from None
        carry = None
        if spans and not last:
            begin, end = spans[-1]
            if b"\n".join(raw[begin:end]).count(b'"') % 2:
                # Still inside quotes: parse it again with the next block.
                body = b"\n".join(raw[begin:]) + b"\n"
                if len(body) > MAX_RECORD_BYTES:
                    raise InvalidInputError(
                        f"line {block.first + begin}: a record runs on past "
                        f"{MAX_RECORD_BYTES:,} bytes (a quote left open?)",
                        line=block.first + begin,
                    )
                problems = {n: r for n, r in block.problems.items() if n >= block.first + begin}
                carry = LineBlock(block.first + begin, body, len(raw) - begin, problems)
                rows.pop()
                spans.pop()
        for start in range(0, len(rows), chunk_lines):
            part_spans = spans[start : start + chunk_lines]
            lines = [block.first + b for b, _ in part_spans]
            records = [b"\n".join(raw[b:e]) for b, e in part_spans] if self.keep_records else None
            long_records = {
                i
                for i, (b, e) in enumerate(part_spans)
                if e - b > 1 and sum(map(len, rows[start + i])) > MAX_RECORD_BYTES
            }
            yield self._chunk(
                *self._pick(rows[start : start + chunk_lines]),
                lines,
                block.problems,
                records,
                spans=[(block.first + b, block.first + e - 1) for b, e in part_spans],
                long_records=long_records,
                widths=[max(len(row), 1) for row in rows[start : start + chunk_lines]],
            )
        return carry

    def _chunk(
        self,
        picked: list[Any],
        known: dict[int, str],
        lines: Sequence[int],
        problems: dict[int, str],
        records: list[bytes] | None,
        spans: list[tuple[int, int]] | None = None,
        long_records: set[int] | frozenset[int] = frozenset(),
        widths: list[int] | None = None,
    ) -> Chunk:
        tokens = [p[0] for p in picked] if self.extra else picked
        if problems:
            self._mark_problems(lines, spans, problems, known)
        for i in long_records:
            known[i] = f"the record is longer than {MAX_RECORD_BYTES:,} bytes"
        chunk = parse_tokens(
            tokens,
            lines[0],
            lines=lines if spans is not None else None,
            known=known,
            decimal_comma=self.decimal_comma,
            empty=f"the {self.column!r} cell is empty",
        )
        chunk.extra = {name: [p[k] for p in picked] for k, name in enumerate(self.extra, start=1)}
        chunk.records = records
        if records is not None:
            self._fit(chunk, widths)
        return chunk

    def _fit(self, chunk: Chunk, widths: list[int] | None = None) -> None:
        """Give a chunk read for --append its rows' field counts; a row with more fields than
        the header is invalid there: its label could not go under the 'label' column."""
        if widths is None:
            assert chunk.records is not None
            sep = self.delimiter.encode()
            widths = [record.count(sep) + 1 for record in chunk.records]
        chunk.widths = widths
        if not self.width or not widths or max(widths) <= self.width:
            return
        for i, width in enumerate(widths):
            if width > self.width and i not in chunk.invalid:
                chunk.invalid[i] = (
                    f"the row has {width} fields and the header {self.width}: "
                    "its label would not fall under the 'label' column"
                )
                chunk.values[i] = np.nan

    @staticmethod
    def _mark_problems(
        lines: Sequence[int],
        spans: list[tuple[int, int]] | None,
        problems: dict[int, str],
        known: dict[int, str],
    ) -> None:
        """Rows that hold a too-long or undecodable line are invalid, for that reason."""
        if spans is None:
            first, n = lines[0], len(lines)
            for number, reason in problems.items():
                if first <= number < first + n:
                    known[number - first] = reason
            return
        for i, (begin, end) in enumerate(spans):
            for number in range(begin, end + 1):
                if number in problems:
                    reason = problems[number]
                    known[i] = reason if begin == end else f"line {number} of the record: {reason}"
                    break


def _cells(
    body: bytes, begins: npt.NDArray[np.int64], stops: npt.NDArray[np.int64]
) -> list[str | None]:
    """The text of each cell, from its positions in a block."""
    return [body[b:e].decode("utf-8") for b, e in zip(begins.tolist(), stops.tolist(), strict=True)]


def _joined(carry: LineBlock, block: LineBlock) -> LineBlock:
    return LineBlock(
        carry.first,
        carry.body + block.body,
        carry.count + block.count,
        {**carry.problems, **block.problems},
    )


def _csv_problem(exc: csv.Error) -> str:
    if "new-line character" in str(exc):
        # The csv module's own hint ("universal-newline mode") is about opening files in
        # Python; a user needs to know which character is in the way.
        return (
            "a carriage return (CR) inside a field that is not quoted; quote the field, "
            "or give the file one kind of line end"
        )
    if "field limit" in str(exc):
        # csv's own bound on one field (128 KiB): reached by a quote that is never closed.
        return f"a field runs on past {csv.field_size_limit():,} bytes (a quote left open?)"
    return f"cannot read CSV ({exc})"


def _unreadable_header(block: LineBlock) -> str:
    """Why the first line cannot be read; for text that is not UTF-8, the byte and the fix."""
    line = block.first
    raw = block.body.split(b"\n", 1)[0]
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = raw[exc.start : exc.start + 1].hex()
        return (
            f"line {line}: the header is not valid UTF-8 text (byte 0x{byte}); if the file "
            "is in another encoding, pass --encoding (e.g. --encoding cp1252)"
        )
    return f"line {line}: {block.problems[line]}"
