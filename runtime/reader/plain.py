"""One value per line: the reader for `--input-format lines` (and arguments)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from ..errors import InvalidInputError
from .grammar import describe, parse_tokens, span_chunks
from .types import Chunk

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from .lines import LineBlock


def value_chunks(values: Iterable[str], *, decimal_comma: bool = False) -> Iterator[Chunk]:
    """Command-line values, numbered from 1 as 'argument N'."""
    tokens = [v.encode("utf-8", "surrogateescape") for v in values]
    chunk = parse_tokens(tokens, 1, decimal_comma=decimal_comma, empty="reason.empty_value")
    chunk.records = tokens
    yield chunk


def line_chunks(
    blocks: Iterator[LineBlock], chunk_lines: int, decimal_comma: bool, keep_records: bool
) -> Iterator[Chunk]:
    """Each line one value. A trailing newline ends the last line; it adds no empty line."""
    from .fastpath import parse_lines

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
    """Chunks of a block whose values the fast path read."""
    lines = block.lines() if keep_records else None
    for start, chunk in span_chunks(block.body, block.first, values, starts, ends, chunk_lines):
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
