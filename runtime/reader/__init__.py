"""Read Fahrenheit values from arguments, lines, CSV or JSON Lines, in bounded-memory chunks.

`open_input` is the one entry for files and streams: it undoes compression and encodings
(`sources`), splits lines with a bounded length (`lines`), detects the kind of input and hands
over to one reader per kind (`plain`, `delimited`, `jsonlines`). Every reader parses numbers
with the grammar in `grammar` (and may first try `fastpath`, which can decline a block).
Imports go one way: this module -> readers -> grammar, lines -> types; nothing imports back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING

from ..errors import InvalidInputError
from .plain import line_chunks, value_chunks
from .types import CHUNK_LINES, INPUT_FORMATS, Chunk, Input, InputFormat

if TYPE_CHECKING:
    from .lines import LineBlock

__all__ = [
    "CHUNK_LINES",
    "INPUT_FORMATS",
    "Chunk",
    "Input",
    "InputFormat",
    "open_input",
    "open_values",
]


def open_values(values: Iterable[str], *, decimal_comma: bool = False) -> Input:
    """Value strings (command-line arguments), numbered from 1 as 'argument N'."""
    return Input(value_chunks(values, decimal_comma=decimal_comma), decimal_comma=decimal_comma)


def open_input(
    stream: IO[bytes],
    column: str | None = None,
    *,
    extra: Sequence[str] = (),
    input_format: InputFormat = "auto",
    delimiter: str | None = None,
    decimal_comma: bool = False,
    encoding: str | None = None,
    keep_records: bool = False,
    chunk_lines: int = CHUNK_LINES,
) -> Input:
    """Open a byte stream of temperatures: detect its compression, encoding and kind.

    Args:
        stream: a binary stream (a file opened "rb", `sys.stdin.buffer`); never closed here.
            gzip, bz2 and xz are decompressed; a UTF-8 BOM is skipped; UTF-16 with a BOM is
            decoded; CR-only line ends (old spreadsheets) are read as line ends.
        column: the temperature column: a CSV header NAME or 0-based INDEX, or a JSON Lines
            field NAME. None for one value per line.
        extra: more columns / fields whose raw text each chunk carries in `Chunk.extra`.
        input_format: "auto" detects JSON Lines (first record starts with '{'), else CSV
            when `column` is given, else one value per line; or force "lines", "csv", "jsonl".
        delimiter: the CSV delimiter; by default the one an Excel `sep=` first line names,
            else the one of `,` `;` TAB `|` that occurs most often in the first line (outside
            quotes; ties go to the earlier in that list).
        decimal_comma: read `32,5` as 32.5 (refused with a comma delimiter).
        encoding: the text's codec (any text encoding Python knows, e.g. "cp1252",
            "utf-16-le"); None: UTF-8, or UTF-16 when a byte-order mark says so.
        keep_records: fill `Chunk.records` with each row's raw text (for writing rows back).

    Raises:
        InvalidInputError: options that contradict each other or the input, a column not in
            the header or named twice there, binary or undecodable input (naming the line).
    """
    # Files only: `fclf-edge predict 33` never imports the stream machinery.
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
    blocks = line_blocks(utf8_blocks(stream, block_bytes, found, encoding=encoding))
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
        chunks = line_chunks(rest, chunk_lines, decimal_comma, keep_records)
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
    from .delimited import open_csv

    return open_csv(rest, column, extra, delimiter, decimal_comma, keep_records, chunk_lines)


def _prepend(first: LineBlock, rest: Iterator[LineBlock]) -> Iterator[LineBlock]:
    yield first
    yield from rest
